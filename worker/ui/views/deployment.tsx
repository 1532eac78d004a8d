/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// One deployment: its progress step by step with durations (live while it runs), what it changed,
// and its log: the step events the relay reported, and where the hub dropped some (it keeps the
// first and the latest within a budget), how many and how big.
import { ReleaseTagLabel } from './release-tag.tsx';
import type { Child } from 'hono/jsx';
import { isFinal, pathCount } from '../../../shared/deployment.ts';
import type { DroppedSteps, StepEvent } from '../../../shared/api.ts';
import { activationLabel, byteSize, duration, deploymentDuration, shortSha } from '../format.ts';
import { stepRows } from '../step-rows.ts';
import type { DeploymentDetail } from '../target-data.ts';
import { Badge, Commit, PathItems, Time } from './parts.tsx';
import { HomeAssistantBackupFact } from './ha-backup.tsx';

/**
 * `retryHref`: where an operator tries this deployment again (the newest, a deploy that failed or was
 * rolled back), once what stopped it has changed; null where that is not offered. `driftWaysOn`: the
 * ways on when it stopped on drift (drift.tsx).
 */
export function DeploymentPanel(props: { repo: string; detail: DeploymentDetail; pinned: boolean; retryHref: string | null; driftWaysOn?: Child; now: number; homeAssistantUrl?: string | undefined }) {
  const { deployment: d, steps, droppedSteps } = props.detail;
  // The dropped events were between the first ones kept and the latest.
  const cut = droppedSteps?.after ?? steps.length;
  const rows = stepRows(d, steps);
  const summary = d.summary;
  const took = deploymentDuration(d);
  return (
    <section class="card" id="deployment" data-deployment={d.id} data-status={d.status}>
      <div class="target-head">
        <h2>
          {d.kind === 'rollback' ? 'Rollback' : 'Deployment'} <code>{d.id}</code>
        </h2>
        <Badge state={d.status} />
      </div>
      <dl class="facts">
        <dt>Commit</dt>
        <dd>
          <ReleaseTagLabel deployment={d} /> <Commit repo={props.repo} sha={d.sha} message={d.message} author={d.author} />
        </dd>
        <dt>Asked by</dt>
        <dd>
          {d.actor} <span class="muted">({d.trigger})</span> · <Time at={d.createdAt} now={props.now} />
        </dd>
        {d.rollbackOf || d.restoreBackupId ? (
          <>
            <dt>Goes back to</dt>
            <dd>{d.restoreBackupId ? <>backup <code>{d.restoreBackupId}</code></> : <code>{d.rollbackOf}</code>}</dd>
          </>
        ) : null}
        {d.reason ? (
          <>
            <dt>Reason</dt>
            <dd class="message" data-fact="reason">
              {d.reason}
            </dd>
          </>
        ) : null}
        {props.retryHref ? (
          <>
            <dt>Once fixed</dt>
            <dd>
              <a class="button" data-action="retry" href={props.retryHref}>
                Try {shortSha(d.sha)} again
              </a>{' '}
              <span class="muted small">after you changed what stopped it, e.g. the line the reason names</span>
            </dd>
          </>
        ) : null}
        {d.driftChoice ? (
          <>
            <dt>Way on from drift</dt>
            <dd data-fact="drift-choice">
              {d.driftChoice === 'overwrite' ? 'overwrite the host\'s edits (after backup), for this deployment only' : 'keep the host\'s versions, for this deployment only'}
            </dd>
          </>
        ) : null}
        {props.driftWaysOn ? (
          <>
            <dt>Stopped on drift</dt>
            <dd>{props.driftWaysOn}</dd>
          </>
        ) : null}
        {took !== null ? (
          <>
            <dt>Took</dt>
            <dd>{duration(took)}</dd>
          </>
        ) : null}
      </dl>

      <h3>Steps</h3>
      {rows.length ? (
        <ol class="steps">
          {rows.map((r) => (
            <li data-step={r.step} data-status={r.state}>
              <span class="step-name">{r.step}</span>
              <span class="step-state">
                <Badge state={r.state} />
              </span>
              <span class="step-duration muted">
                {r.state === 'running' && r.startedAt !== null ? <span data-since={r.startedAt}>{duration(props.now - r.startedAt)}</span> : r.durationMs !== null ? duration(r.durationMs) : ''}
              </span>
              <span class="step-message small">{r.state === 'pending' ? '' : r.message}</span>
            </li>
          ))}
        </ol>
      ) : (
        <p class="muted" data-no-steps>
          {isFinal(d.status) ? 'The relay reported no steps.' : d.status === 'queued' ? 'Queued: waiting for its turn and a connected relay.' : 'Handed to the relay; waiting for its first step.'}
        </p>
      )}

      {summary ? (
        <>
          <h3>Result</h3>
          <dl class="facts" data-summary>
            <dt>Files changed</dt>
            <dd data-fact="files-changed">
              {summary.filesChanged.length ? (
                <ul class="files">
                  <PathItems summary={summary} list="filesChanged" />
                </ul>
              ) : (
                'none'
              )}
            </dd>
            {summary.filesDeleted.length ? (
              <>
                <dt>Files deleted</dt>
                <dd>
                  <ul class="files">
                    <PathItems summary={summary} list="filesDeleted" />
                  </ul>
                </dd>
              </>
            ) : null}
            <dt>Activation</dt>
            <dd>{activationLabel(d)}</dd>
            <dt>Backup</dt>
            <dd>{summary.backupId ? <code>{summary.backupId}</code> : 'none'}</dd>
            {summary.homeAssistantBackup ? <HomeAssistantBackupFact backup={summary.homeAssistantBackup} environmentUrl={props.homeAssistantUrl} /> : null}
            {summary.drift.length ? (
              <>
                <dt>Drift</dt>
                <dd class="message">
                  {summary.drift.join(', ')}
                  {pathCount(summary, 'drift') > summary.drift.length ? ` … and ${pathCount(summary, 'drift') - summary.drift.length} more` : ''}
                </dd>
              </>
            ) : null}
          </dl>
        </>
      ) : null}

      <details id="deployment-log" open={props.pinned ? true : undefined}>
        <summary>
          Log: {steps.length} step event{steps.length === 1 ? '' : 's'} for <span class="sha">{shortSha(d.sha)}</span>
          {droppedSteps ? `, ${droppedSteps.events} more dropped` : ''}
        </summary>
        <ol class="events" data-log>
          {steps.slice(0, cut).map((e) => (
            <LogEvent event={e} />
          ))}
          {droppedSteps ? <DroppedMarker dropped={droppedSteps} /> : null}
          {steps.slice(cut).map((e) => (
            <LogEvent event={e} />
          ))}
        </ol>
      </details>
    </section>
  );
}

function LogEvent(props: { event: StepEvent }) {
  const e = props.event;
  return (
    <li data-event-step={e.step} data-event-status={e.status}>
      <Time at={e.at} /> · <b>{e.step}</b> {e.status}
      {e.durationMs !== null ? <span class="muted"> ({duration(e.durationMs)})</span> : null}: <span class="message">{e.message}</span>
    </li>
  );
}

/** Where the hub let events go: the relay sent more, or bigger, than a deployment's log keeps. */
function DroppedMarker(props: { dropped: DroppedSteps }) {
  const { events, bytes } = props.dropped;
  return (
    <li class="muted" data-dropped-events={events} data-dropped-bytes={bytes}>
      … {events} step event{events === 1 ? '' : 's'} ({byteSize(bytes)}) dropped: the relay sent more than a deployment's log keeps …
    </li>
  );
}
