// What a commit alone decides, before the host is listed, hashed or asked for its manifest: which
// of its files are deployed (include, exclude, lanyard.yaml, submodules), which are protected, and
// which are refused for what the commit itself shows — names no file system or host script can take,
// a tree git never writes, one name that is both a file and a folder, a link whose text (or whose
// walk through the commit's other links) leaves the config folder, ends at it, or reaches protected
// data the commit names. A refused first deploy of 15,000 files then costs the git listing, not a
// hashing of the whole host. What needs the host — links through the host's links, a folder where a
// file goes, drift, a read-only folder — is judged after, by plan.ts, on what is left.
//
// A link refused here is refused whatever the host holds: a walk that leaves the folder through the
// commit's own links may only be brought back by a host link, and a host that changes would let it out.
import type { FileEntry } from './manifest.ts';
import { LinkTree, refuseUnsafeLinks, type ConfigRoots } from './link-resolution.ts';
import { checkLinkText, globMatcher, normaliseRepoPath, PathRefused } from './path-safety.ts';
import { protectedPathMatcher, type ProtectionMatch } from './protected-paths.ts';
import { LANYARD_FILE_NAME } from './lanyard-file.ts';
import { folderAncestors } from './path-ancestry.ts';

export const DEFAULT_CONFIG_ROOT = '/config';

/** Everything about a deploy that the commit and the settings say, without the host. */
export interface CommitInput {
  /** The commit's files from its git tree, relative to the repository root (or to `subfolder` when it is not given). */
  commitFiles: readonly FileEntry[];
  /** Deploy only this folder of the repository; its files land at the config root. */
  subfolder?: string | undefined;
  /** The relay's include globs (the host owner's); empty: every file. */
  include?: readonly string[] | undefined;
  /** lanyard.yaml's include globs; empty: every file. A file must pass both lists, so the repository can narrow the host's choice but never widen it. */
  repoInclude?: readonly string[] | undefined;
  /** Exclude globs from the relay config and lanyard.yaml together; an excluded file is never deployed. */
  exclude?: readonly string[] | undefined;
  /** Extra protected globs from the relay config and lanyard.yaml together, added to the built-in ones. */
  protect?: readonly string[] | undefined;
  /**
   * The config folder for absolute symlink targets: its path on the host, then the paths Home
   * Assistant and its add-ons see it at (`/config`). Default `/config`.
   */
  configRoot?: ConfigRoots | undefined;
  /** Submodules (gitlinks) of the commit, relative like `commitFiles`: never deployed, and what Lanyard deployed under them before is released, not deleted. */
  submodules?: readonly string[] | undefined;
}

export interface ProtectedSkip {
  path: string;
  /** Why it is protected, for the user. */
  reason: string;
}

/** The commit's verdict: what it would deploy, and what it cannot. */
export interface CheckedCommit {
  /** Entries to deploy by config-relative path; links among them are judged again against the host. */
  deploySet: Map<string, FileEntry>;
  /** Every config-relative path the commit names, deployed or not. */
  inCommit: Set<string>;
  skippedProtected: ProtectedSkip[];
  excluded: string[];
  submodules: string[];
  /** Refused by the commit alone; any of them refuses the whole deploy. */
  refused: PathRefused[];
  configRoot: ConfigRoots;
  protection: (path: string) => ProtectionMatch | null;
  /** Whether a path is left out by include, exclude, lanyard.yaml or a submodule. */
  leftOut: (path: string) => boolean;
}

const everything = () => true;

