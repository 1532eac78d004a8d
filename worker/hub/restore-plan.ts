// Restoring a backup the relay took before a deployment: what it brings back (the commit deployed
// before that deployment ran) and whether it can still be done (the relay prunes old backups; its
// last report of what it keeps decides). The queue and the status page ask the same question, so
// the button is offered exactly when the restore would be queued.
import type { BackupInventory, DeploymentView } from '../../shared/api.ts';
import type { KeptBackup } from '../../shared/protocol.ts';
import { quoteInput } from '../http/quote-input.ts';
import { keptBackup, mayBeKept } from './backup-inventory.ts';
import type { Hub } from './hub.ts';
import { accepted, refused, type HubResult } from './hub-result.ts';

/** What restoring a backup brings back, as the hub decides it for the queue and the status page alike. */
export interface BackupRestore {
  backupId: string;
  /** The commit the house runs again afterwards: the one deployed before the backup was taken. */
  sha: string;
  /** The deployment that took the backup, when this hub recorded it. */
  maker: DeploymentView | null;
  /** The backup as the relay last listed it; null when no relay ever reported an inventory. */
  kept: KeptBackup | null;
}

/** Whether a backup can be restored, and what that brings back (the commit the house runs again afterwards). */
export function planRestore(hub: Hub, backupId: string): HubResult<BackupRestore> {
  const inventory = hub.backupInventory.read();
  const kept = keptBackup(inventory, backupId);
  // The deployment that took it: the first one whose summary names it (a later restore names it too).
  const maker = hub.deployments.all().find((d) => d.summary?.backupId === backupId) ?? null;
  if (!maker && !kept) return refused(404, 'unknown_backup', `No deployment of this target made a backup named ${quoteInput(backupId, 130)}.`);
  if (inventory && !mayBeKept(inventory, backupId, maker?.finishedAt ?? null)) return refused(409, 'backup_not_kept', notKept(backupId, inventory));
  // A backup holds the host as it was before its deployment ran: the deployed commit back then.
  const sha = maker ? (hub.deployments.latest(['succeeded'], maker.id)?.sha ?? maker.sha) : kept?.sha;
  if (!sha) {
    return refused(409, 'unknown_backup_commit', `No deployment of this target took backup "${backupId}", and the relay does not know which commit was deployed before it.`);
  }
  return accepted({ backupId, sha, maker, kept });
}

function notKept(backupId: string, inventory: BackupInventory): string {
  const count = inventory.items.length;
  const instead = count
    ? `Roll back to a deployment instead, or restore one of the ${count} backup${count === 1 ? '' : 's'} it keeps.`
    : 'It keeps no backups now: roll back to a deployment instead.';
  return (
    `The relay no longer keeps backup "${backupId}" on the host: it was pruned (the relay keeps its last deploy.keepBackups backups, ` +
    `and its report of ${new Date(inventory.reportedAt).toISOString()} does not list this one). ${instead}`
  );
}
