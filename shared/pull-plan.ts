// Plans of pull requests: what merging a pull request into a target's branch would do to the house,
// worked out by the relay without writing anything (docs/pull-request-plans.md). The hub asks with a
// `plan` message that names a pull request's number and head commit, never content, a command or a
// URL: the relay fetches `refs/pull/<number>/head` from its own configured remote and refuses a head
// that is not the commit named. Its answer, `planned`, is bounded in every list and string, so a plan
// of a 15,000-file first deploy still fits one frame.
import { z } from 'zod';
import { Activation } from './deployment.ts';
import { ConfigPath } from './drift.ts';
import { PLAN_ID_PATTERN, TARGET_NAME_PATTERN } from './ids.ts';
import { CommitSha, oneLine } from './wire-text.ts';

export const PlanId = z.string().regex(PLAN_ID_PATTERN, 'a plan id: pln_ and 18 base32 characters');

/** A pull request's number as GitHub gives it. */
export const PullNumber = z.number().int().positive().max(1_000_000_000);

/** A branch name as GitHub's `base.ref` gives it (no `refs/heads/`), bounded and without control characters or spaces. */
export const BaseBranch = z.string().min(1).max(255).regex(/^[^\u0000-\u0020\u007f~^:?*[\\]+$/, 'a branch name as git would take it');

/** hub → relay: plan this pull request's head against the live host, writing nothing. */
export const PlanMessage = z.object({
  type: z.literal('plan'),
  planId: PlanId,
  target: z.string().regex(TARGET_NAME_PATTERN),
  pullNumber: PullNumber,
  /** The head the edge was told of; the relay refuses a `refs/pull/<n>/head` that resolves to anything else. */
  headSha: CommitSha,
  /** The branch the pull request merges into: the target's deployed branch. */
  baseBranch: BaseBranch,
});
export type PlanMessage = z.infer<typeof PlanMessage>;

/**
 * `planned`: every check ran and the plan is below (it may still show conflicts);
 * `refused`: the head cannot be deployed as it is (unsafe paths, a head that is not the commit named);
 * `failed`: the plan could not be made (git, the host); says why, nothing else is known.
 */
export const PlanOutcome = z.enum(['planned', 'refused', 'failed']);
export type PlanOutcome = z.infer<typeof PlanOutcome>;

/** At most this many paths in each list of a plan; the counts beside them say how many there are. */
export const MAX_PLAN_PATHS = 200;
/** The longest reason, refusal or conflict text a plan carries. */
export const MAX_PLAN_TEXT = 1000;

const PlanText = z.string().max(MAX_PLAN_TEXT);

export const PlannedMessage = z.object({
  type: z.literal('planned'),
  planId: PlanId,
  outcome: PlanOutcome,
  /** Why the plan was refused or failed, in a sentence a user can act on; null when planned. */
  reason: PlanText.nullable(),
  toWrite: z.array(ConfigPath).max(MAX_PLAN_PATHS),
  toWriteCount: z.number().int().nonnegative(),
  toDelete: z.array(ConfigPath).max(MAX_PLAN_PATHS),
  toDeleteCount: z.number().int().nonnegative(),
  activation: Activation,
  /** Why: one line per path that decides it (restarts first). */
  activationReasons: z.array(z.object({ path: ConfigPath, need: oneLine(200), why: oneLine(300) })).max(MAX_PLAN_PATHS),
  reloadDomains: z.array(oneLine(64)).max(64),
  /** Files changed on the host since the last deploy that the pull request also changes (and that would not merge). */
  conflicts: z.array(z.object({ path: ConfigPath, why: PlanText })).max(MAX_PLAN_PATHS),
  conflictsCount: z.number().int().nonnegative(),
  /** Files changed on the host that the deploy would merge with the pull request's version. */
  merged: z.array(ConfigPath).max(MAX_PLAN_PATHS),
  /** Paths the deploy would refuse, each with its fix: the same texts a deploy gives. */
  refusals: z.array(z.object({ path: z.string().max(4096), problem: PlanText })).max(MAX_PLAN_PATHS),
  refusalsCount: z.number().int().nonnegative(),
  at: z.number().int().nonnegative(),
});
export type PlannedMessage = z.infer<typeof PlannedMessage>;

/** The first paths of a list that fit, and how many there are in all. */
export function firstOf<T>(items: readonly T[], limit = MAX_PLAN_PATHS): { kept: T[]; count: number } {
  return { kept: items.slice(0, limit), count: items.length };
}
