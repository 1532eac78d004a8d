// The deployments of one target, in the hub's SQLite storage: rows in, typed views out.
import type { DeploymentView, RetryDriftChoice } from '../../shared/api.ts';
import type { DeploymentKind, DeploymentStatus, TriggerKind } from '../../shared/deployment.ts';
import { DeploymentSummary } from '../../shared/deployment.ts';

type Row = Record<string, SqlStorageValue>;

/** A deployment a relay has (handed over, or running): while one is, nothing else is dispatched. */
export const ACTIVE: readonly DeploymentStatus[] = ['dispatched', 'running'];

export interface NewDeployment {
  id: string;
  kind: DeploymentKind;
  sha: string;
  ref: string;
  trigger: TriggerKind;
  actor: string;
  message: string;
  author: string | null;
  deliveryId: string | null;
  rollbackOf: string | null;
  restoreBackupId: string | null;
  createdAt: number;
  /** The way on from drift chosen for this deployment only; absent or null: the target's drift policy. */
  driftChoice?: RetryDriftChoice | null;
}

type Cell = SqlStorageValue | undefined;
const str = (v: Cell): string => String(v ?? '');
const strOrNull = (v: Cell): string | null => (v === null || v === undefined ? null : String(v));
const numOrNull = (v: Cell): number | null => (v === null || v === undefined ? null : Number(v));

export class Deployments {
  constructor(
    private readonly sql: SqlStorage,
    private readonly target: () => string,
  ) {}

  insert(d: NewDeployment): void {
    this.sql.exec(
      `INSERT INTO deployments (id, kind, status, sha, ref, trigger, actor, message, author, delivery_id, rollback_of, restore_backup_id, created_at, drift_choice)
       VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      d.id, d.kind, d.sha, d.ref, d.trigger, d.actor, d.message, d.author, d.deliveryId, d.rollbackOf, d.restoreBackupId, d.createdAt, d.driftChoice ?? null,
    );
  }

  get(id: string): DeploymentView | null {
    const row = this.sql.exec('SELECT * FROM deployments WHERE id = ?', id).toArray()[0];
    return row ? this.view(row) : null;
  }

  byDelivery(deliveryId: string): DeploymentView | null {
    const row = this.sql.exec('SELECT * FROM deployments WHERE delivery_id = ?', deliveryId).toArray()[0];
    return row ? this.view(row) : null;
  }

  withStatus(statuses: readonly DeploymentStatus[]): DeploymentView[] {
    const marks = statuses.map(() => '?').join(', ');
    return this.sql.exec(`SELECT * FROM deployments WHERE status IN (${marks}) ORDER BY seq`, ...statuses).toArray().map((r) => this.view(r));
  }

  /** The newest deployment in one of these states, or null. */
  latest(statuses: readonly DeploymentStatus[], beforeSeqOf?: string): DeploymentView | null {
    const marks = statuses.map(() => '?').join(', ');
    const cursor = beforeSeqOf ? ' AND seq < (SELECT seq FROM deployments WHERE id = ?)' : '';
    const args: SqlStorageValue[] = [...statuses];
    if (beforeSeqOf) args.push(beforeSeqOf);
    const row = this.sql.exec(`SELECT * FROM deployments WHERE status IN (${marks})${cursor} ORDER BY seq DESC LIMIT 1`, ...args).toArray()[0];
    return row ? this.view(row) : null;
  }

  page(options: { status?: DeploymentStatus; limit: number; before?: string }): DeploymentView[] {
    const where: string[] = [];
    const args: SqlStorageValue[] = [];
    if (options.status) {
      where.push('status = ?');
      args.push(options.status);
    }
    if (options.before) {
      where.push('seq < (SELECT seq FROM deployments WHERE id = ?)');
      args.push(options.before);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    return this.sql
      .exec(`SELECT * FROM deployments ${clause} ORDER BY seq DESC LIMIT ?`, ...args, options.limit)
      .toArray()
      .map((r) => this.view(r));
  }

  all(): DeploymentView[] {
    return this.sql.exec('SELECT * FROM deployments ORDER BY seq').toArray().map((r) => this.view(r));
  }

  /** Applies column changes to one row; the caller decides which transitions are legal. */
  update(id: string, changes: Record<string, SqlStorageValue>): void {
    const columns = Object.keys(changes);
    if (!columns.length) return;
    const assignments = columns.map((c) => `${c} = ?`).join(', ');
    this.sql.exec(`UPDATE deployments SET ${assignments} WHERE id = ?`, ...columns.map((c) => changes[c]), id);
  }

  private view(r: Row): DeploymentView {
    const summary = strOrNull(r.summary) === null ? null : DeploymentSummary.parse(JSON.parse(str(r.summary)));
    return {
      id: str(r.id),
      target: this.target(),
      kind: str(r.kind) as DeploymentKind,
      status: str(r.status) as DeploymentStatus,
      sha: str(r.sha),
      ref: str(r.ref),
      trigger: str(r.trigger) as TriggerKind,
      actor: str(r.actor),
      message: str(r.message),
      author: strOrNull(r.author),
      reason: strOrNull(r.reason),
      supersededBy: strOrNull(r.superseded_by),
      rollbackOf: strOrNull(r.rollback_of),
      restoreBackupId: strOrNull(r.restore_backup_id),
      deliveryId: strOrNull(r.delivery_id),
      attempt: Number(r.attempt),
      createdAt: Number(r.created_at),
      dispatchedAt: numOrNull(r.dispatched_at),
      startedAt: numOrNull(r.started_at),
      finishedAt: numOrNull(r.finished_at),
      summary,
      driftChoice: strOrNull(r.drift_choice) as RetryDriftChoice | null,
    };
  }
}
