// The REST API's shapes: what clients send and what the edge answers. The status page, the tests
// and any script a user writes parse these same schemas.
import { z } from 'zod';
import { DeploymentKind, DeploymentStatus, DeploymentSummary, StepName, StepStatus, TriggerKind } from './deployment.ts';
import { DriftChoice, DriftedFile } from './drift.ts';
import { Freeze } from './freeze.ts';
import { isRefName } from './git-ref.ts';
import { KeptBackup } from './protocol.ts';

/** A commit as a person types it: the full sha, or the start of one (7 or more hex digits) the target knows. */
const CommitRef = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .pipe(z.string().regex(/^[0-9a-f]{7,40}$/, 'a commit sha: 7 to 40 hex digits, as `git log --oneline` or `git rev-parse HEAD` prints it'));
/** A release tag's name as pushed (what follows refs/tags/), as git would take it (issue 18). */
export const ReleaseTagName = z.string().max(200).refine(isRefName, 'a tag name as git takes it, e.g. v1.2.0');
/** `tag`: deploy the commit of a release tag seen (lower than the one deployed or not); not with `sha`. */
export const DeployRequest = z
  .object({ sha: CommitRef.optional(), tag: ReleaseTagName.optional() })
  .strict()
  .refine((r) => !(r.sha && r.tag), { message: 'give sha or tag, not both' });
export type DeployRequest = z.infer<typeof DeployRequest>;

/** A deployment id as the edge hands them out (`dep_…`); anything longer or stranger names none, and is refused before it is echoed. */
export const DeploymentId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a deployment id, e.g. dep_01m82e4vg06ns08fd0');

/**
 * The ways on a retry can take when the deploy stopped on drift, for that deployment only:
 * `overwrite` the host's edits (after the backup, where the relay allows it) or `keep` the host's
 * versions of the drifted files (the drift policy report-only).
 */
export const RetryDriftChoice = DriftChoice.exclude(['capture'], { error: 'a way on from drift: "overwrite" or "keep"' });
export type RetryDriftChoice = z.infer<typeof RetryDriftChoice>;

/**
 * Try a failed or rolled-back deploy again, once what stopped it has changed: the newest deployment
 * only. `drift`: only for a deploy that stopped on drift, the way on for this one deployment
 * (`capture` captures the host's edits first, then retries keeping the host's files).
 */
export const RetryRequest = z
  .object({ deploymentId: DeploymentId, drift: z.enum(DriftChoice.options, { error: 'a way on from drift: "capture", "overwrite" or "keep"' }).optional() })
  .strict();
export type RetryRequest = z.infer<typeof RetryRequest>;

export const RollbackRequest = z
  .object({ deploymentId: DeploymentId.optional(), backupId: KeptBackup.shape.id.optional(), tag: ReleaseTagName.optional() })
  .strict()
  .refine((r) => !(r.deploymentId && r.backupId), { message: 'give deploymentId or backupId, not both' })
  .refine((r) => !(r.tag && (r.deploymentId || r.backupId)), { message: 'give tag alone, not with deploymentId or backupId' });
export type RollbackRequest = z.infer<typeof RollbackRequest>;

export const HistoryQuery = z.object({
  status: DeploymentStatus.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** The id of the last deployment of the previous page; newer ones come first. */
  before: DeploymentId.optional(),
});
export type HistoryQuery = z.infer<typeof HistoryQuery>;

export const StepEvent = z.object({
  step: StepName,
  status: StepStatus,
  message: z.string(),
  at: z.number(),
  durationMs: z.number().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
});
export type StepEvent = z.infer<typeof StepEvent>;

/**
 * Step events the hub let go for one deployment: it keeps the first ones and the latest ones within
 * a budget, and these were between them (after the first `after` events of the log).
 */
export const DroppedSteps = z.object({
  events: z.number().int().positive(),
  /** Their messages and details, in bytes. */
  bytes: z.number().int().nonnegative(),
  after: z.number().int().nonnegative(),
});
export type DroppedSteps = z.infer<typeof DroppedSteps>;

export const DeploymentView = z.object({
  id: z.string(),
  target: z.string(),
  kind: DeploymentKind,
  status: DeploymentStatus,
  sha: z.string(),
  ref: z.string(),
  trigger: TriggerKind,
  actor: z.string(),
  message: z.string(),
  author: z.string().nullable(),
  reason: z.string().nullable(),
  supersededBy: z.string().nullable(),
  rollbackOf: z.string().nullable(),
  restoreBackupId: z.string().nullable(),
  deliveryId: z.string().nullable(),
  attempt: z.number(),
  createdAt: z.number(),
  dispatchedAt: z.number().nullable(),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  summary: DeploymentSummary.nullable(),
  /** The way on from drift an operator chose for this deployment only; optional so an older edge's view still parses. */
  driftChoice: RetryDriftChoice.nullable().optional(),
});
export type DeploymentView = z.infer<typeof DeploymentView>;

