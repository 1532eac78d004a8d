// The relay protocol: every message that crosses the WebSocket between a relay at home and its
// TargetHub at the edge. One discriminated union per direction; both sides parse with these and
// nothing else, so a message either fits the schema or is answered with an `error` message.
import { z } from 'zod';
import { CommitSha, oneLine } from './wire-text.ts';
import { DeploymentSummary, DriftPolicy, StepName, StepStatus } from './deployment.ts';
import { isBranchOrTagRef } from './git-ref.ts';
import { CaptureMessage, CapturedMessage, DriftReportMessage } from './drift.ts';
import { AlertedMessage, AlertMessage } from './alert.ts';
import { TargetStateMessage } from './freeze.ts';
import { PlanMessage, PlannedMessage } from './pull-plan.ts';
import { StepSpan } from './trace-context.ts';
import { BACKUP_ID_PATTERN, DEPLOYMENT_ID_PATTERN, TARGET_NAME_PATTERN } from './ids.ts';

/** W3C trace context, version 00: trace id and parent span id, neither all zeros (checked where it is read). */
export const TRACEPARENT_PATTERN = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * Capabilities a relay names in `hello` for what this protocol gained after it first shipped; the hub
 * asks them only of a relay that names them.
 *   - `restart-window`: honours `job.mayRestart: false` (an older relay would restart at once);
 *   - `release-tags`: verifies a `refs/tags/…` job's tag peels to its commit on an allowed branch;
 *   - `alerts`: delivers `alert` messages to Home Assistant `notify.*` services and answers `alerted`;
 *   - `pull-plans`: runs a read-only `plan` of a pull request's head and answers `planned` (shared/pull-plan.ts).
 */
export const RELAY_CAPABILITIES = { restartWindow: 'restart-window', releaseTags: 'release-tags', alerts: 'alerts', pullPlans: 'pull-plans' } as const;

/** Bumped on any change a peer of the previous version could misread. */
export const PROTOCOL_VERSION = 1;

/**
 * Close codes the hub uses (4000–4999 is the application range of RFC 6455).
 * A relay reconnects after every one of them except `versionUnsupported`, which needs an upgrade.
 */
export const CLOSE_CODES = {
  /** A newer connection with the same token took over this target; the older one is closed. */
  replaced: 4000,
  /** `hello` named a protocol version this hub does not speak. */
  versionUnsupported: 4002,
  /** The relay did not say `hello` within the time allowed after connecting. */
  helloTimeout: 4003,
  /** The relay's token no longer matches (rotated while connected). */
  unauthorized: 4001,
} as const;

/**
 * The largest frame the hub reads (Cloudflare's limit on a WebSocket message a Worker receives). A
 * larger one is answered with `invalid_message` unread, so nothing that size is parsed or stored.
 */
export const MAX_RELAY_FRAME_BYTES = 1024 * 1024;

/** The exact text of the heartbeat; the hub answers it with `PONG_TEXT` without waking up. */
export const PING_TEXT = '{"type":"ping"}';
export const PONG_TEXT = '{"type":"pong"}';

// Every id in a message has the exact shape its maker gives it, so that no message can carry a
// path, a NUL or a shell word where an id goes: the relay names folders and files after some of them.

/** A job is a deployment of the edge: `dep_` + 18 base32 characters, as `newId('dep')` makes them. */
export const JobId = z.string().regex(DEPLOYMENT_ID_PATTERN, 'a deployment id: dep_ and 18 base32 characters, e.g. dep_01m82e4vg06ns08fd0');
/** A backup as the relay names it: `lanyard-20261122T190500Z-01m82e4vg06ns08fd0`. */
export const BackupId = z.string().regex(BACKUP_ID_PATTERN, 'a backup id: lanyard-, a UTC time like 20261122T190500Z, -, and up to 32 lowercase letters, digits, "_" or "-"');
/** A target's name, as the edge's TARGETS and the relay's `edge.target` spell it. */
export const TargetName = z.string().regex(TARGET_NAME_PATTERN, 'a target name: lowercase letters, digits and dashes, starting with a letter or digit, at most 63');
/** The branch or tag a deployment came from, as git would spell it. */
export const GitRef = z.string().refine(isBranchOrTagRef, 'refs/heads/<branch> or refs/tags/<tag>, a name git would take, at most 255 bytes');
/** How many times the hub has sent a job: far below anything a relay could misread. */
const Attempt = z.number().int().positive().max(1_000_000);
/** The longest lease or timeout a hub may give: a day, well below what a timer can hold (2^31 ms). */
const Duration = z.number().int().positive().max(86_400_000);

/** The longest `requestedBy` a job carries; the hub cuts a longer actor to it. */
export const MAX_REQUESTED_BY_CHARS = 256;

export const JobKind = z.enum(['deploy', 'rollback']);
export type JobKind = z.infer<typeof JobKind>;

