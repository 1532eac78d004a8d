/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The backups the host keeps, as the relay last reported them (it prunes old ones), newest first:
// when each was taken, its size and files, the deployment that took it and the commit deployed
// before it. Operators get a link to restore one, which leads to the confirmation page.
import type { BackupInventory } from '../../../shared/api.ts';
import { byteSize } from '../format.ts';
import { ShaLink, Time } from './parts.tsx';

export function BackupsPanel(props: { target: string; repo: string; inventory: BackupInventory | null; operator: boolean; now: number }) {
  const base = `/targets/${props.target}`;
  const inventory = props.inventory;
  if (!inventory) {
    return (
      <section class="card" id="backups" data-inventory="none">
        <h2>Backups</h2>
        <p class="muted small">
          The relay has not said which backups the host keeps (a relay older than this edge never does), so the history offers every backup a
          deployment recorded, even one the relay may have pruned since. On the relay, <code>relay backups</code> lists them.
        </p>
      </section>
    );
  }
  const items = [...inventory.items].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
  return (
    <section class="card" id="backups" data-inventory="reported">
      <h2>Backups</h2>
      {items.length ? (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th>Backup</th>
                <th>Taken</th>
                <th>Size</th>
                <th>Files</th>
                <th>Taken by</th>
                <th>Deployed before</th>
              </tr>
            </thead>
            <tbody>
              {items.map((b) => (
                <tr data-backup={b.id}>
                  <td class="id" data-label="Backup">
                    <code>{b.id}</code>
                    {props.operator ? (
                      <div class="actions small">
                        <a data-action="restore" href={`${base}/rollback?backupId=${encodeURIComponent(b.id)}`}>
                          Restore…
                        </a>
                      </div>
                    ) : null}
                  </td>
                  <td data-label="Taken">
                    <Time at={b.createdAt} now={props.now} />
                  </td>
                  <td data-label="Size" data-bytes={b.bytes}>
                    {byteSize(b.bytes)}
                  </td>
                  <td data-label="Files" data-files={b.files}>
                    {b.files}
                  </td>
                  <td data-label="Taken by">
                    {b.deploymentId ? (
                      <a href={`${base}?deployment=${encodeURIComponent(b.deploymentId)}`}>
                        <code>{b.deploymentId}</code>
                      </a>
                    ) : (
                      <span class="muted">—</span>
                    )}
                  </td>
                  <td data-label="Deployed before">{b.sha ? <ShaLink repo={props.repo} sha={b.sha} /> : <span class="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="muted">The host keeps no backups yet: the first deploy that changes something takes one.</p>
      )}
      <p class="muted small">
        As the relay reported <Time at={inventory.reportedAt} now={props.now} />. It keeps the last <code>deploy.keepBackups</code> and prunes
        older ones; only these can be restored.
      </p>
    </section>
  );
}
