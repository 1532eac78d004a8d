// What a backup may hold and what a restore may write: the same protected-path rules and path
// guard as a deploy. A backup leaves protected paths out (a full-scope one lists the whole config,
// secrets.yaml and ip_bans.yaml included), and a restore writes or deletes none of them, whatever
// the archive or its record holds: an archive made by an older Lanyard, or one changed on the host,
// may name protected files, `..` or absolute paths, links, hard links or devices. Pure functions of
// the archive's listing and the host's, so every rule is tested without a host.
import { LinkTree, linkRefusal, type ConfigRoots, type LinkResolution, type TreeEntry } from './link-resolution.ts';
import { normaliseRepoPath, PathRefused } from './path-safety.ts';
import { folderAncestors } from './path-ancestry.ts';
import { protectedPathMatcher, type ProtectionMatch } from './protected-paths.ts';

/** A path left out of a backup or a restore, and why, in words. */
export interface ArchiveSkip {
  path: string;
  why: string;
}

function protectedWhy(match: ProtectionMatch): string {
  return match.source === 'built-in' ? `protected (${match.name})` : `protected by the configured glob ${match.glob}`;
}

/** The host paths a backup may hold: normal relative paths that are not protected. */
export function backupablePaths(paths: readonly string[], protect: readonly string[]): { kept: string[]; skipped: ArchiveSkip[] } {
  const protection = protectedPathMatcher(protect);
  const kept: string[] = [];
  const skipped: ArchiveSkip[] = [];
  for (const path of paths) {
    const problem = pathProblem(path);
    if (problem) skipped.push({ path, why: problem });
    else {
      const match = protection(path);
      if (match) skipped.push({ path, why: protectedWhy(match) });
      else kept.push(path);
    }
  }
  return { kept, skipped };
}

/** Why a config-relative path may not be written, or null when it is a normal one. */
function pathProblem(path: string): string | null {
  try {
    return normaliseRepoPath(path) === path ? null : 'not a normal path (it has ".", ".." or empty parts)';
  } catch (error) {
    if (!(error instanceof PathRefused)) throw error;
    return error.problem === 'escapes-root' ? 'leaves the config folder' : error.problem === 'absolute' ? 'an absolute path' : `not a path Lanyard writes (${error.problem})`;
  }
}

/** One entry of an archive as the host's tar lists it: the name as stored, and its kind. */
export interface ArchiveEntry {
  name: string;
  kind: 'file' | 'symlink' | 'folder' | 'hard link' | 'other';
}

/** What the host has: its files and links (with targets), and names listed apart (databases, logs). */
export interface HostListing {
  files: readonly TreeEntry[];
  unhashed: readonly string[];
}

export interface RestoreSelection {
  /** Archive names to extract (as stored), with the config path each one lands at. */
  extract: { name: string; path: string }[];
  /** Config paths the restore deletes (files the deploy had added). */
  remove: string[];
  skipped: ArchiveSkip[];
}

/**
 * Picks the entries of an archive a restore may extract, and the recorded `absent` paths it may
 * delete. Skipped: names that are not normal relative paths, protected paths, kinds Lanyard never
 * archives (hard links, devices), a name listed twice or one that is also a folder of another
 * name (a link then a file beneath it is how an archive writes through a link), a name under a
 * host link or file (tar and rm would follow the link), and a name that is a folder on the host.
 * Folder entries are passed over silently: tar makes the folders a file needs.
 */
