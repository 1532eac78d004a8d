// The plan of one deploy, decided without touching anything: which files of the commit to write,
// which files Lanyard deployed before and must now delete, what is protected, unsafe, or was
// changed on the host since the last deploy (drift), and the manifest to record if it succeeds.
// A pure function of the commit's file list, the host's live hashes and the previous manifest,
// so every rule here is tested without a host. In two stages: checkCommit (commit-checks.ts)
// decides what the commit alone decides, and the pipeline runs it before it touches the host;
// planOnHost brings in the host's files, links and manifest.
//
// The rules a homeowner can rely on:
// - Lanyard deletes only files its previous manifest lists. Files on the host it never deployed
//   (Home Assistant's own, or ones added by hand) are left alone.
// - Protected paths are never written or deleted, even when the repository holds them.
// - A file deployed before and now excluded or protected is *released*: left on the host as it is
//   and dropped from the manifest, never deleted (excluding `automations.yaml` to let the UI own
//   it must not delete it).
// - Drift is a file Lanyard deployed whose live content no longer matches what Lanyard wrote, and
//   which this deploy would overwrite, delete or re-create. A host edit that already equals the
//   commit is not drift. The drift policy decides:
//     stop         the plan carries a DriftDetected error; nothing may be applied.
//     overwrite    drifted files are overwritten or deleted like any other, after the backup
//                  (they are in `mustBackup`) so the host's version can be recovered.
//     report-only  the deploy goes ahead but leaves drifted files as the host has them; they are
//                  reported, and their manifest entries stay as they were, so the next deploy
//                  reports them again until the repository and the host agree.
// - First deploy (no manifest): Lanyard adopts the host. Live files identical to the commit count
//   as deployed (`adopted`); live files that differ are reported (`adoptDiffers`) and then
//   overwritten after the backup, because without a manifest there is no evidence that the host's
//   version is a UI edit rather than an older copy of the repository, and the repository is what
//   the homeowner asked to deploy. The same applies later to a new repository file that replaces
//   a host file Lanyard never deployed. Nothing is deleted on a first deploy.
// - Merge (under `stop` only): a drifted file the commit also changed, whose three-way merge the
//   pipeline found clean (`merges`, relay/merge/), is not drift: the merged file is written (or,
//   when the host already holds the merge, left as it is) and listed in `merged`. Its manifest
//   entry is the COMMIT's hash, not the merged file's: the host keeps differing from git until its
//   side is captured into the repository, so the next plan and the edge's drift watch keep seeing
//   the host's edits as host edits rather than as something Lanyard deployed (and the next deploy
//   merges again against this commit's file). A merge that is not clean stays drift and stops the
//   deploy, its conflicts in `mergeConflicts`.
// - Modes: git records only whether a file is executable, so only the executable bit is compared;
//   a host whose umask gives 0664 instead of 0644 does not rewrite every file on every deploy.
import type { DriftPolicy } from '../../shared/deployment.ts';
import { comparePaths, type FileEntry, type Manifest } from './manifest.ts';
import { checkCommit, type CheckedCommit, type CommitInput, type ProtectedSkip } from './commit-checks.ts';
import { LinkTree, refuseUnsafeLinks } from './link-resolution.ts';
import { PathRefused } from './path-safety.ts';
import { globOfPath } from './way-out.ts';
import { folderAncestors } from './path-ancestry.ts';
import type { MergeConflict, MergeResult } from '../merge/three-way-merge.ts';

export { DEFAULT_CONFIG_ROOT, type ProtectedSkip } from './commit-checks.ts';

