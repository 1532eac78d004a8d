/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// A target's deployments, newest first: status, trigger, duration, changed files, reload or
// restart, backup. Operators get links to roll back to a deployment or restore its backup (only a
// backup the relay still keeps, once it has said which those are); those lead to a confirmation
// page, never straight to an action.
import type { BackupInventory, DeploymentView } from '../../../shared/api.ts';
import { pathCount } from '../../../shared/deployment.ts';
import { mayBeKept } from '../../hub/backup-inventory.ts';
import { activationLabel, deploymentDuration, duration, firstLine } from '../format.ts';
import { Badge, PathItems, ShaLink, Time } from './parts.tsx';
import { ReleaseTagLabel } from './release-tag.tsx';

export function HistoryTable(props: {
  target: string;
  repo: string;
  history: DeploymentView[];
  selectedId: string | null;
  olderBefore: string | null;
  paged: boolean;
  operator: boolean;
  /** The backups the relay last said it keeps; null when it never said (then every recorded backup is offered). */
  inventory: BackupInventory | null;
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
                <HistoryRow deployment={d} base={base} repo={props.repo} selected={d.id === props.selectedId} operator={props.operator} inventory={props.inventory} now={props.now} />
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

function HistoryRow(props: { deployment: DeploymentView; base: string; repo: string; selected: boolean; operator: boolean; inventory: BackupInventory | null; now: number }) {
  const d = props.deployment;
  const summary = d.summary;
  const backupId = summary?.backupId ?? null;
  // The same rule the hub applies before it queues a restore.
  const backupKept = backupId !== null && mayBeKept(props.inventory, backupId, d.finishedAt);
  const files = summary ? pathCount(summary, 'filesChanged') + pathCount(summary, 'filesDeleted') : 0;
  return (
    <tr data-deployment={d.id} data-status={d.status} class={props.selected ? 'selected' : undefined}>
      <td class="id" data-label="Deployment">
        <a href={`${props.base}?deployment=${encodeURIComponent(d.id)}`}>
          <code>{d.id}</code>
        </a>
        <div class="muted small">
          <Time at={d.createdAt} />
        </div>
        {props.operator ? <RowActions deployment={d} base={props.base} restorable={backupKept} /> : null}
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
        <ReleaseTagLabel deployment={d} /> <ShaLink repo={props.repo} sha={d.sha} /> <span class="message small">{firstLine(d.message)}</span>
      </td>
      <td data-label="Duration" data-col="duration">{duration(deploymentDuration(d))}</td>
      <td data-label="Files" data-col="files" data-files={files}>
        {summary && files ? (
          <details>
            <summary>
              {pathCount(summary, 'filesChanged')} changed{summary.filesDeleted.length ? `, ${pathCount(summary, 'filesDeleted')} deleted` : ''}
            </summary>
            <ul class="files">
              <PathItems summary={summary} list="filesChanged" />
              <PathItems summary={summary} list="filesDeleted" note="(deleted)" />
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
        {backupId ? (
          <>
            <code>{backupId}</code>
            {backupKept ? null : (
              <div class="muted small" data-pruned>
                no longer kept
              </div>
            )}
          </>
        ) : (
          <span class="muted">—</span>
        )}
      </td>
    </tr>
  );
}

/** What an operator may do from a row; each link opens a confirmation page. */
function RowActions(props: { deployment: DeploymentView; base: string; restorable: boolean }) {
  const d = props.deployment;
  const backupId = props.restorable ? (d.summary?.backupId ?? null) : null;
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
