// The pull-request plans of one target, in the hub's SQLite: one row per pull request head the edge
// was told of, from queued to sent (the relay has it) to the relay's answer. A newer head of the same
// pull request supersedes a plan still queued or sent; a closed pull request closes its plans. A
// fork's head is recorded (status `fork`) and never sent: the relay never fetches it.
import type { PlannedMessage } from '../../shared/pull-plan.ts';

export type PullPlanStatus = 'queued' | 'sent' | 'planned' | 'refused' | 'failed' | 'superseded' | 'closed' | 'fork';

export interface PullPlanView {
  id: string;
  pullNumber: number;
  headSha: string;
  baseBranch: string;
  /** `owner/name` of the head's repository; null when GitHub no longer knows it (a deleted fork). */
  headRepo: string | null;
  title: string;
  author: string | null;
  status: PullPlanStatus;
  requestedAt: number;
  sentAt: number | null;
  finishedAt: number | null;
  /** The relay's answer, once there is one. */
  result: PlannedMessage | null;
  /** Why it was not planned (fork, superseded, no answer), or the relay's reason. */
  reason: string | null;
  /** Closed pull requests keep their plans for the record; open ones show on the status page. */
  open: boolean;
}

const CREATE = `
CREATE TABLE IF NOT EXISTS pull_plans (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  pull_number INTEGER NOT NULL,
  head_sha TEXT NOT NULL,
  base_branch TEXT NOT NULL,
  head_repo TEXT,
  title TEXT NOT NULL DEFAULT '',
  author TEXT,
  status TEXT NOT NULL,
  requested_at INTEGER NOT NULL,
  sent_at INTEGER,
  finished_at INTEGER,
  result TEXT,
  reason TEXT,
  open INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS pull_plans_by_status ON pull_plans (status, seq);
CREATE INDEX IF NOT EXISTS pull_plans_by_pull ON pull_plans (pull_number, seq);`;

/** How many plans the hub keeps; older finished ones are pruned as new ones come. */
const KEEP = 500;

type Row = Record<string, SqlStorageValue>;

export class PullPlanStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(CREATE);
  }

  insert(p: { id: string; pullNumber: number; headSha: string; baseBranch: string; headRepo: string | null; title: string; author: string | null; status: PullPlanStatus; reason: string | null; requestedAt: number }): void {
    this.sql.exec(
      'INSERT INTO pull_plans (id, pull_number, head_sha, base_branch, head_repo, title, author, status, reason, requested_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      p.id, p.pullNumber, p.headSha, p.baseBranch, p.headRepo, p.title, p.author, p.status, p.reason, p.requestedAt, p.status === 'queued' ? null : p.requestedAt,
    );
    this.sql.exec(`DELETE FROM pull_plans WHERE seq <= (SELECT MAX(seq) FROM pull_plans) - ? AND status NOT IN ('queued', 'sent')`, KEEP);
  }

  get(id: string): PullPlanView | null {
    const row = this.sql.exec('SELECT * FROM pull_plans WHERE id = ?', id).toArray()[0];
    return row ? view(row) : null;
  }

  withStatus(status: PullPlanStatus): PullPlanView[] {
    return this.sql.exec('SELECT * FROM pull_plans WHERE status = ? ORDER BY seq', status).toArray().map(view);
  }

  /** Every plan of one pull request, oldest first. */
  ofPull(pullNumber: number): PullPlanView[] {
    return this.sql.exec('SELECT * FROM pull_plans WHERE pull_number = ? ORDER BY seq', pullNumber).toArray().map(view);
  }

  /** The newest plan of each open pull request, newest pull request activity first. */
  openPlans(limit: number): PullPlanView[] {
    return this.sql
      .exec(`SELECT * FROM pull_plans p WHERE open = 1 AND seq = (SELECT MAX(seq) FROM pull_plans q WHERE q.pull_number = p.pull_number) ORDER BY seq DESC LIMIT ?`, limit)
      .toArray()
      .map(view);
  }

  update(id: string, changes: Record<string, SqlStorageValue>): void {
    const keys = Object.keys(changes);
    if (!keys.length) return;
    this.sql.exec(`UPDATE pull_plans SET ${keys.map((k) => `${k} = ?`).join(', ')} WHERE id = ?`, ...keys.map((k) => changes[k]!), id);
  }
}

function view(r: Row): PullPlanView {
  const text = (v: SqlStorageValue | undefined) => (v === null || v === undefined ? null : String(v));
  const num = (v: SqlStorageValue | undefined) => (v === null || v === undefined ? null : Number(v));
  return {
    id: String(r.id),
    pullNumber: Number(r.pull_number),
    headSha: String(r.head_sha),
    baseBranch: String(r.base_branch),
    headRepo: text(r.head_repo),
    title: String(r.title),
    author: text(r.author),
    status: String(r.status) as PullPlanStatus,
    requestedAt: Number(r.requested_at),
    sentAt: num(r.sent_at),
    finishedAt: num(r.finished_at),
    result: r.result === null || r.result === undefined ? null : (JSON.parse(String(r.result)) as PlannedMessage),
    reason: text(r.reason),
    open: Number(r.open) === 1,
  };
}