export function selectRestore(entries: readonly ArchiveEntry[], absent: readonly string[], host: HostListing, protect: readonly string[]): RestoreSelection {
  const protection = protectedPathMatcher(protect);
  const hostKinds = new Map<string, TreeEntry['type']>(host.files.map((f) => [f.path, f.type]));
  const hostFolders = new Set(host.files.flatMap((f) => folderAncestors(f.path)));
  const skipped: ArchiveSkip[] = [];

  const blockedOnHost = (path: string): string | null => {
    const blocker = folderAncestors(path).find((folder) => hostKinds.has(folder));
    if (blocker) return `${blocker} is ${hostKinds.get(blocker) === 'symlink' ? 'a link' : 'a file'} on the host, not a folder`;
    return null;
  };

  const named = new Map<string, number>();
  // Every folder any name implies, read from the raw names: GNU tar extracts `name/anything` for a
  // listed `name`, whatever else is odd about `anything`.
  const folderOfAnother = new Set<string>();
  const candidates: { name: string; path: string; kind: ArchiveEntry['kind'] }[] = [];
  for (const entry of entries) {
    // Lanyard's archives name each path `./path`; an older or foreign one may not.
    const raw = entry.name.startsWith('./') ? entry.name.slice(2) : entry.name;
    for (let slash = raw.indexOf('/'); slash > 0; slash = raw.indexOf('/', slash + 1)) folderOfAnother.add(raw.slice(0, slash));
    // Folder entries are not extracted (tar makes the folders a file needs), but a file listed
    // under the same name would bring one along.
    if (entry.kind === 'folder') {
      const folder = raw.replace(/\/+$/, '');
      named.set(folder, (named.get(folder) ?? 0) + 1);
      continue;
    }
    const path = raw;
    const problem = pathProblem(path);
    if (problem) {
      skipped.push({ path: entry.name, why: problem });
      continue;
    }
    // A name tar would read as an option in a -T list (only possible without the ./ form).
    if (entry.name.startsWith('-')) {
      skipped.push({ path: entry.name, why: 'a name tar would read as an option' });
      continue;
    }
    named.set(path, (named.get(path) ?? 0) + 1);
    candidates.push({ name: entry.name, path, kind: entry.kind });
  }

  const candidatePaths = new Set(candidates.map((c) => c.path));
  const extract: RestoreSelection['extract'] = [];
  for (const candidate of candidates) {
    const { path } = candidate;
    const match = protection(path);
    const why =
      match
        ? protectedWhy(match)
        : candidate.kind === 'hard link'
          ? 'a hard link, which Lanyard never archives'
          : candidate.kind === 'other'
            ? 'not a file or a link (a device, a pipe or an unknown kind)'
            : (named.get(path) ?? 0) > 1
              ? 'listed more than once in the archive'
              : folderOfAnother.has(path)
                ? 'also a folder of other entries in the archive'
                : folderAncestors(path).some((folder) => candidatePaths.has(folder))
                  ? 'beneath another entry of the archive'
                  : (blockedOnHost(path) ?? (hostFolders.has(path) ? 'a folder on the host' : null));
    if (why) skipped.push({ path, why });
    else extract.push({ name: candidate.name, path });
  }

  const remove: string[] = [];
  for (const path of absent) {
    const match = pathProblem(path) ? null : protection(path);
    const why = pathProblem(path) ?? (match ? protectedWhy(match) : blockedOnHost(path));
    if (why) skipped.push({ path, why: `not deleted: ${why}` });
    else remove.push(path);
  }
  return { extract, remove, skipped };
}

/** One entry as it landed in the restore's staging folder (find and stat on the host). */
export interface StagedEntry {
  path: string;
  type: 'file' | 'symlink';
  links: number;
  linkTarget?: string | undefined;
}

/**
 * Of what landed in the staging folder, the entries that may be moved into the config: only the
 * selected paths, regular files with no other hard link, and links that, followed through the
 * host's links and the restored ones, stay inside the config folder and away from protected data.
 */
export function acceptStaged(selected: readonly string[], staged: readonly StagedEntry[], host: HostListing, configRoot: ConfigRoots, protect: readonly string[]): { write: string[]; skipped: ArchiveSkip[] } {
  const protection = protectedPathMatcher(protect);
  // In the archive's order, whatever order find saw them in.
  const byPath = new Map(staged.map((entry) => [entry.path, entry]));
  const landed = selected.flatMap((path) => byPath.get(path) ?? []);
  const tree = new LinkTree(host.files, landed);
  const known = [...host.files.map((f) => f.path), ...host.unhashed, ...landed.map((e) => e.path)];
  const cache = new Map<string, LinkResolution>();
  const write: string[] = [];
  const skipped: ArchiveSkip[] = [];
  for (const entry of landed) {
    if (entry.type === 'file' && entry.links > 1) {
      skipped.push({ path: entry.path, why: 'a hard link to another file' });
      continue;
    }
    if (entry.type === 'symlink') {
      const refusal = entry.linkTarget ? linkRefusal(tree, entry.path, configRoot, protection, known, cache) : { why: 'has no target' };
      if (refusal) {
        skipped.push({ path: entry.path, why: `a link to ${entry.linkTarget ?? 'nothing'}, which ${refusal.why}` });
        continue;
      }
    }
    write.push(entry.path);
  }
  const seen = new Set(landed.map((entry) => entry.path));
  for (const path of selected) if (!seen.has(path)) skipped.push({ path, why: 'not extracted by tar as a file or a link' });
  return { write, skipped };
}