/** What the host says: its files, what Lanyard deployed there last, and how drift is treated. */
export interface HostInput {
  /** The commit being deployed; recorded in the new manifest. */
  commitSha: string;
  /** Every file currently under the config root on the host, with hashes. */
  liveFiles: readonly FileEntry[];
  /** Host files listed but never hashed (databases, logs): never deployed, but a link to their folder would expose them. */
  unhashedLivePaths?: readonly string[] | undefined;
  /** What Lanyard deployed last; null before the first deploy. */
  previousManifest: Manifest | null;
  driftPolicy: DriftPolicy;
  /** Recorded in the new manifest; default now. */
  deployedAt?: number | undefined;
  /** Three-way merges of drifted files the commit also changed (merge-candidates.ts), by path; used under `stop` only. */
  merges?: ReadonlyMap<string, MergeResult> | undefined;
}

export interface PlanInput extends CommitInput, HostInput {}

export interface Drift {
  path: string;
  /** What happened on the host: content edited, or the file removed. */
  change: 'modified' | 'deleted';
  /** What this commit would do to it. */
  deployWants: 'write' | 'delete';
  /** What the drift policy made of it: `stop` the deploy, `overwrite` it (after backup), or `keep` the host's version. */
  action: 'stop' | 'overwrite' | 'keep';
}

export interface Plan {
  commitSha: string;
  /** True when there was no previous manifest: the host is being adopted. */
  firstDeploy: boolean;
  /** Commit entries to write (new, changed content or type, or executable bit), paths relative to the config root. */
  toWrite: FileEntry[];
  /** Files the previous manifest lists, this commit removed, and that still exist on the host. */
  toDelete: string[];
  /** Deployed files already identical on the host. */
  unchanged: string[];
  /** Repository files matching protected paths: never written. */
  skippedProtected: ProtectedSkip[];
  /** Repository files left out by include/exclude rules (and lanyard.yaml itself). */
  excluded: string[];
  /** Submodules of the commit: the relay fetches no other repository, so they are not deployed. */
  submodules: string[];
  /** Previously deployed files now excluded or protected: left on the host, no longer managed. */
  released: string[];
  /** Unsafe paths and symlinks; any makes `error` a PathRefused. */
  refused: PathRefused[];
  drift: Drift[];
  /** First deploy (or a new repository file): host files identical to the commit, now counted as deployed. */
  adopted: string[];
  /** Host files Lanyard had not deployed that the commit replaces with different content (after backup). */
  adoptDiffers: string[];
  /**
   * Drifted files merged cleanly with the commit: deployed merged (those in `toWrite` with the
   * merged content the pipeline holds), recorded with the commit's hash, still to be captured.
   */
  merged: string[];
  /** Drifted files whose merge was not clean: why, item by item, with both versions. */
  mergeConflicts: { path: string; conflicts: MergeConflict[] }[];
  /** Live files the deploy overwrites or deletes: the minimum a backup must hold. */
  mustBackup: string[];
  /** Every live path, for a full backup and for telling created files from replaced ones. */
  livePaths: string[];
  /** The manifest to record once the deploy succeeded. */
  manifest: Manifest;
  /** Set when the plan must not be applied: unsafe paths first, then drift under the `stop` policy. */
  error: PlanError | null;
}

function listNames(names: readonly string[], max = 10): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The commit holds paths or symlinks that could write outside the config root. */
export class PathsRefused extends Error {
  readonly code = 'PathRefused';
  override readonly name = 'PathRefused';

  constructor(readonly refused: readonly PathRefused[]) {
    const details = refused.slice(0, 10).map((r) => `${r.message}.`);
    if (refused.length > 10) details.push(`And ${refused.length - 10} more.`);
    super(`${plural(refused.length, 'path')} in the commit cannot be deployed safely, so nothing was deployed. ${details.join(' ')}`);
  }
}

/**
 * The ways on from a deploy stopped on drift, each one a person can take (not a setting of the edge
 * they cannot reach): drift-policy.ts adds how to ask for them through the API.
 */
export const DRIFT_WAYS_ON =
  'Ways on, from the status page or the API: capture these edits into a pull request, overwrite them for this deployment (the host\'s versions are backed up first), or keep the host\'s versions of these files for this deployment.';

/** Files changed on the host since the last deploy, under the `stop` policy. */
export class DriftDetected extends Error {
  readonly code = 'DriftDetected';
  override readonly name = 'DriftDetected';

