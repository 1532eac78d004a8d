// What differs on the host now from what Lanyard deployed last, as a capture needs it: one pure
// function over the manifest and a listing of the live tree, so it is tested without a host. The
// drift watch (relay/watch/) asks the same question on a timer; this is the capture's own answer.
//
// Protected paths (secrets.yaml, .storage/, databases, the owner's globs) are never named, so the
// capture never reads them. A file the host has and the manifest does not is named only when it
// sits in a folder Lanyard deploys files to: the config root holds Home Assistant's own files too,
// and those are never the owner's edits of the repository.
import type { DriftChange } from '../../shared/drift.ts';
import type { FileEntry } from '../pipeline/manifest.ts';
import type { LiveFile } from '../pipeline/live-tree.ts';
import { comparePaths } from '../pipeline/manifest.ts';

export interface DriftedPath {
  path: string;
  change: DriftChange;
  /** The host's file for a modified or added path (what the capture reads); null when deleted. */
  live: LiveFile | null;
}

function folderOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** Same content and kind: a symlink is compared by its target, a file by its SHA-256 (not its mode). */
function sameContent(deployed: FileEntry, live: LiveFile): boolean {
  if (deployed.type !== live.type) return false;
  if (deployed.type === 'symlink') return deployed.linkTarget === live.linkTarget;
  return deployed.sha256 === live.sha256;
}

/**
 * The files that drifted, in path order: `modified` (content or kind changed), `deleted` (deployed,
 * gone from the host) and `added` (on the host, not deployed, in a folder Lanyard deploys to).
 * `isProtected` answers for built-in and configured protected paths; those are left out entirely.
 */
export function driftedFiles(deployed: readonly FileEntry[], live: readonly LiveFile[], isProtected: (path: string) => boolean): DriftedPath[] {
  const liveByPath = new Map(live.map((f) => [f.path, f]));
  const deployedPaths = new Set(deployed.map((f) => f.path));
  const deployedFolders = new Set(deployed.map((f) => folderOf(f.path)));
  const drifted: DriftedPath[] = [];
  for (const file of deployed) {
    if (isProtected(file.path)) continue;
    const now = liveByPath.get(file.path);
    if (!now) drifted.push({ path: file.path, change: 'deleted', live: null });
    else if (!sameContent(file, now)) drifted.push({ path: file.path, change: 'modified', live: now });
  }
  for (const file of live) {
    if (deployedPaths.has(file.path) || isProtected(file.path)) continue;
    if (deployedFolders.has(folderOf(file.path))) drifted.push({ path: file.path, change: 'added', live: file });
  }
  return drifted.sort((a, b) => comparePaths(a.path, b.path));
}
