// The audit trail of one target: every write, who asked for it, when, and from where. Only the hub
// writes it, for what it did itself (a deploy queued, a relay that said hello, a result): no hub
// method records an entry a caller hands in, so nothing an unauthenticated request carries reaches
// it (a refused relay token is in the access log, a bad webhook signature in the delivery ledger).
//
// Bounded, pruned on write: entries older than a year go, and each stream keeps its newest entries
// only. Pruned on write rather than from the alarm because the bound then holds at every moment
// (an alarm is only set while something waits on it, so a burst between two alarms would grow the
// table unchecked), and it costs two index range deletes that almost always delete nothing.
//
// Two streams with their own budgets: the relay's connection entries (connected, hello,
// disconnected, ack timeouts) and everything else. A relay token in the wrong hands can connect in
// a loop and fill its own stream, but never push an operator's `deploy.queued` out of the other.
import type { AuditAction, AuditPage, AuditQuery, AuditRecord } from '../../shared/api.ts';

/** What the hub records; `relay.refused` is only ever read, from trails written by older edges. */
export type RecordedAction = Exclude<AuditAction, 'relay.refused'>;

export interface AuditEntry {
  at: number;
  actor: string;
  action: RecordedAction;
  detail: Record<string, unknown>;
  source: string | null;
}

export type AuditStream = 'relay' | 'main';

export interface AuditRetention {
  maxAgeMs: number;
  /** The newest entries each stream keeps. */
  entries: Record<AuditStream, number>;
}

/**
 * A year, and far more entries than a year of deploys makes (a deploy is two or three entries), in
 * a few megabytes. A relay that reconnects every minute fills its 5,000 in about a day.
 */
export const AUDIT_RETENTION: AuditRetention = { maxAgeMs: 365 * 24 * 3600 * 1000, entries: { main: 20_000, relay: 5_000 } };

const RELAY_CHANNEL: ReadonlySet<string> = new Set(['relay.connected', 'relay.hello', 'relay.disconnected', 'relay.refused', 'job.ack_timeout']);

export function streamOf(action: string): AuditStream {
  return RELAY_CHANNEL.has(action) ? 'relay' : 'main';
}

/** `nth`: the entry's place in its stream (1, 2, …), so a stream's budget is one index range. */
const CREATE_AUDIT = `
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  detail TEXT NOT NULL,
  source TEXT,
  stream TEXT NOT NULL DEFAULT 'main',
  nth INTEGER NOT NULL DEFAULT 0
);`;

const AUDIT_INDEXES = `
CREATE INDEX IF NOT EXISTS audit_by_stream ON audit (stream, nth);
CREATE INDEX IF NOT EXISTS audit_by_action ON audit (action, seq);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at);`;

/** Creates the table, or brings one an older edge made (no streams) up to date, once. */
function prepare(sql: SqlStorage): void {
  sql.exec(CREATE_AUDIT);
  const columns = sql.exec("SELECT name FROM pragma_table_info('audit')").toArray().map((r) => String(r.name));
  if (!columns.includes('stream')) {
    const relay = [...RELAY_CHANNEL];
    sql.exec("ALTER TABLE audit ADD COLUMN stream TEXT NOT NULL DEFAULT 'main'");
    sql.exec('ALTER TABLE audit ADD COLUMN nth INTEGER NOT NULL DEFAULT 0');
    sql.exec(`UPDATE audit SET stream = 'relay' WHERE action IN (${relay.map(() => '?').join(', ')})`, ...relay);
    sql.exec('UPDATE audit SET nth = r.n FROM (SELECT seq, row_number() OVER (PARTITION BY stream ORDER BY seq) AS n FROM audit) AS r WHERE r.seq = audit.seq');
  }
  sql.exec(AUDIT_INDEXES);
}

export class AuditTrail {
  constructor(
    private readonly sql: SqlStorage,
    private readonly retention: AuditRetention = AUDIT_RETENTION,
  ) {
    prepare(sql);
  }

  record(entry: AuditEntry): void {
    const stream = streamOf(entry.action);
    const { nth } = this.sql
      .exec<{ nth: number }>(
        `INSERT INTO audit (at, actor, action, detail, source, stream, nth)
         VALUES (?, ?, ?, ?, ?, ?, COALESCE((SELECT MAX(nth) FROM audit WHERE stream = ?), 0) + 1) RETURNING nth`,
        entry.at, entry.actor, entry.action, JSON.stringify(entry.detail), entry.source, stream, stream,
      )
      .one();
    this.sql.exec('DELETE FROM audit WHERE stream = ? AND nth <= ?', stream, nth - this.retention.entries[stream]);
    this.sql.exec('DELETE FROM audit WHERE at < ?', entry.at - this.retention.maxAgeMs);
  }

  /** Newest first, older than `before`, of one action when asked; `next` continues where the page ends. */
  page(query: AuditQuery): AuditPage {
    const where: string[] = [];
    const args: SqlStorageValue[] = [];
    if (query.before !== undefined) {
      where.push('seq < ?');
      args.push(query.before);
    }
    if (query.action) {
      where.push('action = ?');
      args.push(query.action);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    // One more than asked: whether another page follows, so the last page never points at an empty one.
    const rows = this.sql.exec(`SELECT seq, at, actor, action, detail, source FROM audit ${clause} ORDER BY seq DESC LIMIT ?`, ...args, query.limit + 1).toArray();
    const entries = rows
      .slice(0, query.limit)
      .map(
        (r): AuditRecord => ({
          id: Number(r.seq),
          at: Number(r.at),
          actor: String(r.actor),
          action: String(r.action),
          detail: JSON.parse(String(r.detail)) as Record<string, unknown>,
          source: r.source === null ? null : String(r.source),
        }),
      );
    return { entries, next: rows.length > query.limit ? entries[entries.length - 1]!.id : null };
  }
}
