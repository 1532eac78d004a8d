// The live config on the host, listed and hashed in one round trip (or two, with a cache of what the
// last hashing saw), so the plan compares it with the commit. Home Assistant's own state, the
// database and logs are never read. The script uses only tools busybox has (find, sha256sum, stat,
// readlink, date), so it runs on Home Assistant OS's SSH add-on as well as on a Debian host.
import { shellQuote, type TargetHost } from '../transport/target-host.ts';
import { HostError } from './host-files.ts';
import { withWayOut } from './way-out.ts';
import type { CommitFile } from './git-source.ts';

/** A file or symlink on the host, in the very shape a commit's are listed in (path relative to the root). */
export type LiveFile = CommitFile;

/** Folders never descended into when hashing: Home Assistant's own state, big and never deployed. */
export const UNHASHED_FOLDERS = ['.storage', '.cloud', 'deps', 'tts', 'backups', '.git', '.lanyard', '__pycache__'];
/**
 * Folder names never descended into at any depth: the bytecode Python compiles beside every module
 * of a custom integration. It is protected, never deployed, and listing it made a folder link to an
 * integration's subfolder (spook_inverse) read as exposing protected files.
 */
export const UNHASHED_FOLDER_NAMES = ['__pycache__'];

/** The `find` test (to wrap in \( … \) -prune) for the folders the host's listings skip. */
export function prunedFolders(): string {
  return [...UNHASHED_FOLDERS.map((d) => `-path ./${d}`), ...UNHASHED_FOLDER_NAMES.map((n) => `-name ${n}`)].join(' -o ');
}
/** File names never hashed: the database (hundreds of MB) and logs. */
export const UNHASHED_NAMES = ['*.db', '*.db-*', '*.db.*', '*.log', '*.log.*'];

/**
 * What the last hashing of a config root saw: each file's stat signature (size, mtime, ctime, inode,
 * mode) and its SHA-256. A file whose signature is unchanged was not written since, so the next
 * hashing reuses its hash instead of reading it again: a one-file deploy of a 100 MB config then
 * reads one file, not 100 MB. Only entries whose ctime is strictly before the second the hashing
 * started are kept: a file written in that same second could change again without its (whole-second)
 * signature changing, so it is hashed again next time, as git treats "racily clean" index entries.
 */
export class LiveHashCache {
  private root: string | null = null;
  /** Path to "<signature> <sha256>", one string per file: the cache lives as long as the relay. */
  private entries = new Map<string, string>();

  lookup(root: string, path: string, signature: string): string | undefined {
    const entry = root === this.root ? this.entries.get(path) : undefined;
    if (!entry || entry.length !== signature.length + 65 || !entry.startsWith(signature) || entry[signature.length] !== ' ') return undefined;
    return entry.slice(signature.length + 1);
  }

  /** Replaces what is known with this hashing's results (so the cache never outgrows the tree). */
  remember(root: string, startedAt: number, files: Iterable<{ path: string; signature: string; ctime: number; sha256: string }>): void {
    this.root = root;
    this.entries = new Map();
    for (const file of files) if (file.ctime < startedAt) this.entries.set(ownCopy(file.path), ownCopy(`${file.signature} ${file.sha256}`));
  }
}

/**
 * A copy of `text` that holds only its own characters. V8 keeps a substring or a concatenation as a
 * reference to the text it came from: a cache of paths cut from the hashing's output kept that whole
 * output (over a megabyte for 5,000 files) alive between deploys: 3.2 MiB for 5,000 files, 2.1 with copies.
 */
function ownCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/** Runs one hashing script; a file the relay's user may not read is said in words. */
async function runHashing(host: TargetHost, root: string, script: string, stdin?: string): Promise<string> {
  const hashed = stdin === undefined ? await host.run('exec sh -s', { stdin: script }) : await host.run(script, { stdin });
  const unreadable = deniedPaths(hashed.stderr);
  if (hashed.code !== 0 && unreadable.length) {
    throw new HostError(
      'config_unreadable',
      withWayOut(
        `the relay's user cannot read ${unreadable.slice(0, 10).join(', ')}${unreadable.length > 10 ? ` and ${unreadable.length - 10} more` : ''} in ${root} on ${host.description} (permission denied), so nothing was written`,
        // Excluding them would not help: every file is read, deployed or not, to back it up and compare it.
        { kind: 'change', action: "give the relay's user read access to them (chown, chmod or setfacl): it reads every file of the config to back it up and to compare it", globs: [] },
      ),
    );
  }
  if (hashed.code !== 0) {
    throw new HostError('host_command_failed', `hashing the live config failed on ${host.description} (exit ${hashed.code}): ${hashed.stderr.trim().slice(0, 800) || 'no error output'}`);
  }
  return hashed.stdout.toString('utf8');
}