export const RelayView = z.object({
  connected: z.boolean(),
  relayId: z.string().nullable(),
  version: z.string().nullable(),
  since: z.number().nullable(),
  lastSeenAt: z.number().nullable(),
  /** Whether any relay ever said hello to this target. Optional so a status from an older edge still parses. */
  everConnected: z.boolean().optional(),
  /** What the last relay's start-up check of Home Assistant found (its hello); null when it did not say. */
  homeAssistant: z.object({ ok: z.boolean(), detail: z.string() }).nullable().optional(),
});
export type RelayView = z.infer<typeof RelayView>;

/**
 * Why the branch head is not being deployed yet: the target deploys only after a workflow succeeds
 * (or on a repository_dispatch), the head was seen, and nothing has been queued for that commit.
 * When the workflow already concluded without success for that commit, `conclusion` says how.
 */
export const Waiting = z.object({
  /** `workflow`: waits for `workflow` to succeed on `sha`; `dispatch`: waits for a repository_dispatch `eventType`. */
  for: z.enum(['workflow', 'dispatch']),
  workflow: z.string().nullable(),
  eventType: z.string().nullable(),
  sha: z.string(),
  message: z.string(),
  since: z.number(),
  /**
   * null while the workflow is still awaited; else how its run for `sha` concluded (`failure`,
   * `cancelled`, `timed_out`, ...): the commit is not deployed unless a later run succeeds.
   * Optional so a status from an older edge still parses.
   */
  conclusion: z.string().nullable().optional(),
  /** That run on GitHub (http or https), when known. Optional so a status from an older edge still parses. */
  url: z.string().nullable().optional(),
  /**
   * The sentence to show, e.g. `waiting for workflow "Config check" on 1a2b3c4`, or
   * `workflow "Config check" concluded failure on 1a2b3c4: not deployed; push a fix or re-run the workflow`.
   */
  text: z.string(),
});
export type Waiting = z.infer<typeof Waiting>;

/** Where outward messages (GitHub deployment statuses, Slack, the signed webhook, a deployment's OpenTelemetry trace) go. */
export const OutwardChannel = z.enum(['github', 'slack', 'webhook', 'otlp']);
export type OutwardChannel = z.infer<typeof OutwardChannel>;

