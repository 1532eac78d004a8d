// The deployment's vocabulary, shared by the edge (which records it) and the relay (which does it).
import { z } from 'zod';
import { BACKUP_ID_PATTERN } from './ids.ts';

export const DEPLOYMENT_STATUSES = [
  'queued',
  'dispatched',
  'running',
  /** Planned, written, checked by Home Assistant and put back: it needs a restart, and waits for the target's restart window (worker/hub/restart-windows.ts). */
  'waiting_for_window',
  'succeeded',
  'failed',
  'rolled_back',
  'superseded',
  'cancelled',
] as const;
export const DeploymentStatus = z.enum(DEPLOYMENT_STATUSES);
export type DeploymentStatus = z.infer<typeof DeploymentStatus>;

/** A deployment in one of these states will never change again. */
export const FINAL_STATUSES: readonly DeploymentStatus[] = ['succeeded', 'failed', 'rolled_back', 'superseded', 'cancelled'];
/** Final states that mean the relay actually ran the job (used by metrics). */
export const RAN_STATUSES: readonly DeploymentStatus[] = ['succeeded', 'failed', 'rolled_back'];

export function isFinal(status: DeploymentStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

export const DeploymentKind = z.enum(['deploy', 'rollback']);
export type DeploymentKind = z.infer<typeof DeploymentKind>;

/**
 * `retry`: an operator tried a failed or rolled-back deploy again, the same commit (worker/hub/retry.ts).
 * `tag`: a pushed release tag matching the target's `{ type: "tag", pattern }` trigger.
 */
export const TriggerKind = z.enum(['push', 'workflow_run', 'dispatch', 'manual', 'retry', 'rollback', 'tag']);
export type TriggerKind = z.infer<typeof TriggerKind>;

/** The relay's pipeline, in order. `rollback` and `restore` only run when something failed or was asked for. */
export const STEP_NAMES = [
  'fetch',
  'plan',
  'drift',
  /** A backup Home Assistant itself keeps (Supervisor partial backup), before a deploy that restarts it. */
  'ha_backup',
  'backup',
  'apply',
  'check',
  'activate',
  'verify',
  'rollback',
  'restore',
  'record',
] as const;
export const StepName = z.enum(STEP_NAMES);
export type StepName = z.infer<typeof StepName>;

export const StepStatus = z.enum(['started', 'succeeded', 'failed', 'skipped']);
export type StepStatus = z.infer<typeof StepStatus>;

export const Activation = z.enum(['none', 'reload', 'restart']);
export type Activation = z.infer<typeof Activation>;

export const DriftPolicy = z.enum(['stop', 'overwrite', 'report-only']);
export type DriftPolicy = z.infer<typeof DriftPolicy>;

/** What the relay reports about a finished job; every field is optional so a job that failed early can still report. */
export const DeploymentSummary = z.object({
  filesChanged: z.array(z.string()).default([]),
  filesDeleted: z.array(z.string()).default([]),
  bytesSent: z.number().int().nonnegative().default(0),
  activation: Activation.default('none'),
  reloadedDomains: z.array(z.string()).default([]),
  /** The backup the job took or restored, named as the relay names backups (shared/ids.ts). */
  backupId: z.string().regex(BACKUP_ID_PATTERN, 'a backup id such as lanyard-20261122T190500Z-01m82e4vg06ns08fd0').nullable().default(null),
  drift: z.array(z.string()).default([]),
  durationsMs: z.record(z.string(), z.number().nonnegative()).default({}),
  /** How many files changed or were deleted in all, when the lists above name only the first ones. */
  filesChangedCount: z.number().int().nonnegative().optional(),
  filesDeletedCount: z.number().int().nonnegative().optional(),
  driftCount: z.number().int().nonnegative().optional(),
  /**
   * Files changed both on the host and in the commit that were merged (YAML lists by `id`, mappings
   * by key) and deployed merged; the host's side still has to reach git (a capture). Optional so an
   * older relay's summary still parses.
   */
  merged: z.array(z.string()).optional(),
  /**
   * The backup Home Assistant took of its configuration before this deploy restarted it (its
   * Backups page lists it by `slug`); null when none was taken. Optional so an older relay's summary still parses.
   */
  homeAssistantBackup: z
    .object({
      slug: z.string().regex(/^[a-z0-9_-]{1,64}$/, 'a backup slug as Home Assistant names it, e.g. 1a2b3c4d'),
      name: z.string().max(200),
    })
    .nullable()
    .optional(),
  /** The plan needed a restart that the edge held for the target's restart window; the files were put back. */
  restartHeld: z.boolean().optional(),
});
export type DeploymentSummary = z.infer<typeof DeploymentSummary>;

/**
 * How many paths, and how many characters of them, one list of a summary may carry. A first deploy
 * of a large config changes thousands of files; naming them all would make the result outgrow the
 * hub's frame limit (MAX_RELAY_FRAME_BYTES), and a result that is refused is never recorded.
 */
export const SUMMARY_PATHS_LIMIT = 500;
export const SUMMARY_PATH_CHARS_LIMIT = 64 * 1024;

function firstPaths(paths: readonly string[]): string[] {
  const kept: string[] = [];
  let chars = 0;
  for (const path of paths) {
    if (kept.length >= SUMMARY_PATHS_LIMIT || chars + path.length > SUMMARY_PATH_CHARS_LIMIT) break;
    kept.push(path);
    chars += path.length;
  }
  return kept;
}

/** The summary with each path list cut to its first paths, and the full counts beside the cut ones. */
export function boundedSummary(summary: DeploymentSummary): DeploymentSummary {
  const bounded: DeploymentSummary = { ...summary };
  for (const [list, count] of [['filesChanged', 'filesChangedCount'], ['filesDeleted', 'filesDeletedCount'], ['drift', 'driftCount']] as const) {
    const kept = firstPaths(summary[list]);
    if (kept.length < summary[list].length) {
      bounded[list] = kept;
      bounded[count] = summary[count] ?? summary[list].length;
    }
  }
  return bounded;
}

/** How many paths a summary's list stands for, including those it no longer names. */
export function pathCount(summary: DeploymentSummary, list: 'filesChanged' | 'filesDeleted' | 'drift'): number {
  const count = { filesChanged: summary.filesChangedCount, filesDeleted: summary.filesDeletedCount, drift: summary.driftCount }[list];
  return Math.max(count ?? 0, summary[list].length);
}
