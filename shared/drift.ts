// Drift between deploys, and capturing it: what the relay's drift watch reports to the edge, how an
// operator chooses a way on when a deploy stops on drift, and what a capture (host edits made into a
// branch of the config repository) asks and answers. Shared by the edge, the relay and the status page.
//
// Nothing here carries a protected path's content: the relay never reads protected paths for drift,
// so a report can only name files Lanyard deployed (or files added in folders it deploys to).
import { z } from 'zod';
import { CommitSha, oneLine } from './wire-text.ts';
import { CAPTURE_ID_PATTERN, TARGET_NAME_PATTERN } from './ids.ts';

/** A path relative to the config folder, as the manifest spells it: no control characters, bounded. */
export const ConfigPath = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'a path without control characters')
  .refine((p) => !p.startsWith('/') && !p.split('/').some((part) => part === '' || part === '.' || part === '..'), 'a relative path inside the config folder, without empty, "." or ".." parts');

/** How a file differs from what Lanyard deployed last. */
export const DriftChange = z.enum(['modified', 'added', 'deleted']);
export type DriftChange = z.infer<typeof DriftChange>;

/** At most this many files in one drift report (the first, in path order); `total` counts them all. */
export const MAX_DRIFT_FILES = 500;
/** The longest diff of one file a report carries; a longer one is cut and says so in `diffNote`. */
export const MAX_DRIFT_DIFF_CHARS = 16 * 1024;
/** All diffs of one report together: keeps the frame well below the hub's 1 MiB limit. */
export const MAX_DRIFT_DIFFS_CHARS = 256 * 1024;

export const DriftedFile = z.object({
  path: ConfigPath,
  change: DriftChange,
  /** When the watch first saw this file differ (ms since the epoch, the relay's clock). */
  since: z.number().int().nonnegative(),
  /**
   * A unified diff from the deployed version to the host's, for a text file; null for a binary or
   * deleted file, or once the report's diff budget is spent (`diffNote` says which).
   */
  diff: z.string().max(MAX_DRIFT_DIFF_CHARS).nullable(),
  diffNote: oneLine(200).nullable(),
});
export type DriftedFile = z.infer<typeof DriftedFile>;

/**
 * The relay's drift watch, after every look at the host (and only when the answer changed, or as a
 * periodic reminder): what differs from the last deploy's manifest. An empty `files` means the host
 * matches what was deployed.
 */
export const DriftReportMessage = z.object({
  type: z.literal('drift'),
  /** When the relay looked (its clock). */
  at: z.number().int().nonnegative(),
  /** The commit the manifest says is deployed; null before the first deploy (then nothing can drift). */
  deployedSha: CommitSha.nullable(),
  files: z.array(DriftedFile).max(MAX_DRIFT_FILES),
  /** How many files differ in all, when `files` names only the first. */
  total: z.number().int().nonnegative(),
});
export type DriftReportMessage = z.infer<typeof DriftReportMessage>;

/**
 * The ways on when a deploy stopped on drift, chosen by an operator for that deployment only (the
 * target's default policy stays where it is):
 * - `capture`: make the host's edits a pull request first, then deploy keeping the host's versions;
 * - `overwrite`: overwrite them (after the backup), where the relay allows it;
 * - `keep`: deploy everything else and leave the host's versions of the drifted files as they are.
 */
export const DriftChoice = z.enum(['capture', 'overwrite', 'keep']);
export type DriftChoice = z.infer<typeof DriftChoice>;

/** Branches a capture pushes all start with this; the relay refuses to push anywhere else. */
export const CAPTURE_BRANCH_PREFIX = 'lanyard/host-edits/';

/** The capability a relay names in `hello` when it is set up to capture; the hub sends `capture` to no other. */
export const CAPTURE_CAPABILITY = 'capture';

export const CaptureId = z.string().regex(CAPTURE_ID_PATTERN, 'a capture id: cap_ and 18 base32 characters');

/** hub → relay: capture the host's drifted files. Names no path, content or branch: the relay decides them. */
export const CaptureMessage = z.object({
  type: z.literal('capture'),
  captureId: CaptureId,
  target: z.string().regex(TARGET_NAME_PATTERN),
  requestedBy: oneLine(256),
});
export type CaptureMessage = z.infer<typeof CaptureMessage>;

export const CaptureOutcome = z.enum(['pushed', 'nothing_to_capture', 'failed']);
export type CaptureOutcome = z.infer<typeof CaptureOutcome>;

/** relay → hub: what the capture did. */
export const CapturedMessage = z.object({
  type: z.literal('captured'),
  captureId: CaptureId,
  outcome: CaptureOutcome,
  /** `lanyard/host-edits/<target>/<yyyy-mm-dd>` when pushed. */
  branch: z
    .string()
    .max(255)
    .refine((b) => b.startsWith(CAPTURE_BRANCH_PREFIX) && /^[A-Za-z0-9._/-]+$/.test(b) && !b.includes('..'), `a branch under ${CAPTURE_BRANCH_PREFIX}`)
    .nullable(),
  /** The commit pushed, whose parent is `base`. */
  commit: CommitSha.nullable(),
  /** The deployed commit the host edits were put on top of. */
  base: CommitSha.nullable(),
  files: z.array(z.object({ path: ConfigPath, change: DriftChange })).max(MAX_DRIFT_FILES),
  total: z.number().int().nonnegative(),
  /** Why it failed or had nothing to do, in a sentence a user can act on. */
  reason: z.string().max(4000).nullable(),
  at: z.number().int().nonnegative(),
});
export type CapturedMessage = z.infer<typeof CapturedMessage>;
