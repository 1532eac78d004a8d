// A pull request's plan: what merging it would do to the house, with nothing written. The relay
// fetches `refs/pull/<n>/head` from its own remote and refuses a head that is not the commit the edge
// named, then runs every step of a deploy that writes nothing — the commit's checks (paths, protected
// paths, links), the plan against the live host with merges of host edits, the activation (reloads
// or a restart) — and reports it. No staging folder, no backup, no manifest: the host is only read.
// Drift is judged as the `stop` policy judges it (the deploy's default): every file changed on the
// host that the merge would overwrite is a conflict, unless it merges cleanly.
import { GitError } from '../pipeline/git-error.ts';
import { decideActivation } from '../pipeline/activation-map.ts';
import { configurationTexts, readLanyardFile } from '../pipeline/commit-texts.ts';
import { describeConflicts } from '../merge/merge-conflict.ts';
import { planAgainstHost } from '../pipeline/plan-against-host.ts';
import type { PipelineParts } from '../pipeline/pipeline-parts.ts';
import type { PathRefused } from '../pipeline/path-safety.ts';
import { firstOf, MAX_PLAN_TEXT, type PlanMessage, type PlannedMessage } from '../../shared/pull-plan.ts';
import type { Plan } from '../pipeline/plan.ts';
import type { Manifest } from '../pipeline/manifest.ts';

/** Text cut to fit a field of the answer, on one line where the field wants one. */
function clip(text: string, max = MAX_PLAN_TEXT): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
function line(text: string, max: number): string {
  return clip(text.replace(/[\u0000-\u001f\u007f]+/g, ' '), max);
}

/** An answer with nothing planned: refused or failed, and why. */
export function unplanned(planId: string, outcome: 'refused' | 'failed', reason: string, refused: readonly PathRefused[] = []): PlannedMessage {
  const refusals = firstOf(refused);
  return {
    type: 'planned', planId, outcome, reason: clip(reason),
    toWrite: [], toWriteCount: 0, toDelete: [], toDeleteCount: 0,
    activation: 'none', activationReasons: [], reloadDomains: [],
    conflicts: [], conflictsCount: 0, merged: [],
    refusals: refusals.kept.map((r) => ({ path: clip(r.path, 4096), problem: clip(r.message) })), refusalsCount: refusals.count,
    at: Date.now(),
  };
}

/** Plans the pull request's head against the live host; never throws, never writes. */
export async function planPullRequest(parts: PipelineParts, message: PlanMessage): Promise<PlannedMessage> {
  const { config, git } = parts;
  if (message.baseBranch !== config.git.branch) {
    return unplanned(message.planId, 'refused', `pull request #${message.pullNumber} merges into ${message.baseBranch}, but this relay deploys ${config.git.branch}; nothing was fetched`);
  }
  try {
    await git.fetchPullHead(message.pullNumber, message.headSha);
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    return unplanned(message.planId, error instanceof GitError && error.code === 'not_on_branch' ? 'refused' : 'failed', text);
  }
  try {
    return await planFetched(parts, message);
  } catch (error) {
    return unplanned(message.planId, 'failed', `the plan could not be made: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function planFetched(parts: PipelineParts, message: PlanMessage): Promise<PlannedMessage> {
  const sha = message.headSha;
  const lanyard = await readLanyardFile(parts, sha, parts.config.git.subfolder);
  let refusedByCommit: readonly PathRefused[] = [];
  const planned = await planAgainstHost(parts, {
    sha,
    driftPolicy: 'stop',
    lanyard,
    refusedByCommit: (commit) => {
      // As a deploy: a commit refused for what it holds alone never touches the host.
      if (commit.refused.length) {
        refusedByCommit = commit.refused;
        throw new CommitRefused();
      }
    },
  }).catch((error: unknown) => {
    if (error instanceof CommitRefused) return null;
    throw error;
  });
  if (!planned) return unplanned(message.planId, 'refused', refusalReason(refusedByCommit), refusedByCommit);
  const { plan, target, previousManifest, merges } = planned;
  if (plan.refused.length) return unplanned(message.planId, 'refused', refusalReason(plan.refused), plan.refused);

  const toWrite = plan.toWrite.map((f) => f.path);
  const activation = decideActivation(toWrite, plan.toDelete, lanyard.activation, await configurationTexts(parts, sha, plan, target));
  const reasons = [...activation.reasons].sort((a, b) => rank(b.need) - rank(a.need)).filter((r) => r.need !== 'none');
  const conflicts = conflictsOf(plan, previousManifest, merges.size ? plan.mergeConflicts : []);
  const writes = firstOf(toWrite);
  const deletes = firstOf(plan.toDelete);
  const shownConflicts = firstOf(conflicts);
  return {
    type: 'planned',
    planId: message.planId,
    outcome: 'planned',
    reason: null,
    toWrite: writes.kept,
    toWriteCount: writes.count,
    toDelete: deletes.kept,
    toDeleteCount: deletes.count,
    activation: activation.activation,
    activationReasons: firstOf(reasons).kept.map((r) => ({ path: r.path, need: line(r.need, 200), why: line(r.why, 300) })),
    reloadDomains: activation.reloadDomains.slice(0, 64).map((d) => line(d, 64)),
    conflicts: shownConflicts.kept,
    conflictsCount: shownConflicts.count,
    merged: firstOf(plan.merged).kept,
    refusals: [],
    refusalsCount: 0,
    at: Date.now(),
  };
}

class CommitRefused extends Error {}

function refusalReason(refused: readonly PathRefused[]): string {
  return `${refused.length === 1 ? '1 path' : `${refused.length} paths`} in the pull request cannot be deployed safely; a merge would deploy nothing until ${refused.length === 1 ? 'it is' : 'they are'} fixed`;
}

function rank(need: string): number {
  return need === 'restart' ? 2 : need.startsWith('reload') ? 1 : 0;
}

/** Each file changed on the host since the last deploy that the merge would overwrite or delete, and why. */
function conflictsOf(plan: Plan, previous: Manifest | null, mergeConflicts: Plan['mergeConflicts']): { path: string; why: string }[] {
  const deployed = new Map((previous?.files ?? []).map((f) => [f.path, f.sha256]));
  const unmerged = new Map(mergeConflicts.map((c) => [c.path, describeConflicts(c.path, c.conflicts)]));
  return plan.drift.map((d) => {
    const changedByPull = d.deployWants === 'delete' || plan.toWrite.some((f) => f.path === d.path && f.sha256 !== deployed.get(d.path));
    const onHost = d.change === 'deleted' ? 'deleted on the host since the last deploy' : 'edited on the host since the last deploy';
    const what = d.deployWants === 'delete'
      ? 'the pull request deletes it'
      : changedByPull ? 'the pull request changes it too' : 'a deploy would put back the deployed version';
    const merge = unmerged.get(d.path);
    return { path: d.path, why: clip(`${onHost}; ${what}${merge ? `; not merged: ${merge}` : ''}. Capture the host's edits into the repository first, or overwrite them when deploying.`) };
  });
}
