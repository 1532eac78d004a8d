/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Drift on the target: what the relay's drift watch last reported (files changed on the host since
// the last deploy, how, since when, and the diff of each text file, folded away until opened), and,
// while the newest deploy is stopped on drift, the ways on for that deployment. Only what the report
// carries is shown: the relay never reads protected paths, so no secret can be in it. Every diff line
// is a child of a <span>, which hono/jsx escapes.
import type { DriftView } from '../../../shared/api.ts';
import type { DriftedFile } from '../../../shared/drift.ts';
import { shortSha } from '../format.ts';
import { Badge, ShaLink, Time } from './parts.tsx';

const CHANGE_WORDS: Record<DriftedFile['change'], string> = { modified: 'edited on the host', added: 'added on the host', deleted: 'deleted on the host' };

export function DriftPanel(props: { target: string; repo: string; drift: DriftView | null; stoppedOnDrift: string | null; operator: boolean; now: number }) {
  const { drift, stoppedOnDrift } = props;
  if (!drift && !stoppedOnDrift) return null;
  const files = drift?.files ?? [];
  const more = drift ? drift.total - files.length : 0;
  return (
    <section class="card" id="drift" data-drift-files={drift ? String(drift.total) : undefined}>
      <div class="target-head">
        <h2>Drift on the host</h2>
        {drift ? (
          drift.total ? <Badge state="drift" text={`${drift.total} file${drift.total === 1 ? '' : 's'} changed`} /> : <Badge state="succeeded" text="no drift" />
        ) : null}
      </div>
      {drift ? (
        <p class="muted small" data-drift-checked>
          The relay last looked <Time at={drift.at} now={props.now} />
          {drift.deployedSha ? (
            <>
              {' '}
              against the deployed <ShaLink repo={props.repo} sha={drift.deployedSha} />
            </>
          ) : null}
          .
        </p>
      ) : (
        <p class="muted small">The relay has not reported drift between deploys (a relay older than this edge does not).</p>
      )}
      {stoppedOnDrift ? <DriftWaysOn target={props.target} deploymentId={stoppedOnDrift} operator={props.operator} /> : null}
      {drift && !drift.total ? <p data-no-drift>The host has what Lanyard deployed.</p> : null}
      {files.length ? (
        <ul class="drift-files">
          {files.map((f) => (
            <DriftedFileItem file={f} now={props.now} />
          ))}
          {more > 0 ? <li class="muted">… and {more} more</li> : null}
        </ul>
      ) : null}
    </section>
  );
}

function DriftedFileItem(props: { file: DriftedFile; now: number }) {
  const f = props.file;
  return (
    <li data-drift-path={f.path} data-change={f.change}>
      <code>{f.path}</code> <span class="muted">{CHANGE_WORDS[f.change]}</span> <span class="small">since <Time at={f.since} now={props.now} /></span>
      {f.diff !== null ? (
        // An id per file, so a diff the reader opened stays open when the live fragment is swapped in.
        <details data-diff id={`drift-diff-${encodeURIComponent(f.path)}`}>
          <summary class="small">Diff, deployed → host</summary>
          <pre class="diff">
            {f.diff.replace(/\n$/, '').split('\n').map((line) => (
              <span class={line.startsWith('+') && !line.startsWith('+++') ? 'add' : line.startsWith('-') && !line.startsWith('---') ? 'del' : line.startsWith('@@') ? 'hunk' : undefined}>{`${line}\n`}</span>
            ))}
          </pre>
        </details>
      ) : null}
      {f.diffNote ? <p class="muted small" data-diff-note>{f.diffNote}</p> : null}
    </li>
  );
}

/** Where an operator takes a way on from a deploy stopped on drift, for that deployment only. */
export function driftChoiceHref(target: string, deploymentId: string, choice: 'overwrite' | 'keep'): string {
  return `/targets/${target}/retry?deploymentId=${encodeURIComponent(deploymentId)}&drift=${choice}`;
}

/**
 * The ways on from a deploy stopped on drift, for that deployment only; each leads to the retry
 * confirmation page. The target's own drift policy stays as it is.
 */
export function DriftWaysOn(props: { target: string; deploymentId: string; operator: boolean }) {
  return (
    <div class="drift-ways" data-drift-ways={props.deploymentId}>
      <p class="small">
        Deployment <code>{props.deploymentId}</code> stopped on these edits; nothing was written. Ways on, for that deployment only:
      </p>
      {props.operator ? (
        <div class="actions">
          <a class="button" data-action="drift-capture" href={`/targets/${props.target}/capture?deploymentId=${encodeURIComponent(props.deploymentId)}`}>
            Capture these edits first…
          </a>
          <a class="button" data-action="drift-overwrite" href={driftChoiceHref(props.target, props.deploymentId, 'overwrite')}>
            Overwrite them (after backup)…
          </a>
          <a class="button" data-action="drift-keep" href={driftChoiceHref(props.target, props.deploymentId, 'keep')}>
            Keep the host's versions…
          </a>
        </div>
      ) : (
        <p class="muted small">An operator can capture these edits into a pull request, overwrite them (after backup), or keep the host's versions.</p>
      )}
    </div>
  );
}

/** The retry confirmation's words for a way on from drift. */
export function driftChoiceWords(choice: 'overwrite' | 'keep', sha: string): { question: string; details: string[]; button: string } {
  if (choice === 'overwrite') {
    return {
      question: `overwriting the files changed on the host with ${shortSha(sha)}`,
      details: [
        'For this deployment only, the files changed on the host are overwritten with the repository\'s versions, after the backup (restore it from Backups to get the host\'s versions back).',
        'The relay has the last word: unless its relay.yaml sets deploy.allowDriftOverwrite: true, it stops on the drift again, with nothing written.',
        'The target\'s drift policy stays as it is.',
      ],
      button: `Overwrite and deploy ${shortSha(sha)}`,
    };
  }
  return {
    question: `keeping the host's versions of the files changed there`,
    details: [
      'For this deployment only, everything else in the commit is deployed and the files changed on the host are left as the host has them.',
      'They still differ from the repository afterwards: the next deploy meets them again until the repository has the host\'s edits.',
      'The target\'s drift policy stays as it is.',
    ],
    button: `Deploy ${shortSha(sha)}, keeping the host's versions`,
  };
}
