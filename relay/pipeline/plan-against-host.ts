// What a commit would do to the live host, worked out without writing anything: the commit's own
// checks (paths, protected paths, links), the host's live tree and the manifest in force, the plan,
// and three-way merges of drifted files the commit also changes. A deploy's `plan` step runs it
// before its backup; a pull request's plan (relay/pull-plan/) runs it and stops there.
import type { DriftPolicy } from '../../shared/deployment.ts';
import type { TargetHost } from '../transport/target-host.ts';
import type { MergeResult } from '../merge/three-way-merge.ts';
import { checkCommit, type CheckedCommit } from './commit-checks.ts';
import type { LanyardFile } from './lanyard-file.ts';
import { hashLiveTree } from './live-tree.ts';
import type { Manifest } from './manifest.ts';
import { mergeCandidates } from './merge-candidates.ts';
import { mergeOnHost } from './host-merges.ts';
import type { PipelineParts } from './pipeline-parts.ts';
import { planOnHost, type Plan } from './plan.ts';

export interface HostPlan {
  commit: CheckedCommit;
  plan: Plan;
  merges: Map<string, MergeResult>;
  target: TargetHost;
  previousManifest: Manifest | null;
}

/**
 * The commit alone first; `refusedByCommit` is called with its refusals before the host is touched
 * (a deploy throws there: a commit refused for what it holds never connects to the host). Reads only.
 */
export async function planAgainstHost(
  parts: PipelineParts,
  input: { sha: string; driftPolicy: DriftPolicy; lanyard: LanyardFile; refusedByCommit: (commit: CheckedCommit) => void },
): Promise<HostPlan> {
  const { config, git, root, configRoots, liveHashes, manifests } = parts;
  const subfolder = config.git.subfolder;
  // Everything the commit alone decides comes first: a refused first deploy of 15,000 files
  // costs the git listing, not a hashing of the whole host.
  const commitFiles = await git.listCommitFiles(input.sha, subfolder || undefined);
  const commit = checkCommit({
    commitFiles: commitFiles.files,
    submodules: commitFiles.skipped,
    include: config.deploy.include,
    repoInclude: input.lanyard.include,
    exclude: [...config.deploy.exclude, ...input.lanyard.exclude],
    protect: [...config.deploy.protect, ...input.lanyard.protect],
    configRoot: configRoots,
  });
  input.refusedByCommit(commit);
  const target = await parts.host();
  const [live, previous] = await Promise.all([hashLiveTree(target, root, liveHashes), manifests.read(target)]);
  const hostInput = { commitSha: input.sha, liveFiles: live.files, unhashedLivePaths: live.unhashed, previousManifest: previous, driftPolicy: input.driftPolicy };
  let plan = planOnHost(commit, hostInput);
  let merges = new Map<string, MergeResult>();
  // Drift the commit also changed, in a file Home Assistant's UI writes: merged if it can be,
  // then planned again with the merges. Only where the deploy would otherwise stop.
  const candidates = input.driftPolicy === 'stop' && !plan.refused.length
    ? mergeCandidates({ drift: plan.drift, deploySet: commit.deploySet, previousManifest: previous, mergeFiles: config.deploy.mergeFiles, protection: commit.protection })
    : [];
  if (candidates.length && previous) {
    merges = await mergeOnHost(candidates, { git, host: target, root, subfolder, baseSha: previous.sha, commitSha: input.sha, liveFiles: live.files });
    plan = planOnHost(commit, { ...hostInput, merges });
  }
  return { commit, plan, merges, target, previousManifest: previous };
}
