// What every concern of the hub works with: the target's storage, and the few acts only the Durable
// Object itself (target-hub.ts, the shell) can do, because it owns the sockets and the alarm. The
// concerns (intake, push ordering, the relay session, leases, reads, outward, watchers) are plain
// functions over a Hub and keep nothing in memory: the object may hibernate between any two events.
import type { TargetConfig } from '../config/targets.ts';
import type { Env } from '../env.ts';
import type { Outbox } from '../outward/outbox.ts';
import type { AuditTrail } from './audit.ts';
import type { BackupInventoryStore } from './backup-inventory.ts';
import type { CaptureStore } from './capture-store.ts';
import type { Deployments } from './deployments.ts';
import type { DriftReportStore } from './drift-report.ts';
import type { HubMeta } from './meta.ts';
import type { PushTransitions } from './push-transitions.ts';
import type { StepLog } from './step-log.ts';
import type { ChannelTimings } from './timings.ts';

/** The two kinds of socket a hub holds: the relay's, and those of status pages watching. */
export type SocketTag = 'relay' | 'watcher';

export interface Hub {
  readonly sql: SqlStorage;
  readonly env: Env;
  readonly meta: HubMeta;
  readonly deployments: Deployments;
  readonly audit: AuditTrail;
  readonly pushes: PushTransitions;
  readonly stepLog: StepLog;
  readonly outbox: Outbox;
  readonly backupInventory: BackupInventoryStore;
  readonly captures: CaptureStore;
  /** The relay's latest drift report (drift-watch.ts). */
  readonly driftReports: DriftReportStore;
  readonly timings: ChannelTimings;
  /** The target's configuration as TARGETS has it now; throws when the target is no longer configured. */
  config(): TargetConfig;
  /** The sockets the hub holds with this tag, open or closing. */
  sockets(tag: SocketTag): WebSocket[];
  /** Hands the next queued job to the relay, if there is a relay and nothing is running. */
  pump(): void;
  /** Something a status page shows changed: the outside world is told (the outbox), watching pages refresh. */
  changed(): void;
  /** A deadline was set or moved: the alarm is brought forward to the earliest one (alarm-schedule.ts). */
  reschedule(): void;
}