/** Decides what the commit alone decides; never throws for bad input, which becomes `refused`. */
export function checkCommit(input: CommitInput): CheckedCommit {
  const configRoot = input.configRoot ?? DEFAULT_CONFIG_ROOT;
  const refused: PathRefused[] = [];
  const skippedProtected: ProtectedSkip[] = [];
  const excluded: string[] = [];

  let prefix = '';
  let subfolderUsable = true;
  const subfolder = (input.subfolder ?? '').trim();
  if (subfolder !== '' && subfolder !== '.' && subfolder !== '/') {
    try {
      prefix = `${normaliseRepoPath(subfolder)}/`;
    } catch (error) {
      if (!(error instanceof PathRefused)) throw error;
      refused.push(
        new PathRefused(subfolder, error.problem, `the subfolder setting: ${error.what}`, {
          kind: 'setting',
          action: 'set git.subfolder in relay.yaml to a folder of the repository, relative to its root (such as `homeassistant`), or leave it empty',
        }),
      );
      subfolderUsable = false;
    }
  }

  const relayInclude = input.include?.length ? globMatcher(input.include) : everything;
  const repoInclude = input.repoInclude?.length ? globMatcher(input.repoInclude) : everything;
  const isExcluded = globMatcher(input.exclude ?? []);
  const protection = protectedPathMatcher(input.protect ?? []);
  const submodules = (input.submodules ?? []).filter((s) => !prefix || s.startsWith(prefix)).map((s) => s.slice(prefix.length));
  const inSubmodule = (path: string) => submodules.some((s) => path === s || path.startsWith(`${s}/`));
  const leftOut = (path: string) => path === LANYARD_FILE_NAME || !relayInclude(path) || !repoInclude(path) || isExcluded(path) || inSubmodule(path);

  const deploySet = new Map<string, FileEntry>();
  const inCommit = new Set<string>();
  // A bad subfolder setting deploys nothing rather than the whole repository.
  for (const raw of subfolderUsable ? input.commitFiles : []) {
    let repoPath: string;
    try {
      repoPath = normaliseRepoPath(raw.path);
    } catch (error) {
      if (!(error instanceof PathRefused)) throw error;
      refused.push(error);
      continue;
    }
    // git never writes an empty, "." or ".." name into a tree; a commit that has one was made by
    // hand to confuse tools that read paths, and every other tool (export included) reads it raw.
    if (repoPath !== raw.path) {
      refused.push(new PathRefused(raw.path, 'not-normalised', `${raw.path} has an empty, "." or ".." folder name`, { kind: 'remake-commit' }));
      continue;
    }
    if (prefix && !repoPath.startsWith(prefix)) continue;
    const path = repoPath.slice(prefix.length);
    if (inCommit.has(path)) {
      refused.push(new PathRefused(raw.path, 'collides', `${raw.path} is listed twice in the commit`, { kind: 'remake-commit' }));
      continue;
    }
    inCommit.add(path);
    const entry: FileEntry = { ...raw, path };
    const protectedBy = protection(path);
    if (protectedBy) {
      skippedProtected.push({ path, reason: protectedBy.reason });
      continue;
    }
    if (leftOut(path)) {
      excluded.push(path);
      continue;
    }
    if (entry.type === 'symlink') {
      try {
        checkLinkText(path, entry.linkTarget);
      } catch (error) {
        if (!(error instanceof PathRefused)) throw error;
        refused.push(error);
        continue;
      }
    }
    deploySet.set(path, entry);
  }

  // A crafted tree can hold a file and a folder of one name; the upload could only write one of them.
  for (const path of [...deploySet.keys()]) {
    const clash = folderAncestors(path).find((folder) => deploySet.has(folder));
    if (!clash) continue;
    refused.push(new PathRefused(path, 'collides', `${path} cannot be written: the commit also has a file ${clash}, and one name cannot be both`, { kind: 'remake-commit' }));
    deploySet.delete(path);
  }

  // Each link is followed through the commit's own links, every other name taken for a folder.
  // One whose walk leaves the config folder or meets protected data the commit names is refused
  // here; the host's links and files are brought in by plan.ts. A link to a folder that holds a
  // protected file is refused as a link to the root is: www/ is served without signing in, and a
  // link there to esphome/ would serve esphome/secrets.yaml.
  const tree = new LinkTree([], [...deploySet.values()]);
  const known = [...inCommit];
  // Resolutions here hold for the commit's links alone; the host-side check starts afresh.
  refuseUnsafeLinks(tree, deploySet, configRoot, protection, known, refused);

  return { deploySet, inCommit, skippedProtected, excluded, submodules, refused, configRoot, protection, leftOut };
}
