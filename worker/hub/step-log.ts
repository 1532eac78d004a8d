// The step events of each deployment as the relay reports them, bounded. A relay (or whoever holds
// its token) decides how many progress messages it sends and how big each is: 400 frames of 36 KB
// made a 14.5 MB log and a 1.7 MB page. So each deployment's log keeps its first events (how it
// began) and a window of its latest ones (where it is, how it ended) within budgets of count and
// bytes, drops the oldest events of the window beyond them, and counts what it dropped, so the log
// and the page say so. A real deploy is some thirty events of a few hundred bytes; the budgets are
// several times that.
//
// Heartbeats (`detail.heartbeat`) renew the lease every few seconds during a long step and say how
// it is going ("apply: 1200 of 5000 files in place"): the running step keeps the latest one only,
// in place of the one before, so a wait of an hour is one row. A beat for a step that already
// ended, or that is not the latest, says nothing new and is not kept.
import type { DroppedSteps, StepEvent } from '../../shared/api.ts';
import type { ProgressMessage } from '../../shared/protocol.ts';

export interface StepLogBudget {
  /** The first events kept whatever follows (the very first one always). */
  headEvents: number;
  headBytes: number;
  /** The latest events kept after them. */
  tailEvents: number;
  tailBytes: number;
}

/** 200 events and 256 KiB per deployment at most (plus the first event, whatever its size). */
export const STEP_LOG_BUDGET: StepLogBudget = { headEvents: 40, headBytes: 64 * 1024, tailEvents: 160, tailBytes: 192 * 1024 };

/** The bytes an event's row holds: its message and detail as stored (UTF-8). */
const ROW_BYTES = 'length(CAST(message AS BLOB)) + COALESCE(length(CAST(detail AS BLOB)), 0)';

interface Budget {
  headEvents: number;
  headBytes: number;
  /** The seq of the head's last event once the head is full; null while it still fills. */
  headUntil: number | null;
  tailEvents: number;
  tailBytes: number;
  droppedEvents: number;
  droppedBytes: number;
}

const encoder = new TextEncoder();

export class StepLog {
  constructor(
    private readonly sql: SqlStorage,
    private readonly limits: StepLogBudget = STEP_LOG_BUDGET,
  ) {}

  /** Keeps a progress message of a deployment, within its budget. */
  record(deploymentId: string, p: ProgressMessage): void {
    const budget = this.budget(deploymentId);
    if (p.detail?.heartbeat === true) {
      const last = this.sql.exec('SELECT seq, step, status, detail FROM steps WHERE deployment_id = ? ORDER BY seq DESC LIMIT 1', deploymentId).toArray()[0];
      if (last && (last.step !== p.step || last.status !== 'started')) return;
      if (last && isHeartbeat(last.detail ?? null)) this.remove(deploymentId, budget, Number(last.seq));
    }
    const detail = p.detail ? JSON.stringify(p.detail) : null;
    const bytes = encoder.encode(p.message).byteLength + (detail === null ? 0 : encoder.encode(detail).byteLength);
    const { seq } = this.sql
      .exec<{ seq: number }>(
        'INSERT INTO steps (deployment_id, step, status, message, at, duration_ms, detail) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq',
        deploymentId, p.step, p.status, p.message, p.at, p.durationMs ?? null, detail,
      )
      .one();
    const fitsHead = budget.headEvents === 0 || (budget.headEvents < this.limits.headEvents && budget.headBytes + bytes <= this.limits.headBytes);
    if (budget.headUntil === null && fitsHead) {
      budget.headEvents += 1;
      budget.headBytes += bytes;
    } else {
      // The head is full from the first event that does not fit it: everything after is the window.
      budget.headUntil ??= seq - 1;
      budget.tailEvents += 1;
      budget.tailBytes += bytes;
      this.trimTail(deploymentId, budget, seq);
    }
    this.save(deploymentId, budget);
  }

  /** The events kept, oldest first. */
  events(deploymentId: string): StepEvent[] {
    return this.sql
      .exec('SELECT step, status, message, at, duration_ms, detail FROM steps WHERE deployment_id = ? ORDER BY seq', deploymentId)
      .toArray()
      .map((r) => ({
        step: String(r.step) as StepEvent['step'],
        status: String(r.status) as StepEvent['status'],
        message: String(r.message),
        at: Number(r.at),
        durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
        detail: r.detail === null ? null : (JSON.parse(String(r.detail)) as Record<string, unknown>),
      }));
  }

