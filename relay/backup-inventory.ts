// Tells the edge which backups the host keeps, so the status page offers only those: jobs take
// backups and prune old ones (`deploy.keepBackups`), and only the relay can see the host. Sent
// after the edge's `welcome` and after every job, best effort: a listing that fails is one warning
// line and no message, and nothing here can throw into a job or hold one up.
import type { z } from 'zod';
import type { BackupsMessage, KeptBackup as KeptBackupType } from '../shared/protocol.ts';
import { KeptBackup, MAX_REPORTED_BACKUPS } from '../shared/protocol.ts';
import type { Logger } from './log.ts';
import type { KeptBackupRecord } from './pipeline/backups.ts';

/** The `backups` message for these records: the newest MAX_REPORTED_BACKUPS, oldest first, only what the records say. */
export function inventoryMessage(records: readonly KeptBackupRecord[], at: number): BackupsMessage {
  const backups: KeptBackupType[] = [];
  for (const record of records) {
    const parsed = KeptBackup.safeParse({
      id: record.id,
      createdAt: Math.max(0, Math.round(record.createdAt)),
      deploymentId: known(KeptBackup.shape.deploymentId, record.jobId),
      sha: known(KeptBackup.shape.sha, record.baseSha),
      files: record.files.length,
      bytes: Math.max(0, Math.round(record.archive.bytes)),
    });
    // A record with an id the edge could not take is not a Lanyard backup to offer.
    if (parsed.success) backups.push(parsed.data);
  }
  backups.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  return { type: 'backups', backups: backups.slice(-MAX_REPORTED_BACKUPS), at };
}

/** The value if the field's schema takes it, else null ("not known"). */
function known<S extends z.ZodType>(schema: S, value: unknown): z.output<S> | null {
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

export interface BackupInventoryOptions {
  /** Lists the backups on the host (the pipeline's connection). */
  list: () => Promise<KeptBackupRecord[]>;
  /** Sends to the edge if connected; false otherwise (the next welcome reports again). */
  send: (message: BackupsMessage) => boolean;
  logger: Logger;
  now?: () => number;
}

export class BackupInventory {
  private reporting: Promise<void> | null = null;
  private again = false;

  constructor(private readonly options: BackupInventoryOptions) {}

  /**
   * Lists the backups and sends them. Never rejects. A report asked for while one is under way runs
   * once more after it (the host may have changed in between), however many were asked for.
   */
  report(): Promise<void> {
    if (this.reporting) {
      this.again = true;
      return this.reporting;
    }
    this.reporting = (async () => {
      do {
        this.again = false;
        await this.once();
      } while (this.again);
    })().finally(() => {
      this.reporting = null;
    });
    return this.reporting;
  }

  private async once(): Promise<void> {
    const { list, send, logger, now = Date.now } = this.options;
    let records: KeptBackupRecord[];
    try {
      records = await list();
    } catch (error) {
      logger.warn(`could not list the backups to tell the edge: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    try {
      send(inventoryMessage(records, now()));
    } catch (error) {
      logger.warn(`could not send the backup inventory to the edge: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