// ---- hub → relay -------------------------------------------------------------------------------

export const JobMessage = z.object({
  type: z.literal('job'),
  jobId: JobId,
  /** Incremented each time the hub re-sends a job that was not acknowledged. */
  attempt: Attempt,
  kind: JobKind,
  target: TargetName,
  sha: CommitSha,
  ref: GitRef,
  /** For a rollback: the backup to restore; null means "deploy `sha` through the pipeline". */
  backupId: BackupId.nullable(),
  /** What the edge asks for; the relay's `deploy.allowDriftOverwrite` caps it (an edge may not overwrite host edits on its own say). */
  driftPolicy: DriftPolicy,
  requestedBy: oneLine(MAX_REQUESTED_BY_CHARS),
  /** The commit's message as the edge knows it (push payload), for the house's sensor; optional so an older edge's job still parses. */
  commitMessage: z.string().max(4096).optional(),
  /**
   * Whether the relay may restart Home Assistant in this run (the target's restart window, or an
   * operator's "restart now"). False: a deploy whose plan needs a restart is written, checked by
   * Home Assistant, put back as it was and reported `waiting_for_window`; one that needs only
   * reloads runs as ever. Absent (an older edge): true.
   */
  mayRestart: z.boolean().optional(),
  /** W3C trace context of the deployment's trace (`00-<32 hex>-<16 hex>-<2 hex>`): the relay's step spans join it. */
  traceparent: z.string().regex(TRACEPARENT_PATTERN, 'a W3C traceparent: 00-<32 hex>-<16 hex>-<2 hex>').optional(),
});
export type JobMessage = z.infer<typeof JobMessage>;

export const CancelMessage = z.object({ type: z.literal('cancel'), jobId: JobId, reason: oneLine(1000) });

export const WelcomeMessage = z.object({
  type: z.literal('welcome'),
  v: z.number().int(),
  target: TargetName,
  /** How long the relay may stay silent during a job before the hub declares it lost. */
  leaseMs: Duration,
  ackTimeoutMs: Duration,
  /** The edge's release (shared/release-version.ts); optional so an older edge's welcome still parses. */
  edgeVersion: z.string().max(64).optional(),
});

/** The longest text of an `error` message; a peer cuts what it sends to it. */
export const MAX_ERROR_CHARS = 4000;

export const ErrorMessage = z.object({
  type: z.literal('error'),
  code: z.enum(['invalid_message', 'unknown_job', 'stale_attempt', 'busy', 'internal']),
  message: z.string().max(MAX_ERROR_CHARS),
  jobId: JobId.optional(),
});
export type ErrorMessage = z.infer<typeof ErrorMessage>;

export const PongMessage = z.object({ type: z.literal('pong') });

/** The hub has the result of this job durably: the relay may drop it from its outbox. */
export const RecordedMessage = z.object({ type: z.literal('recorded'), jobId: JobId });

export const HubMessage = z.discriminatedUnion('type', [
  JobMessage,
  CancelMessage,
  WelcomeMessage,
  ErrorMessage,
  PongMessage,
  RecordedMessage,
  CaptureMessage,
  TargetStateMessage,
  AlertMessage,
  PlanMessage,
]);
export type HubMessage = z.infer<typeof HubMessage>;

// ---- relay → hub -------------------------------------------------------------------------------

export const InFlightJob = z.object({
  jobId: JobId,
  attempt: Attempt,
  step: StepName,
});
export type InFlightJob = z.infer<typeof InFlightJob>;

export const HelloMessage = z.object({
  type: z.literal('hello'),
  v: z.number().int(),
  relayId: z.string().min(1).max(128),
  version: z.string().max(64),
  capabilities: z.array(z.string().max(64)).max(64),
  /** The job the relay's journal says it was working on, if any. */
  inFlight: InFlightJob.nullable(),
  /**
   * Whether Home Assistant answered the relay with its token when the relay started (doctor's check),
   * for the status page's first-run checklist; optional so an older relay's hello still parses.
   */
  homeAssistant: z.object({ ok: z.boolean(), detail: z.string().max(500) }).nullable().optional(),
});
export type HelloMessage = z.infer<typeof HelloMessage>;

export const AckMessage = z.object({ type: z.literal('ack'), jobId: JobId, attempt: Attempt });

/**
 * Extra facts about a step (the relay sends `{heartbeat: true}`): flat and small, since the hub stores
 * it with the step and hands it back on every read. A nested value could be nested deeper than any
 * reader can walk, and would break the deployment's log for good.
 */
export const ProgressDetail = z.record(z.string().max(64), z.unknown()).superRefine((detail, ctx) => {
  const entries = Object.entries(detail);
  if (entries.length > 32) ctx.addIssue({ code: 'custom', message: 'at most 32 entries' });
  for (const [key, value] of entries) {
    const flat = value === null || typeof value === 'boolean' || typeof value === 'number' || (typeof value === 'string' && value.length <= 1000);
    if (!flat) ctx.addIssue({ code: 'custom', path: [key], message: 'a string of at most 1000 characters, a number, a boolean or null' });
  }
});