  /** What was dropped between the first events and the latest; null when nothing was. */
  dropped(deploymentId: string): DroppedSteps | null {
    const b = this.budget(deploymentId);
    return b.droppedEvents ? { events: b.droppedEvents, bytes: b.droppedBytes, after: b.headEvents } : null;
  }

  /** Drops the window's oldest events until it fits, never the one just written. */
  private trimTail(deploymentId: string, budget: Budget, newest: number): void {
    while (budget.tailEvents > this.limits.tailEvents || budget.tailBytes > this.limits.tailBytes) {
      const oldest = this.sql
        .exec(`SELECT seq, ${ROW_BYTES} AS bytes FROM steps WHERE deployment_id = ? AND seq > ? ORDER BY seq LIMIT 1`, deploymentId, budget.headUntil ?? 0)
        .toArray()[0];
      if (!oldest || Number(oldest.seq) === newest) return;
      this.sql.exec('DELETE FROM steps WHERE seq = ?', oldest.seq);
      budget.tailEvents -= 1;
      budget.tailBytes -= Number(oldest.bytes);
      budget.droppedEvents += 1;
      budget.droppedBytes += Number(oldest.bytes);
    }
  }

  /** Takes an event back out (a heartbeat replaced by the next), from the part of the log it was in. */
  private remove(deploymentId: string, budget: Budget, seq: number): void {
    const row = this.sql.exec(`SELECT ${ROW_BYTES} AS bytes FROM steps WHERE seq = ? AND deployment_id = ?`, seq, deploymentId).one();
    this.sql.exec('DELETE FROM steps WHERE seq = ?', seq);
    if (budget.headUntil === null || seq <= budget.headUntil) {
      budget.headEvents -= 1;
      budget.headBytes -= Number(row.bytes);
    } else {
      budget.tailEvents -= 1;
      budget.tailBytes -= Number(row.bytes);
    }
  }

  private budget(deploymentId: string): Budget {
    const row = this.sql.exec('SELECT * FROM step_budgets WHERE deployment_id = ?', deploymentId).toArray()[0];
    if (row) {
      return {
        headEvents: Number(row.head_events),
        headBytes: Number(row.head_bytes),
        headUntil: row.head_until === null ? null : Number(row.head_until),
        tailEvents: Number(row.tail_events),
        tailBytes: Number(row.tail_bytes),
        droppedEvents: Number(row.dropped_events),
        droppedBytes: Number(row.dropped_bytes),
      };
    }
    // A deployment whose events an older edge stored without a budget: they all count as its head.
    const old = this.sql.exec(`SELECT COUNT(*) AS n, COALESCE(SUM(${ROW_BYTES}), 0) AS bytes, MAX(seq) AS last FROM steps WHERE deployment_id = ?`, deploymentId).one();
    const n = Number(old.n);
    const full = n >= this.limits.headEvents || Number(old.bytes) >= this.limits.headBytes;
    return { headEvents: n, headBytes: Number(old.bytes), headUntil: full ? Number(old.last) : null, tailEvents: 0, tailBytes: 0, droppedEvents: 0, droppedBytes: 0 };
  }

  private save(deploymentId: string, b: Budget): void {
    this.sql.exec(
      `INSERT INTO step_budgets (deployment_id, head_events, head_bytes, head_until, tail_events, tail_bytes, dropped_events, dropped_bytes)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (deployment_id) DO UPDATE SET head_events = excluded.head_events, head_bytes = excluded.head_bytes, head_until = excluded.head_until,
         tail_events = excluded.tail_events, tail_bytes = excluded.tail_bytes, dropped_events = excluded.dropped_events, dropped_bytes = excluded.dropped_bytes`,
      deploymentId, b.headEvents, b.headBytes, b.headUntil, b.tailEvents, b.tailBytes, b.droppedEvents, b.droppedBytes,
    );
  }
}

function isHeartbeat(detail: SqlStorageValue): boolean {
  if (detail === null) return false;
  try {
    return (JSON.parse(String(detail)) as Record<string, unknown>).heartbeat === true;
  } catch {
    return false;
  }
}
