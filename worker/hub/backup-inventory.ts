// The backups the relay last said the host keeps, in the hub's meta table. The relay prunes old
// backups (`deploy.keepBackups`), so only what this lists can still be restored. No report ever
// (an older relay) means no inventory: then every backup a deployment recorded is offered, as before.
import { BackupInventory } from '../../shared/api.ts';
import type { BackupsMessage, KeptBackup } from '../../shared/protocol.ts';

const KEY = 'backup_inventory';

export class BackupInventoryStore {
  constructor(private readonly sql: SqlStorage) {}

  /** The last inventory, or null when no relay ever reported one (or what is stored no longer parses). */
  read(): BackupInventory | null {
    const row = this.sql.exec('SELECT value FROM meta WHERE key = ?', KEY).toArray()[0];
    if (!row) return null;
    try {
      const parsed = BackupInventory.safeParse(JSON.parse(String(row.value)));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  /** No inventory any more: the relay now connected does not report one. */
  forget(): void {
    this.sql.exec('DELETE FROM meta WHERE key = ?', KEY);
  }

  /** Keeps a report as the inventory; true when the list of backups differs from the last one. */
  record(message: BackupsMessage, now: number): boolean {
    const before = this.read();
    const inventory: BackupInventory = { reportedAt: now, items: message.backups };
    this.sql.exec(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      KEY,
      JSON.stringify(inventory),
    );
    return before === null || JSON.stringify(before.items) !== JSON.stringify(inventory.items);
  }
}

/** The backup in an inventory, or null. */
export function keptBackup(inventory: BackupInventory | null, id: string): KeptBackup | null {
  return inventory?.items.find((b) => b.id === id) ?? null;
}

/**
 * Whether a backup may still be on the host: no inventory was ever reported, or it lists the backup,
 * or the deployment that recorded it finished after the inventory arrived (the relay reports right
 * after each result, so for a moment the newest backup is not in the list yet). `recordedAt` is that
 * deployment's `finishedAt`, on the hub's clock like `reportedAt`.
 */
export function mayBeKept(inventory: BackupInventory | null, id: string, recordedAt: number | null): boolean {
  if (!inventory || keptBackup(inventory, id)) return true;
  return recordedAt !== null && recordedAt > inventory.reportedAt;
}
