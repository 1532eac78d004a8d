// The hub's outbox, in its SQLite storage: outward messages are written here in the same
// synchronous step as the state change that caused them, and stay until delivered or given up on.
// Also what has been announced per deployment, and the GitHub deployment made for each.
import type { OutwardChannel, OutwardDelivery, OutwardView } from '../../shared/api.ts';
import type { DeploymentStatus } from '../../shared/deployment.ts';
import { streamOf, type OutboxKind, type OutboxMessage } from './announcements.ts';
import type { GithubState } from './github.ts';

export interface OutboxEntry {
  seq: number;
  stream: string;
  channel: OutwardChannel;
  deploymentId: string;
  kind: OutboxKind;
  what: string;
  payload: unknown;
  attempts: number;
  createdAt: number;
  lastError: string | null;
}

export interface Unannounced {
  id: string;
  status: DeploymentStatus;
  announcedStatus: DeploymentStatus | null;
  announcedGithubState: GithubState | null;
}

type Row = Record<string, SqlStorageValue>;

/** Only the newest deployments can still change state; older ones are never looked at again. */
const RECENT_DEPLOYMENTS = 200;
/** Delivered and abandoned messages are kept this long for the status page, then pruned. */
const KEEP_SETTLED_MS = 30 * 24 * 60 * 60_000;
/** Problems older than this no longer show in the status. */
const SHOW_PROBLEMS_MS = 7 * 24 * 60 * 60_000;

/** The oldest pending message of its stream: only it may be sent. */
const IS_HEAD = `NOT EXISTS (SELECT 1 FROM outbox p WHERE p.stream = o.stream AND p.state = 'pending' AND p.seq < o.seq)`;

export class Outbox {
  constructor(private readonly sql: SqlStorage) {}

  // ---- what has been announced ----

  /** Deployments existing before outward messages were switched on count as announced. */
  adoptHistory(): void {
    this.sql.exec(`INSERT OR IGNORE INTO outward_announced (deployment_id, status, github_state) SELECT id, status, NULL FROM deployments`);
  }

  unannounced(): Unannounced[] {
    return this.sql
      .exec(
        `SELECT d.id, d.status, a.status AS announced, a.github_state FROM deployments d
           LEFT JOIN outward_announced a ON a.deployment_id = d.id
         WHERE d.seq > (SELECT COALESCE(MAX(seq), 0) FROM deployments) - ?
           AND (a.status IS NULL OR a.status != d.status)
         ORDER BY d.seq`,
        RECENT_DEPLOYMENTS,
      )
      .toArray()
      .map((r) => ({
        id: String(r.id),
        status: String(r.status) as DeploymentStatus,
        announcedStatus: r.announced === null ? null : (String(r.announced) as DeploymentStatus),
        announcedGithubState: r.github_state === null ? null : (String(r.github_state) as GithubState),
      }));
  }

  markAnnounced(deploymentId: string, status: DeploymentStatus, githubState: GithubState | null): void {
    this.sql.exec(
      `INSERT INTO outward_announced (deployment_id, status, github_state) VALUES (?, ?, ?)
       ON CONFLICT (deployment_id) DO UPDATE SET status = excluded.status, github_state = excluded.github_state`,
      deploymentId, status, githubState,
    );
  }

  // ---- messages ----