/** One message in the hub's outbox: sent, still being retried, or given up on. */
export const OutwardDelivery = z.object({
  channel: OutwardChannel,
  deploymentId: z.string(),
  /** What it is, e.g. `github deployment`, `github status success`, `slack failed`, `webhook deployment.failed`. */
  what: z.string(),
  state: z.enum(['pending', 'delivered', 'abandoned']),
  attempts: z.number(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.number().nullable(),
  createdAt: z.number(),
  settledAt: z.number().nullable(),
});
export type OutwardDelivery = z.infer<typeof OutwardDelivery>;

/** What the outside world has not heard yet: a GitHub or notification outage, never a deploy failure. */
export const OutwardView = z.object({
  /** Messages not delivered yet (including ones waiting behind them, in order). */
  pending: z.number(),
  /** Messages that failed at least once and are still retried, or were given up on recently. */
  problems: z.array(OutwardDelivery),
});
export type OutwardView = z.infer<typeof OutwardView>;

/**
 * The backups the relay last said the host keeps (`backups` message), with when the edge heard it.
 * A backup not listed here was pruned: it can no longer be restored.
 */
export const BackupInventory = z.object({
  reportedAt: z.number(),
  /** Oldest first, as the relay listed them. */
  items: z.array(KeptBackup),
});
export type BackupInventory = z.infer<typeof BackupInventory>;

/**
 * The relay's latest drift report as the edge keeps it (`drift` message): which deployed files differ
 * on the host, since when, with a diff of text files. Only what the relay sent: it never reads
 * protected paths, so no secret is in here.
 */
export const DriftView = z.object({
  /** When the edge received it (its clock). */
  receivedAt: z.number(),
  /** When the relay looked (the relay's clock). */
  at: z.number(),
  deployedSha: z.string().nullable(),
  files: z.array(DriftedFile),
  /** How many files differ in all; more than `files` when the report names only the first. */
  total: z.number().int().nonnegative(),
});
export type DriftView = z.infer<typeof DriftView>;

/** A target's restart windows (issue 18) as the status page shows them, with what waits for one. */
export const RestartWindowView = z.object({
  windows: z.array(z.string()),
  timeZone: z.string(),
  /** Whether a window is open now. */
  open: z.boolean(),
  /** When the next one opens (null while one is open, or none opens within eight days). */
  nextOpening: z.number().nullable(),
  /** The same on the house's clock, e.g. `Fri 4 Dec, 02:00`. */
  nextOpeningLocal: z.string().nullable(),
  /** Deployments checked and put back, waiting for a window (status `waiting_for_window`). */
  waiting: z.array(DeploymentView),
  /** False when the connected relay is too old to hold a restart (no `restart-window` capability): it restarts at any hour. Null: no relay connected. */
  relayKeepsWindows: z.boolean().nullable(),
});
export type RestartWindowView = z.infer<typeof RestartWindowView>;

export const TargetStatus = z.object({
  target: z.string(),
  current: DeploymentView.nullable(),
  queued: z.array(DeploymentView),
  lastFinished: DeploymentView.nullable(),
  deployed: DeploymentView.nullable(),
  branchHead: z.object({ sha: z.string(), message: z.string(), author: z.string().nullable(), seenAt: z.number() }).nullable(),
  relay: RelayView,
  /** Set by the hub; optional so a status from an older edge still parses. */
  waiting: Waiting.nullable().optional(),
  /** Set by the hub; optional so a status from an older edge still parses. */
  outward: OutwardView.optional(),
  /**
   * The relay's last backup inventory; null when no relay ever reported one (an older relay), and
   * then every backup a deployment recorded is offered. Optional so a status from an older edge still parses.
   */
  backups: BackupInventory.nullable().optional(),
  /** The relay's latest drift report; null before any. Optional so a status from an older edge still parses. */
  drift: DriftView.nullable().optional(),
  /**
   * The newest deployment, when it is a deploy that stopped on drift: the one a way on (`drift` in
   * a retry) applies to. Optional so a status from an older edge still parses.
   */
  stoppedOnDrift: z.string().nullable().optional(),
  /** Issue 18: the freeze in force (nothing but an admin's rollback is dispatched); null when none. Optional so a status from an older edge still parses. */
  freeze: Freeze.nullable().optional(),
  /** The target's restart windows; null when it has none. Optional so a status from an older edge still parses. */
  restartWindow: RestartWindowView.nullable().optional(),
});
export type TargetStatus = z.infer<typeof TargetStatus>;

/**
 * What a target's audit trail records. Every entry is written by the hub for something it did
 * itself; the API's `action` filter takes one of these.
 */
export const AuditAction = z.enum([
  'deploy.queued',
  'deploy.cancelled',
  'deploy.retried',
  'deploy.succeeded',
  'deploy.failed',
  'deploy.rolled_back',
  'rollback.queued',
  'push.linked',
  'push.delivered_late',
  'relay.connected',
  'relay.hello',
  'relay.disconnected',
  'job.ack_timeout',
  'outward.retrying',
  'outward.delivered',
  'outward.abandoned',
  'capture.requested',
  'capture.pushed',
  'capture.nothing',
  'capture.failed',
  'deploy.drift_choice',
  // Issue 18: a deploy that needs a restart held for the restart window, the window opening, an operator's "restart now".
  'deploy.waiting_for_window',
  'deploy.window_opened',
  'deploy.restart_now',
  // Issue 18: freezes (set by an operator, lifted by one, or ended by their own time) and an admin's rollback through one.
  'freeze.set',
  'freeze.lifted',
  'freeze.expired',
  'rollback.break_glass',
  // Issue 18: a pushed release tag not deployed (lower than the one deployed, not a semantic version, or not matching).
  'tag.ignored',
  // The relay's drift watch named a file (path and change) its previous report did not: notified once.
  'drift.seen',
  // Written by edges before a refused relay token went to the access log; such entries age out.
  'relay.refused',
]);
export type AuditAction = z.infer<typeof AuditAction>;

export const AuditRecord = z.object({
  /** Its place in the trail: the newest entry has the highest id; `before` pages by it. */
  id: z.number().int(),
  at: z.number(),
  actor: z.string(),
  action: z.string(),
  detail: z.record(z.string(), z.unknown()),
  source: z.string().nullable(),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

export const AuditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** The `next` of the previous page: entries older than that one follow. */
  before: z.coerce.number().int().min(1).optional(),
  action: AuditAction.optional(),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

/** Newest first; `next` is the `before` of the following page, null on the last one. */
export const AuditPage = z.object({ entries: z.array(AuditRecord), next: z.number().int().nullable() });
export type AuditPage = z.infer<typeof AuditPage>;

export const Metrics = z.object({
  total: z.number(),
  finished: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  rolledBack: z.number(),
  successRate: z.number().nullable(),
  rollbackRate: z.number().nullable(),
  averageDurationMs: z.number().nullable(),
  meanTimeToRecoveryMs: z.number().nullable(),
  perDay: z.array(z.object({ day: z.string(), total: z.number(), succeeded: z.number(), failed: z.number() })),
});
export type Metrics = z.infer<typeof Metrics>;

export const ApiErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;