  constructor(readonly drift: readonly Drift[]) {
    const names = drift.map((d) => (d.change === 'deleted' ? `${d.path} (deleted on the host)` : d.path));
    super(
      `${plural(drift.length, 'file')} changed on the host since the last deploy: ${listNames(names)}. ` +
        'Nothing was written. ' +
        DRIFT_WAYS_ON,
    );
  }
}

export type PlanError = PathsRefused | DriftDetected;

function sameContent(a: FileEntry, b: FileEntry): boolean {
  if (a.type !== b.type || a.sha256 !== b.sha256) return false;
  return a.type !== 'symlink' || a.linkTarget === undefined || b.linkTarget === undefined || a.linkTarget === b.linkTarget;
}

function sameExecutableBit(live: FileEntry, wanted: FileEntry): boolean {
  if (wanted.type === 'symlink') return true;
  return ((live.mode & 0o111) !== 0) === ((wanted.mode & 0o111) !== 0);
}


/** Decides a deploy; never throws for bad input data, which becomes `refused`, `drift` and `error`. */
export function planDeployment(input: PlanInput): Plan {
  return planOnHost(checkCommit(input), input);
}

/**
 * Decides a deploy from the commit's verdict (checkCommit, run before the host was touched) and
 * what the host holds; never throws for bad input data.
 */
