// What differs on the host from what Lanyard deployed last: the pure half of the drift watch, a
// function of the manifest, the host's listing and the rules, so every case is tested without a
// host (test/relay/drift-comparison.test.ts, with a fast-check property).
//
// - `modified`: a file the manifest lists whose type or content (SHA-256) is not what was deployed.
//   The mode alone is not drift, as in the plan (git keeps only the executable bit).
// - `deleted`: a file the manifest lists that the host no longer has.
// - `added`: a file the manifest does not list, in a folder that holds a file it lists (the folders
//   Lanyard deploys to), never at the root (Home Assistant writes its own files there), and neither
//   protected nor left out by include/exclude: the files a capture could bring into git.
// Protected paths are never in the answer, whatever the manifest or the listing say: the relay
// selects what it hashes with `wantsHash`, so it never reads them in the first place.
import { comparePaths, type FileEntry } from '../pipeline/manifest.ts';
import type { DriftChange } from '../../shared/drift.ts';
import type { RelayConfig } from '../config.ts';
import { LANYARD_FILE_NAME, type LanyardFile } from '../pipeline/lanyard-file.ts';
import { globMatcher } from '../pipeline/path-safety.ts';
import { protectedPathMatcher } from '../pipeline/protected-paths.ts';

/** What the rules say about a path, from the relay config and the deployed commit's lanyard.yaml. */
export interface DriftRules {
  /** Built-in protected paths plus the owner's protect globs: never read, hashed or reported. */
  isProtected: (path: string) => boolean;
  /** Left out by include, exclude or lanyard.yaml: never deployed, so never `added`. */
  isLeftOut: (path: string) => boolean;
}

/**
 * The rules of a deployed commit: the relay's globs with its lanyard.yaml's. The drift watch and a
 * capture both judge by these, so what the page shows as drift is what a capture pushes.
 */
export function driftRulesOf(config: Pick<RelayConfig, 'deploy'>, lanyard: Pick<LanyardFile, 'protect' | 'include' | 'exclude'>): DriftRules {
  const protect = protectedPathMatcher([...config.deploy.protect, ...lanyard.protect]);
  const relayInclude = config.deploy.include.length ? globMatcher(config.deploy.include) : () => true;
  const repoInclude = lanyard.include.length ? globMatcher(lanyard.include) : () => true;
  const excluded = globMatcher([...config.deploy.exclude, ...lanyard.exclude]);
  return {
    isProtected: (path) => protect(path) !== null,
    isLeftOut: (path) => path === LANYARD_FILE_NAME || !relayInclude(path) || !repoInclude(path) || excluded(path),
  };
}

/** A file as the host's listing gives it: hashed (sha256) or only listed (null). */
export interface ListedFile {
  path: string;
  type: 'file' | 'symlink';
  size: number;
  /** Null when it was listed but not hashed. */
  sha256: string | null;
}

export interface DriftFinding {
  path: string;
  change: DriftChange;
  /** What the manifest says was deployed (modified, deleted). */
  deployed: FileEntry | null;
  /** What the host has now (modified, added). */
  live: ListedFile | null;
}

/** The folders Lanyard deploys to: every folder that directly holds a file of the manifest (not the root). */
export function deployedFolders(manifestFiles: readonly Pick<FileEntry, 'path'>[]): Set<string> {
  const folders = new Set<string>();
  for (const file of manifestFiles) {
    const slash = file.path.lastIndexOf('/');
    if (slash > 0) folders.add(file.path.slice(0, slash));
  }
  return folders;
}

function folderOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash > 0 ? path.slice(0, slash) : '';
}

/**
 * Which listed paths the watch must hash to answer: the deployed files and the candidates for
 * `added`, never a protected one. Everything else on the host is listed by stat and never read.
 */
export function hashSelection(manifestFiles: readonly FileEntry[], rules: DriftRules): (path: string) => boolean {
  const deployed = new Set(manifestFiles.map((f) => f.path));
  const folders = deployedFolders(manifestFiles);
  return (path) => !rules.isProtected(path) && (deployed.has(path) || isAddedCandidate(path, folders, rules));
}

function isAddedCandidate(path: string, folders: ReadonlySet<string>, rules: DriftRules): boolean {
  const folder = folderOf(path);
  return folder !== '' && folders.has(folder) && !rules.isLeftOut(path);
}

function sameContent(live: ListedFile, deployed: FileEntry): boolean {
  return live.type === deployed.type && live.sha256 === deployed.sha256;
}

/** The drift, sorted by path (byte order, as the manifest). Never names a protected path. */
export function compareWithManifest(manifestFiles: readonly FileEntry[], liveFiles: readonly ListedFile[], rules: DriftRules): DriftFinding[] {
  const live = new Map<string, ListedFile>();
  for (const file of liveFiles) if (!rules.isProtected(file.path)) live.set(file.path, file);
  const folders = deployedFolders(manifestFiles);
  const deployed = new Set<string>();
  const findings: DriftFinding[] = [];
  for (const entry of manifestFiles) {
    deployed.add(entry.path);
    if (rules.isProtected(entry.path)) continue;
    const now = live.get(entry.path);
    if (!now) findings.push({ path: entry.path, change: 'deleted', deployed: entry, live: null });
    // A deployed file listed but not hashed cannot be judged: the caller hashes every deployed file.
    else if (now.sha256 !== null && !sameContent(now, entry)) findings.push({ path: entry.path, change: 'modified', deployed: entry, live: now });
  }
  for (const file of live.values()) {
    if (deployed.has(file.path) || !isAddedCandidate(file.path, folders, rules)) continue;
    findings.push({ path: file.path, change: 'added', deployed: null, live: file });
  }
  return findings.sort((a, b) => comparePaths(a.path, b.path));
}