export const ProgressMessage = z.object({
  type: z.literal('progress'),
  jobId: JobId,
  step: StepName,
  status: StepStatus,
  message: z.string().max(4000),
  at: z.number().int(),
  durationMs: z.number().nonnegative().optional(),
  detail: ProgressDetail.optional(),
  /**
   * Issue 20, traces: the step's span in the job's trace (`job.traceparent`), on the step's `started`
   * event and on the event that ends it; absent when the job carried no trace context. Optional, so
   * an older relay's progress still parses, and an older edge drops it unread.
   */
  span: StepSpan.optional(),
});
export type ProgressMessage = z.infer<typeof ProgressMessage>;

/** `waiting_for_window`: the deploy needs a restart the edge held (`job.mayRestart: false`); checked, put back, nothing changed on the host. */
/** At most this many step spans ride on a result; a job's steps, retries and restores included, stay far below it. */
export const MAX_RESULT_STEP_SPANS = 64;

export const ResultStatus = z.enum(['succeeded', 'failed', 'rolled_back', 'waiting_for_window']);
export type ResultStatus = z.infer<typeof ResultStatus>;

export const ResultMessage = z.object({
  type: z.literal('result'),
  jobId: JobId,
  status: ResultStatus,
  /** Why it did not succeed: the first failure, in a sentence a user can act on. */
  reason: z.string().max(4000).nullable(),
  summary: DeploymentSummary,
  /**
   * The last progress event of each step span the job made (issue 20, traces), again: a socket's
   * events are not always handled in the order sent, and a step's end that arrives after the result
   * would miss the trace, which is built when the deployment ends. Optional: an older relay sends none.
   */
  stepSpans: z.array(ProgressMessage).max(MAX_RESULT_STEP_SPANS).optional(),
});
export type ResultMessage = z.infer<typeof ResultMessage>;

/**
 * The capability a relay names in `hello` when it sends `backups`. The hub forgets the inventory of a
 * relay that does not (an older relay replacing a newer one), so it never refuses restores from a stale list.
 */
export const BACKUP_INVENTORY_CAPABILITY = 'backup-inventory';

/** At most this many backups in one `backups` message: the newest, when the host keeps more. */
export const MAX_REPORTED_BACKUPS = 200;

/** One backup kept on the Home Assistant host, as the relay's record of it says. */
export const KeptBackup = z.object({
  /** As the relay names it, e.g. `lanyard-20261122T190500Z-01m82e4vg06ns08fd0`. */
  id: BackupId,
  /** When it was taken (ms since the epoch, the relay's clock). */
  createdAt: z.number().int().nonnegative(),
  /** The job (deployment) that took it, when its record names one. */
  deploymentId: JobId.nullable(),
  /** The commit deployed on the host before it was taken, when known. */
  sha: CommitSha.nullable(),
  /** How many files it holds. */
  files: z.number().int().nonnegative(),
  /** The archive's size in bytes. */
  bytes: z.number().int().nonnegative(),
});
export type KeptBackup = z.infer<typeof KeptBackup>;

/**
 * The backups the host keeps now (the relay prunes old ones), oldest first; sent after `welcome`
 * and after every job. An older relay never sends it, and the edge then knows no inventory.
 */
export const BackupsMessage = z.object({
  type: z.literal('backups'),
  backups: z.array(KeptBackup).max(MAX_REPORTED_BACKUPS),
  /** When the relay listed them (its clock). */
  at: z.number().int(),
});
export type BackupsMessage = z.infer<typeof BackupsMessage>;

export const RelayErrorMessage = ErrorMessage;
export const PingMessage = z.object({ type: z.literal('ping') });

export const RelayMessage = z.discriminatedUnion('type', [
  HelloMessage,
  AckMessage,
  ProgressMessage,
  ResultMessage,
  BackupsMessage,
  RelayErrorMessage,
  PingMessage,
  DriftReportMessage,
  CapturedMessage,
  AlertedMessage,
  PlannedMessage,
]);
export type RelayMessage = z.infer<typeof RelayMessage>;

/** Parses a frame; returns a value, never throws, so neither side can be crashed by a bad frame. */
export function parseFrame<T extends z.ZodType>(
  schema: T,
  frame: string | ArrayBuffer | Uint8Array,
): { ok: true; message: z.infer<T> } | { ok: false; error: string } {
  const text = typeof frame === 'string' ? frame : new TextDecoder().decode(frame);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: 'frame is not JSON' };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, error: describeZodError(parsed.error) };
  return { ok: true, message: parsed.data };
}

/** `field.path: what is wrong; other.field: …` — names the field, as users need. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
