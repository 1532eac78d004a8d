/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// A target's deployments, newest first: status, trigger, duration, changed files, reload or
// restart, backup. Operators get links to roll back to a deployment or restore its backup; those
// lead to a confirmation page, never straight to an action.
import type { DeploymentView } from '../../../shared/api.ts';
import { activationLabel, deploymentDuration, duration, firstLine } from '../format.ts';
import { Badge, ShaLink, Time } from './parts.tsx';

export function HistoryTable(props: {
  target: string;
  repo: string;
  history: DeploymentView[];
  selectedId: string | null;
  olderBefore: string | null;
  paged: boolean;
  operator: boolean;
  now: number;
}) {
  const base = `/targets/${props.target}`;
  return (
    <section class="card" id="history">
      <h2>History</h2>
      {props.history.length ? (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th>Deployment</th>
                <th>Status</th>
                <th>Trigger</th>
                <th>Commit</th>
                <th>Duration</th>
                <th>Files</th>
                <th>Activation</th>
                <th>Backup</th>
              </tr>
            </thead>
            <tbody>
              {props.history.map((d) => (
                <HistoryRow deployment={d} base={base} repo={props.repo} selected={d.id === props.selectedId} operator={props.operator} now={props.now} />
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="muted">No deployments yet.</p>
      )}
      <p class="small">
        {props.paged ? <a href={base}>Newest</a> : null}
        {props.paged && props.olderBefore ? ' · ' : null}
        {props.olderBefore ? <a href={`${base}?before=${encodeURIComponent(props.olderBefore)}`}>Older</a> : null}
      </p>
    </section>
  );
}

function HistoryRow(props: { deployment: DeploymentView; base: string; repo: string; selected: boolean; operator: boolean; now: number }) {
  const d = props.deployment;
  const summary = d.summary;
  const files = summary ? summary.filesChanged.length + summary.filesDeleted.length : 0;
  return (
    <tr data-deployment={d.id} data-status={d.status} class={props.selected ? 'selected' : undefined}>
      <td class="id" data-label="Deployment">
        <a href={`${props.base}?deployment=${encodeURIComponent(d.id)}`}>
          <code>{d.id}</code>
        </a>
        <div class="muted small">
          <Time at={d.createdAt} />
        </div>
        {props.operator ? <RowActions deployment={d} base={props.base} /> : null}
      </td>
      <td class="status" data-label="Status">
        <Badge state={d.status} />
        {d.reason ? (
          <div class="muted small message clamp" title={d.reason}>
            {firstLine(d.reason)}
          </div>
        ) : null}
      </td>
      <td data-label="Trigger" data-col="trigger">
        {d.kind === 'rollback' ? 'rollback' : d.trigger}
        <div class="muted small">{d.actor}</div>
      </td>
      <td class="commit" data-label="Commit" data-col="commit">
        <ShaLink repo={props.repo} sha={d.sha} /> <span class="message small">{firstLine(d.message)}</span>
      </td>
      <td data-label="Duration" data-col="duration">{duration(deploymentDuration(d))}</td>
      <td data-label="Files" data-col="files" data-files={files}>
        {summary && files ? (
          <details>
            <summary>
              {summary.filesChanged.length} changed{summary.filesDeleted.length ? `, ${summary.filesDeleted.length} deleted` : ''}
            </summary>
            <ul class="files">
              {summary.filesChanged.map((f) => (
                <li>
                  <code>{f}</code>
                </li>
              ))}
              {summary.filesDeleted.map((f) => (
                <li>
                  <code>{f}</code> <span class="muted">(deleted)</span>
                </li>
              ))}
            </ul>
          </details>
        ) : (
          <span class="muted">{summary ? 'none' : '—'}</span>
        )}
      </td>
      <td data-label="Activation" data-col="activation">
        {activationLabel(d)}
      </td>
      <td class="backup" data-label="Backup" data-col="backup">
        {summary?.backupId ? <code>{summary.backupId}</code> : <span class="muted">—</span>}
      </td>
    </tr>
  );
}

/** What an operator may do from a row; each link opens a confirmation page. */
function RowActions(props: { deployment: DeploymentView; base: string }) {
  const d = props.deployment;
  const backupId = d.summary?.backupId ?? null;
  if (d.status !== 'succeeded' && d.status !== 'queued' && !backupId) return null;
  return (
    <div class="actions small">
      {d.status === 'succeeded' ? (
        <a data-action="rollback" href={`${props.base}/rollback?deploymentId=${encodeURIComponent(d.id)}`}>
          Roll back to this
        </a>
      ) : null}
      {backupId ? (
        <a data-action="restore" href={`${props.base}/rollback?backupId=${encodeURIComponent(backupId)}`}>
          Restore its backup
        </a>
      ) : null}
      {d.status === 'queued' ? (
        <a data-action="cancel" href={`${props.base}/cancel?deploymentId=${encodeURIComponent(d.id)}`}>
          Cancel
        </a>
      ) : null}
    </div>
  );
}