  enqueue(messages: readonly OutboxMessage[], now: number): void {
    for (const m of messages) {
      this.sql.exec(
        `INSERT INTO outbox (stream, channel, deployment_id, kind, what, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        streamOf(m), m.channel, m.deploymentId, m.kind, m.what, JSON.stringify(m.payload), now, now,
      );
    }
  }

  /** Messages that may be sent now: due, and first in their stream. */
  due(now: number, limit: number): OutboxEntry[] {
    return this.sql
      .exec(`SELECT * FROM outbox o WHERE o.state = 'pending' AND o.next_attempt_at <= ? AND ${IS_HEAD} ORDER BY o.seq LIMIT ?`, now, limit)
      .toArray()
      .map((r) => entry(r));
  }

  /** When the next message becomes due, or null when nothing is pending. */
  nextDueAt(): number | null {
    const row = this.sql.exec(`SELECT MIN(o.next_attempt_at) AS at FROM outbox o WHERE o.state = 'pending' AND ${IS_HEAD}`).one();
    return row.at === null ? null : Number(row.at);
  }

  /** Counts the attempt and sets when to try again before sending, so a hub evicted mid-request retries it. */
  claim(seq: number, retryAt: number): void {
    this.sql.exec(`UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE seq = ?`, retryAt, seq);
  }

  delivered(seq: number, now: number): void {
    this.sql.exec(`UPDATE outbox SET state = 'delivered', settled_at = ? WHERE seq = ?`, now, seq);
  }

  failed(seq: number, error: string, retryAt: number): void {
    this.sql.exec(`UPDATE outbox SET last_error = ?, next_attempt_at = ? WHERE seq = ?`, error.slice(0, 1000), retryAt, seq);
  }

  abandon(seq: number, error: string, now: number): void {
    this.sql.exec(`UPDATE outbox SET state = 'abandoned', last_error = ?, settled_at = ? WHERE seq = ?`, error.slice(0, 1000), now, seq);
  }

  /**
   * Sent to the relay, which answers later (an alert to the house): pending until `deadline`, when it
   * is sent again unless the answer settled it first. `note` (why it was sent again) or nothing is
   * its error meanwhile: an error clear means "sent, not yet answered".
   */
  awaiting(seq: number, deadline: number, note: string | null): void {
    this.sql.exec(`UPDATE outbox SET last_error = ?, next_attempt_at = ? WHERE seq = ? AND state = 'pending'`, note === null ? null : note.slice(0, 1000), deadline, seq);
  }

  /** The pending house alert with this id, if any (what the relay's `alerted` answers). */
  pendingAlert(alertId: string): OutboxEntry | null {
    const row = this.sql.exec(`SELECT * FROM outbox WHERE kind = 'house.alert' AND state = 'pending' AND json_extract(payload, '$.alert.alertId') = ? LIMIT 1`, alertId).toArray()[0];
    return row ? entry(row) : null;
  }

  /** A relay that passes alerts said hello: the house's pending alerts are due now instead of at their next retry. */
  hurry(kind: OutboxKind, now: number): number {
    return this.sql.exec(`UPDATE outbox SET next_attempt_at = ? WHERE kind = ? AND state = 'pending' AND next_attempt_at > ?`, now, kind, now).rowsWritten;
  }

  prune(now: number): void {
    this.sql.exec(`DELETE FROM outbox WHERE state != 'pending' AND settled_at < ?`, now - KEEP_SETTLED_MS);
  }

  // ---- GitHub deployments ----

  githubId(deploymentId: string): number | null {
    const row = this.sql.exec('SELECT github_id FROM github_deployments WHERE deployment_id = ?', deploymentId).toArray()[0];
    return row ? Number(row.github_id) : null;
  }

  linkGithub(deploymentId: string, githubId: number, now: number): void {
    this.sql.exec('INSERT OR REPLACE INTO github_deployments (deployment_id, github_id, created_at) VALUES (?, ?, ?)', deploymentId, githubId, now);
  }

  /** GitHub has (or is about to have) a deployment for it: a status for it makes sense. */
  githubKnows(deploymentId: string): boolean {
    if (this.githubId(deploymentId) !== null) return true;
    return this.sql.exec(`SELECT 1 FROM outbox WHERE deployment_id = ? AND kind = 'github.deployment' AND state = 'pending'`, deploymentId).toArray().length > 0;
  }

  // ---- what the API shows ----

  view(now: number): OutwardView {
    const pending = Number(this.sql.exec(`SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'`).one().n);
    const problems = this.sql
      .exec(
        `SELECT * FROM outbox WHERE (state = 'pending' AND attempts > 0 AND last_error IS NOT NULL) OR (state = 'abandoned' AND settled_at > ?) ORDER BY seq DESC LIMIT 20`,
        now - SHOW_PROBLEMS_MS,
      )
      .toArray()
      .map((r) => delivery(r));
    return { pending, problems };
  }

  forDeployment(deploymentId: string): OutwardDelivery[] {
    return this.sql.exec('SELECT * FROM outbox WHERE deployment_id = ? ORDER BY seq', deploymentId).toArray().map((r) => delivery(r));
  }
}

function entry(r: Row): OutboxEntry {
  return {
    seq: Number(r.seq),
    stream: String(r.stream),
    channel: String(r.channel) as OutwardChannel,
    deploymentId: String(r.deployment_id),
    kind: String(r.kind) as OutboxKind,
    what: String(r.what),
    payload: JSON.parse(String(r.payload)),
    attempts: Number(r.attempts),
    createdAt: Number(r.created_at),
    lastError: r.last_error === null ? null : String(r.last_error),
  };
}

function delivery(r: Row): OutwardDelivery {
  const state = String(r.state) as OutwardDelivery['state'];
  return {
    channel: String(r.channel) as OutwardChannel,
    deploymentId: String(r.deployment_id),
    what: String(r.what),
    state,
    attempts: Number(r.attempts),
    lastError: r.last_error === null ? null : String(r.last_error),
    nextAttemptAt: state === 'pending' ? Number(r.next_attempt_at) : null,
    createdAt: Number(r.created_at),
    settledAt: r.settled_at === null ? null : Number(r.settled_at),
  };
}
