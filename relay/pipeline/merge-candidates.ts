// Which drifted files a deploy may try to merge rather than stop on: a file Lanyard deployed, edited
// on the host (by Home Assistant's UI, most often), named in `deploy.mergeFiles`, and never a
// protected path. A pure function of the first plan. A file the commit left as it was merges to the
// host's version (ours = base): the deploy goes on and leaves it alone, so a UI edit no longer
// blocks every push until it reaches git; it is still drift to the watch, and `merged` asks the
// edge to capture it.
import type { FileEntry, Manifest } from './manifest.ts';
import type { Drift } from './plan.ts';
import type { ProtectionMatch } from './protected-paths.ts';

/** The files Home Assistant's UI rewrites: lists of items with `id`s, and scripts by key. */
export const DEFAULT_MERGE_FILES = ['automations.yaml', 'scenes.yaml', 'scripts.yaml'] as const;

/** A mergeable file is named in the config root only: that is where Home Assistant's UI writes. */
export const MERGE_FILE_NAME = /^(?!\.)[A-Za-z0-9_.-]+\.ya?ml$/;

export interface MergeCandidateInput {
  drift: readonly Drift[];
  /** The commit's entries to deploy, by config-relative path. */
  deploySet: ReadonlyMap<string, FileEntry>;
  previousManifest: Manifest | null;
  mergeFiles: readonly string[];
  protection: (path: string) => ProtectionMatch | null;
}

/** Paths worth a three-way merge: modified on the host, deployed and wanted as plain files, mergeable, not protected. */
export function mergeCandidates({ drift, deploySet, previousManifest, mergeFiles, protection }: MergeCandidateInput): string[] {
  if (!previousManifest) return [];
  const mergeable = new Set(mergeFiles.filter((name) => MERGE_FILE_NAME.test(name)));
  const before = new Map(previousManifest.files.map((f) => [f.path, f]));
  return drift
    .filter((d) => d.change === 'modified' && d.deployWants === 'write' && mergeable.has(d.path) && protection(d.path) === null)
    .filter((d) => {
      const wanted = deploySet.get(d.path);
      const deployed = before.get(d.path);
      return wanted?.type === 'file' && deployed?.type === 'file';
    })
    .map((d) => d.path);
}
