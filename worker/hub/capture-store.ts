// The captures of one target, in the hub's SQLite: each request to make the host's edits a pull
// request, from queued to sent (the relay has it) to its outcome, with what the relay pushed and
// the pull request GitHub made of it. At most one is `sent` at a time, and never beside a job.
import type { CaptureOutcome, DriftChange } from '../../shared/drift.ts';

export type CaptureStatus = 'queued' | 'sent' | CaptureOutcome;

/** Why the capture was asked for. */
export type CaptureTrigger = 'manual' | 'auto' | 'merged' | 'drift_choice';

export interface CaptureView {
  id: string;
  status: CaptureStatus;
  trigger: CaptureTrigger;
  requestedBy: string;
  requestedAt: number;
  sentAt: number | null;
  finishedAt: number | null;
  reason: string | null;
  branch: string | null;
  commit: string | null;
  base: string | null;
  files: { path: string; change: DriftChange }[];
  total: number;
  /** The deployment to try again once the capture is pushed (the `capture` drift choice). */
  retryOf: string | null;
  /** The pull request GitHub made (or updated) for it, once the outbox delivered it. */
  pullRequestUrl: string | null;
}

const CREATE = `
CREATE TABLE IF NOT EXISTS captures (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL,
  trigger TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  source TEXT,
  requested_at INTEGER NOT NULL,
  sent_at INTEGER,
  finished_at INTEGER,
  reason TEXT,
  branch TEXT,
  commit_sha TEXT,
  base_sha TEXT,
  files TEXT NOT NULL DEFAULT '[]',
  total INTEGER NOT NULL DEFAULT 0,
  retry_of TEXT,
  pull_request_url TEXT
);
CREATE INDEX IF NOT EXISTS captures_by_status ON captures (status, seq);`;

/** How many captures the hub keeps; older ones are pruned as new ones come. */
const KEEP = 200;

type Row = Record<string, SqlStorageValue>;

export class CaptureStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(CREATE);
  }

  insert(c: { id: string; trigger: CaptureTrigger; requestedBy: string; source: string | null; requestedAt: number; retryOf: string | null }): void {
    this.sql.exec(
      'INSERT INTO captures (id, status, trigger, requested_by, source, requested_at, retry_of) VALUES (?, ?, ?, ?, ?, ?, ?)',
      c.id, 'queued', c.trigger, c.requestedBy, c.source, c.requestedAt, c.retryOf,
    );
    this.sql.exec('DELETE FROM captures WHERE seq <= (SELECT MAX(seq) FROM captures) - ? AND status NOT IN (\'queued\', \'sent\')', KEEP);
  }

  get(id: string): CaptureView | null {
    const row = this.sql.exec('SELECT * FROM captures WHERE id = ?', id).toArray()[0];
    return row ? view(row) : null;
  }

  withStatus(status: CaptureStatus): CaptureView[] {
    return this.sql.exec('SELECT * FROM captures WHERE status = ? ORDER BY seq', status).toArray().map(view);
  }

  recent(limit: number): CaptureView[] {
    return this.sql.exec('SELECT * FROM captures ORDER BY seq DESC LIMIT ?', limit).toArray().map(view);
  }

  update(id: string, changes: Record<string, SqlStorageValue>): void {
    const keys = Object.keys(changes);
    if (!keys.length) return;
    this.sql.exec(`UPDATE captures SET ${keys.map((k) => `${k} = ?`).join(', ')} WHERE id = ?`, ...keys.map((k) => changes[k]!), id);
  }
}

function view(r: Row): CaptureView {
  const text = (v: SqlStorageValue | undefined) => (v === null || v === undefined ? null : String(v));
  const num = (v: SqlStorageValue | undefined) => (v === null || v === undefined ? null : Number(v));
  return {
    id: String(r.id),
    status: String(r.status) as CaptureStatus,
    trigger: String(r.trigger) as CaptureTrigger,
    requestedBy: String(r.requested_by),
    requestedAt: Number(r.requested_at),
    sentAt: num(r.sent_at),
    finishedAt: num(r.finished_at),
    reason: text(r.reason),
    branch: text(r.branch),
    commit: text(r.commit_sha),
    base: text(r.base_sha),
    files: JSON.parse(String(r.files)) as CaptureView['files'],
    total: Number(r.total),
    retryOf: text(r.retry_of),
    pullRequestUrl: text(r.pull_request_url),
  };
}
