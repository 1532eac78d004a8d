/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// A target at a glance, as the overview and the target page both show it: what it is doing, its
// relay, the deployed commit, drift, and the last result.
import type { DeploymentView, StepEvent, TargetStatus, Waiting } from '../../../shared/api.ts';
import { httpUrlOrNull } from '../../../shared/http-url.ts';
import { firstLine, shortSha } from '../format.ts';
import { latestStep, stepRows } from '../step-rows.ts';
import { Badge, Commit, Time } from './parts.tsx';

/** `idle`, `deploying` (with the step), `queued`: the word and the sentence beside it. */
export function activity(status: TargetStatus, currentSteps: readonly StepEvent[]): { state: string; text: string } {
  const current = status.current;
  if (current) {
    const what = `${current.kind === 'rollback' ? 'rollback to ' : ''}${shortSha(current.sha)}`;
    if (current.status === 'dispatched') return { state: 'deploying', text: `${what}: handed to the relay` };
    const step = latestStep(stepRows(current, currentSteps));
    const where = step ? `${step.step} ${step.state === 'running' ? 'running' : step.state}` : 'starting';
    return { state: 'deploying', text: `${what}: ${where}` };
  }
  if (status.queued.length) {
    const held = status.freeze ? ', held by the freeze' : status.relay.connected ? '' : ', waiting for the relay to connect';
    return { state: 'queued', text: `${status.queued.length} queued${held}` };
  }
  return { state: 'idle', text: 'idle' };
}

export function TargetFacts(props: { repo: string; status: TargetStatus; currentSteps: readonly StepEvent[]; now: number }) {
  const { status, repo, now } = props;
  const doing = activity(status, props.currentSteps);
  const last = status.lastFinished;
  // What the relay's drift watch saw last, when it reports; else what the last deploy's plan found.
  const watched = status.drift ?? null;
  const drift = watched ? watched.files.map((f) => f.path) : (last?.summary?.drift ?? []);
  const driftCount = watched ? watched.total : drift.length;
  return (
    <dl class="facts">
      <dt>State</dt>
      <dd data-fact="state" data-state={doing.state}>
        <Badge state={doing.state} /> {doing.state === 'idle' ? null : <span>{doing.text}</span>}
      </dd>
      <dt>Relay</dt>
      <dd data-fact="relay" data-connected={String(status.relay.connected)}>
        <Badge state={status.relay.connected ? 'connected' : 'disconnected'} text={status.relay.connected ? 'connected' : 'not connected'} />
        {status.relay.since !== null ? (
          <span>
            {' '}since <Time at={status.relay.since} now={now} />
          </span>
        ) : (
          <span class="muted"> never connected</span>
        )}
        {status.relay.connected && status.relay.relayId ? (
          <span class="muted small">
            {' '}
            {status.relay.relayId} {status.relay.version ? `v${status.relay.version}` : ''}
          </span>
        ) : null}
      </dd>
      <dt>Deployed</dt>
      <dd data-fact="deployed" data-sha={status.deployed?.sha}>
        {status.deployed ? <Commit repo={repo} sha={status.deployed.sha} message={status.deployed.message} author={status.deployed.author} /> : <span class="muted">nothing deployed yet</span>}
      </dd>
      <dt>Last result</dt>
      <dd data-fact="last-result" data-status={last?.status}>
        {last ? <LastResult deployment={last} now={now} /> : <span class="muted">none yet</span>}
      </dd>
      {drift.length ? (
        <>
          <dt>Drift</dt>
          <dd data-fact="drift">
            <Badge state="drift" text={`${driftCount} file${driftCount === 1 ? '' : 's'} changed on the host`} />{' '}
            <span class="message">
              {drift.slice(0, 20).join(', ')}
              {driftCount > Math.min(drift.length, 20) ? ` … and ${driftCount - Math.min(drift.length, 20)} more` : ''}
            </span>
          </dd>
        </>
      ) : null}
      {status.waiting ? <WaitingFact waiting={status.waiting} /> : null}
      {status.outward && status.outward.problems.length ? (
        <>
          <dt>Outward</dt>
          <dd data-fact="outward" class="small">
            {status.outward.problems.length} message{status.outward.problems.length === 1 ? '' : 's'} to GitHub or notifications not delivered
            {status.outward.problems[0]?.lastError ? <span class="muted"> (last error: {status.outward.problems[0].lastError})</span> : null}
          </dd>
        </>
      ) : null}
    </dl>
  );
}

/** The commit a gated target waits to deploy, or, when its workflow failed, why it will not. */
function WaitingFact(props: { waiting: Waiting }) {
  const w = props.waiting;
  const conclusion = w.conclusion ?? null;
  // Only an http(s) link reaches the href, whatever the hub (or an older edge) answered.
  const run = httpUrlOrNull(w.url ?? null);
  return (
    <>
      <dt>{conclusion ? 'Held back' : 'Waiting'}</dt>
      <dd data-fact="waiting" data-conclusion={conclusion ?? undefined}>
        <Badge state={conclusion ? 'failed' : 'waiting'} /> {w.text}
        {run ? (
          <>
            {' '}
            <a href={run} rel="noopener noreferrer" data-workflow-run>
              workflow run
            </a>
          </>
        ) : null}
      </dd>
    </>
  );
}

function LastResult(props: { deployment: DeploymentView; now: number }) {
  const d = props.deployment;
  return (
    <span>
      <Badge state={d.status} /> <span class="sha">{shortSha(d.sha)}</span>
      {d.finishedAt !== null ? (
        <>
          {' '}
          <Time at={d.finishedAt} now={props.now} />
        </>
      ) : null}
      {d.reason ? (
        <span class="message small clamp" title={d.reason}>
          {firstLine(d.reason)}
        </span>
      ) : null}
    </span>
  );
}