/** `sha256sum` lines of ./paths into `sha`; GNU sha256sum escapes odd names with a backslash, and such names are not deployable. */
function readShaLine(line: string, sha: Map<string, string>, unlistable: Set<string>): void {
  const match = /^([0-9a-f]{64}) [ *]\.\/(.*)$/.exec(line);
  if (match) sha.set(match[2]!, match[1]!);
  else unlistable.add(line.replace(/^\\?[0-9a-f]{64} [ *]/, ''));
}

/** A file or symlink listed (stat only) but not read, because `select` left it out. */
export interface ListedOnlyFile {
  path: string;
  type: 'file' | 'symlink';
  size: number;
}

export interface HashLiveTreeOptions {
  /**
   * Which listed paths to hash; the others are listed (in `listedOnly`) and never read, nor named in
   * any command: the drift watch hashes deployed files only, and never a protected one. Needs a
   * cache (a selection is always hashed by list). Their cache entries still valid are kept.
   */
  select?: (path: string) => boolean;
}

/**
 * Hashes every file and symlink under `root`: one remote command, or with a cache, one that lists
 * and one that hashes only the files written since the last time. Paths come back relative to
 * the root, posix style. Names with a newline cannot be listed safely and are reported apart.
 * `unhashed` names the databases and logs (UNHASHED_NAMES) outside the pruned folders, unread:
 * never deployed, but a link to the folder that holds one must be seen to expose it.
 */