export function planOnHost(commit: CheckedCommit, input: HostInput): Plan {
  const { inCommit, skippedProtected, excluded, submodules, configRoot, protection, leftOut } = commit;
  const refused = [...commit.refused];
  const deploySet = new Map(commit.deploySet);

  // Each link left is followed as the kernel will once the deploy has landed: through the commit's
  // links and now the host's too, at every depth. (Only files the host listing or the commit names
  // are seen.)
  const linkTree = new LinkTree(input.liveFiles, [...deploySet.values()]);
  const knownPaths = [...input.liveFiles.map((f) => f.path), ...(input.unhashedLivePaths ?? []), ...inCommit];
  refuseUnsafeLinks(linkTree, deploySet, configRoot, protection, knownPaths, refused);

  // ---- what the host has ----
  const live = new Map<string, FileEntry>();
  const liveFolders = new Set<string>();
  for (const file of input.liveFiles) {
    live.set(file.path, file);
    for (const folder of folderAncestors(file.path)) liveFolders.add(folder);
  }
  const previous = new Map<string, FileEntry>((input.previousManifest?.files ?? []).map((f) => [f.path, f]));
  const firstDeploy = input.previousManifest === null;

  const toWrite: FileEntry[] = [];
  const toDelete: string[] = [];
  const unchanged: string[] = [];
  const drift: Drift[] = [];
  const adopted: string[] = [];
  const adoptDiffers: string[] = [];
  const mustBackup: string[] = [];
  const released: string[] = [];
  const manifestFiles: FileEntry[] = [];
  const merged: string[] = [];
  const mergeConflicts: Plan['mergeConflicts'] = [];

  const driftAction: Drift['action'] = input.driftPolicy === 'stop' ? 'stop' : input.driftPolicy === 'overwrite' ? 'overwrite' : 'keep';

  const write = (entry: FileEntry, liveEntry: FileEntry | undefined) => {
    toWrite.push(entry);
    if (liveEntry) mustBackup.push(entry.path);
    manifestFiles.push(entry);
  };

  for (const path of [...deploySet.keys()].sort(comparePaths)) {
    const entry = deploySet.get(path)!;
    // Writing beneath a host file or symlink would fail, or worse, follow the link out of /config.
    const blocker = folderAncestors(path).find((folder) => live.has(folder));
    if (blocker) {
      const kind = live.get(blocker)!.type === 'symlink' ? 'a symlink' : 'a file';
      refused.push(
        new PathRefused(path, 'collides', `${path} cannot be written: ${blocker} is ${kind} on the host, not a folder`, {
          kind: 'change',
          action: `remove or rename ${blocker} on the host`,
          globs: [globOfPath(blocker, { folder: true })],
        }),
      );
      continue;
    }
    if (liveFolders.has(path)) {
      refused.push(
        new PathRefused(path, 'collides', `${path} cannot be written: it is a folder on the host`, {
          kind: 'change',
          action: `remove or rename the folder ${path} on the host`,
          globs: [globOfPath(path)],
        }),
      );
      continue;
    }
    const liveEntry = live.get(path);
    const before = previous.get(path);
    const identical = liveEntry !== undefined && sameContent(liveEntry, entry);
    const current = identical && sameExecutableBit(liveEntry, entry);

    if (before) {
      const hostChanged = liveEntry === undefined || !sameContent(liveEntry, before);
      const merge = driftAction === 'stop' && hostChanged && !identical && liveEntry ? input.merges?.get(path) : undefined;
      if (merge?.clean) {
        // The merge is the file now: written unless the host already holds it (`theirs`); when it
        // is the commit's own text (`ours`: the host's edits were formatting only) nothing is left
        // to capture. The manifest records the commit's entry either way (see the top of this file).
        if (merge.from !== 'ours') merged.push(path);
        if (merge.from === 'theirs') manifestFiles.push(entry);
        else write(entry, liveEntry);
        continue;
      }
      if (merge) mergeConflicts.push({ path, conflicts: merge.conflicts });
      if (hostChanged && !identical) {
        drift.push({ path, change: liveEntry ? 'modified' : 'deleted', deployWants: 'write', action: driftAction });
        if (driftAction === 'keep') {
          manifestFiles.push(before);
          continue;
        }
      }
      if (current) {
        unchanged.push(path);
        manifestFiles.push(entry);
      } else {
        write(entry, liveEntry);
      }
      continue;
    }

    // Not deployed by Lanyard before: adopt what matches, replace (after backup) what does not.
    if (current) {
      unchanged.push(path);
      adopted.push(path);
      manifestFiles.push(entry);
      continue;
    }
    if (liveEntry && !identical) adoptDiffers.push(path);
    write(entry, liveEntry);
  }

  // ---- files deployed before that this deploy no longer deploys ----
  const refusedPaths = new Set(refused.map((r) => r.path));
  for (const before of [...previous.values()].sort((a, b) => comparePaths(a.path, b.path))) {
    const path = before.path;
    if (deploySet.has(path)) continue;
    if (protection(path) || inCommit.has(path) || leftOut(path)) {
      // Refused files keep their entry: the plan fails, and the next one must still know them.
      if (refusedPaths.has(path)) manifestFiles.push(before);
      else released.push(path);
      continue;
    }
    const liveEntry = live.get(path);
    if (!liveEntry) continue; // already gone from the host: nothing to do
    if (!sameContent(liveEntry, before)) {
      drift.push({ path, change: 'modified', deployWants: 'delete', action: driftAction });
      if (driftAction === 'keep') {
        manifestFiles.push(before);
        continue;
      }
    }
    toDelete.push(path);
    mustBackup.push(path);
  }

  const error: PlanError | null = refused.length
    ? new PathsRefused(refused)
    : driftAction === 'stop' && drift.length
      ? new DriftDetected(drift)
      : null;

  return {
    commitSha: input.commitSha,
    firstDeploy,
    toWrite,
    toDelete,
    unchanged,
    skippedProtected,
    excluded,
    submodules,
    released,
    refused,
    drift: drift.sort((a, b) => comparePaths(a.path, b.path)),
    adopted,
    adoptDiffers,
    merged,
    mergeConflicts,
    mustBackup: mustBackup.sort(comparePaths),
    livePaths: input.liveFiles.map((f) => f.path),
    manifest: {
      sha: input.commitSha,
      deployedAt: input.deployedAt ?? Date.now(),
      files: manifestFiles.sort((a, b) => comparePaths(a.path, b.path)),
    },
    error,
  };
}