export async function hashLiveTree(
  host: TargetHost,
  root: string,
  cache?: LiveHashCache,
  options: HashLiveTreeOptions = {},
): Promise<{ files: LiveFile[]; unlistable: string[]; unhashed: string[]; listedOnly: ListedOnlyFile[]; hashed: number }> {
  const { select } = options;
  const prune = prunedFolders();
  const skipNames = UNHASHED_NAMES.map((n) => `! -name ${shellQuote(n)}`).join(' ');
  const hashEverything = `find . \\( ${prune} \\) -prune -o -type f ${skipNames} -exec sha256sum {} +`;
  const script = `
set -e
cd ${shellQuote(root)} 2>/dev/null || { echo "config root ${root} does not exist" >&2; exit 3; }
echo "@@now $(date +%s)"
echo '@@stat'
find . \\( ${prune} \\) -prune -o \\( -type f -o -type l \\) ${skipNames} -exec stat -c '%f %a %s %Y %Z %i %n' {} +
${cache ? '' : `echo '@@sha'\n${hashEverything}`}
echo '@@link'
find . \\( ${prune} \\) -prune -o -type l -exec sh -c 'for l; do printf "%s\\t%s\\n" "$l" "$(readlink "$l")"; done' sh {} +
echo '@@unhashed'
find . \\( ${prune} \\) -prune -o \\( ${UNHASHED_NAMES.map((n) => `-name ${shellQuote(n)}`).join(' -o ')} \\) -print
echo '@@end'
`;
  const out = await runHashing(host, root, script);
  const stat = new Map<string, { type: 'file' | 'symlink'; mode: number; size: number; signature: string; ctime: number }>();
  const sha = new Map<string, string>();
  const links = new Map<string, string>();
  const unlistable = new Set<string>();
  const unhashed: string[] = [];
  let startedAt = 0;
  let section = '';
  for (const line of out.split('\n')) {
    if (line.startsWith('@@now ')) {
      startedAt = Number(line.slice(6));
      continue;
    }
    if (line.startsWith('@@')) {
      section = line.slice(2);
      continue;
    }
    if (!line) continue;
    if (section === 'stat') {
      const match = /^([0-9a-f]+) ([0-7]+) (\d+) (\d+) (\d+) (\d+) \.\/(.*)$/.exec(line);
      if (!match) {
        unlistable.add(line);
        continue;
      }
      const rawMode = parseInt(match[1]!, 16);
      const isLink = (rawMode & 0o170000) === 0o120000;
      const signature = `${match[1]} ${match[2]} ${match[3]} ${match[4]} ${match[5]} ${match[6]}`;
      stat.set(match[7]!, { type: isLink ? 'symlink' : 'file', mode: parseInt(match[2]!, 8), size: Number(match[3]), signature, ctime: Number(match[5]) });
    } else if (section === 'sha') {
      readShaLine(line, sha, unlistable);
    } else if (section === 'link') {
      const tab = line.indexOf('\t');
      if (tab > 2) links.set(line.slice(2, tab), line.slice(tab + 1));
    } else if (section === 'unhashed' && line.startsWith('./')) {
      unhashed.push(line.slice(2));
    }
  }
  if (select && !cache) throw new Error('hashLiveTree: a selection needs a cache');
  const listedOnly: ListedOnlyFile[] = [];
  // Signatures of left-out files whose cached hash is still good: kept in the cache, never returned.
  const keptUnselected: { path: string; signature: string; ctime: number; sha256: string }[] = [];
  if (select) {
    for (const [path, s] of stat) {
      if (select(path)) continue;
      stat.delete(path);
      listedOnly.push({ path, type: s.type, size: s.size });
      const known = s.type === 'file' ? cache!.lookup(root, path, s.signature) : undefined;
      if (known) keptUnselected.push({ path, signature: s.signature, ctime: s.ctime, sha256: known });
    }
  }
  let hashed = cache ? 0 : sha.size;
  if (cache) {
    const toHash: string[] = [];
    for (const [path, s] of stat) {
      if (s.type !== 'file') continue;
      const known = cache.lookup(root, path, s.signature);
      if (known) sha.set(path, known);
      else toHash.push(path);
    }
    hashed = toHash.length;
    if (!select && toHash.length > stat.size / 2) {
      // Most of the tree changed (a first deploy): one pass over everything is cheaper than a list.
      for (const line of (await runHashing(host, root, `set -e\ncd ${shellQuote(root)}\n${hashEverything}\n`)).split('\n')) if (line) readShaLine(line, sha, unlistable);
    } else if (toHash.length) {
      // Names come on stdin, a line each (a name with a newline is unlistable anyway), in batches.
      const batch = `set -e
cd ${shellQuote(root)}
set --
while IFS= read -r p; do
  set -- "$@" "$p"
  if [ $# -ge 100 ]; then sha256sum "$@"; set --; fi
done
if [ $# -gt 0 ]; then sha256sum "$@"; fi`;
      const hashed = await runHashing(host, root, batch, toHash.map((p) => `./${p}\n`).join(''));
      for (const line of hashed.split('\n')) if (line) readShaLine(line, sha, unlistable);
    }
    const seen: { path: string; signature: string; ctime: number; sha256: string }[] = [...keptUnselected];
    for (const [path, s] of stat) {
      const hash = sha.get(path);
      if (s.type === 'file' && hash) seen.push({ path, signature: s.signature, ctime: s.ctime, sha256: hash });
    }
    cache.remember(root, startedAt, seen);
  }
  const files: LiveFile[] = [];
  for (const [path, s] of stat) {
    if (s.type === 'symlink') {
      const target = links.get(path);
      if (target === undefined) continue;
      files.push({ path, type: 'symlink', mode: 0o777, size: target.length, sha256: await sha256Text(target), linkTarget: target });
    } else {
      const hash = sha.get(path);
      if (!hash) {
        unlistable.add(path);
        continue;
      }
      files.push({ path, type: 'file', mode: s.mode, size: s.size, sha256: hash });
    }
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, unlistable: [...unlistable], unhashed, listedOnly, hashed };
}

/** The paths `find`, `stat` or `sha256sum` said "Permission denied" about, relative to the root. */
function deniedPaths(stderr: string): string[] {
  const paths = new Set<string>();
  for (const line of stderr.split('\n')) {
    const match = /^\S+: (?:cannot (?:open|stat|read) )?'?\.\/(.+?)'?: Permission denied$/.exec(line.trim());
    if (match) paths.add(match[1]!);
  }
  return [...paths];
}

async function sha256Text(text: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(text).digest('hex');
}
