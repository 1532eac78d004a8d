// Everything the pipeline does to files on the Home Assistant host, as POSIX sh scripts run
// through a TargetHost, so the ssh and local transports execute the very same commands. Each
// operation is one round trip: one script hashes every live file, one extracts the upload into a
// staging folder, one moves the staged files into place.
//
// The scripts use only tools busybox has (find, sha256sum, stat, readlink, tar, gzip, tee, mkfifo,
// mv, rm, date, dirname), so they run on Home Assistant OS's SSH add-on as well as on a Debian host.
import type { Readable } from 'node:stream';
import { CodedError } from '../coded-error.ts';
import { shellQuote, type TargetHost } from '../transport/target-host.ts';
import { emptiedFoldersScript, removedFoldersIn } from './emptied-folders.ts';
import { decideMoves, describeNotKept, folderLines, folderOf, inPlaceLines, inspectionScript, ownerNamesScript, readInspection, withOwnerNames, stagedFixLines, type FileMove, type FolderMake, type MovePurpose, type NotKept } from './host-ownership.ts';
import { globOfPath, withWayOut } from './way-out.ts';

export interface LiveFile {
  path: string;
  sha256: string;
  mode: number;
  size: number;
  type: 'file' | 'symlink';
  linkTarget?: string;
}

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

export class HostError extends CodedError {}

async function runChecked(host: TargetHost, what: string, script: string, stdin?: Buffer | string | Readable): Promise<Buffer> {
  // A script that carries no data on stdin is itself sent on stdin: a deploy of thousands of files
  // writes a script far longer than a command line may be.
  let result;
  try {
    result = stdin === undefined ? await host.run('exec sh -s', { stdin: script }) : await host.run(script, { stdin });
  } catch (error) {
    // A dropped connection says what it interrupted, keeping its code (the rollback retries on it).
    if (error instanceof CodedError) throw new HostError(error.code, `${what} was interrupted: ${error.message}`);
    throw error;
  }
  if (result.code !== 0) {
    throw new HostError('host_command_failed', `${what} failed on ${host.description} (exit ${result.code}): ${result.stderr.trim().slice(0, 800) || 'no error output'}`);
  }
  return result.stdout;
}

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

/**
 * Hashes every file and symlink under `root`: one remote command, or with a cache, one that lists
 * and one that hashes only the files written since the last time. Paths come back relative to
 * the root, posix style. Names with a newline cannot be listed safely and are reported apart.
 * `unhashed` names the databases and logs (UNHASHED_NAMES) outside the pruned folders, unread:
 * never deployed, but a link to the folder that holds one must be seen to expose it.
 */
export async function hashLiveTree(host: TargetHost, root: string, cache?: LiveHashCache): Promise<{ files: LiveFile[]; unlistable: string[]; unhashed: string[] }> {
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
  if (cache) {
    const toHash: string[] = [];
    for (const [path, s] of stat) {
      if (s.type !== 'file') continue;
      const known = cache.lookup(root, path, s.signature);
      if (known) sha.set(path, known);
      else toHash.push(path);
    }
    if (toHash.length > stat.size / 2) {
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
    const seen: { path: string; signature: string; ctime: number; sha256: string }[] = [];
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
  return { files, unlistable: [...unlistable], unhashed };
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

export interface BackupArchive {
  path: string;
  sha256: string;
  bytes: number;
  entries: number;
}

/**
 * Archives `paths` (relative to root; missing ones skipped) into `archivePath` with tar and gzip,
 * and checks what was written as it is written: gzip's own check, the entry count, and its SHA-256.
 * Nothing is written to the config before this returns.
 */
export async function createBackupArchive(host: TargetHost, root: string, archivePath: string, paths: string[]): Promise<BackupArchive> {
  const list = paths.join('\n') + (paths.length ? '\n' : '');
  const folder = archivePath.slice(0, archivePath.lastIndexOf('/')) || '/';
  // Exit 20: the folder cannot be made or written; 21: the disk filled up. Said in words below.
  const script = `
set -e
umask 077
mkdir -p ${shellQuote(folder)} 2>/dev/null || exit 20
[ -w ${shellQuote(folder)} ] && [ -x ${shellQuote(folder)} ] || exit 20
cd ${shellQuote(root)}
list=$(mktemp)
tmp=${shellQuote(`${archivePath}.partial`)}
trap 'rm -f "$list" "$tmp"' EXIT
# Listed as ./name: tar reads a line starting with "-" in a -T list as an option (a file named
# --directory=.. would move it out of the config folder), and "./" keeps every name a name.
while IFS= read -r p; do
  if [ -e "$p" ] || [ -L "$p" ]; then printf './%s\\n' "$p"; fi
done > "$list"
errors=$(mktemp)
state=$(mktemp -d)
trap 'rm -f "$list" "$tmp" "$errors"; rm -rf "$state"' EXIT
# One pass: tee writes the archive to the file while the very same bytes are checksummed and
# decompressed (gzip's CRC check, tar's entry count) on the way, on the other cores, instead of
# reading the file back twice once it is written. Each stage notes its own failure in $state: a
# POSIX sh pipeline only reports its last command's status. The restore checks the file against
# this checksum, so a file that differs from the verified stream is never extracted.
mkfifo "$state/sum"
sha256sum < "$state/sum" > "$state/sha" &
summing=$!
{ tar -czf - -T "$list" 2>>"$errors" || echo "$?" > "$state/tar.failed"; } |
  { tee "$tmp" "$state/sum" 2>>"$errors" || echo "$?" > "$state/tee.failed"; } |
  { gzip -dc 2>>"$errors" || echo "$?" > "$state/gzip.failed"; } |
  { tar -tf - > "$state/names" 2>>"$errors" || echo "$?" > "$state/names.failed"; cat > /dev/null; }
wait "$summing"
if [ -e "$state/tar.failed" ] || [ -e "$state/tee.failed" ]; then
  if grep -q 'No space left' "$errors"; then exit 21; fi
  cat "$errors" >&2; exit 2
fi
if [ -e "$state/gzip.failed" ] || [ -e "$state/names.failed" ]; then echo "the backup does not read back as a gzipped tar:" >&2; cat "$errors" >&2; exit 4; fi
count=$(wc -l < "$state/names")
expected=$(wc -l < "$list")
if [ "$count" -lt "$expected" ]; then echo "backup holds $count entries, expected $expected" >&2; exit 4; fi
sum=$(cut -d' ' -f1 < "$state/sha")
size=$(wc -c < "$tmp")
mv "$tmp" ${shellQuote(archivePath)}
echo "$sum $size $count"
`;
  const written = await host.run(script, { stdin: list });
  if (written.code === 20) {
    throw new HostError(
      'backup_folder_unwritable',
      `the backup folder ${folder} is not writable by the relay's user on ${host.description}: give it write access (chown or chmod) or set host.backupDir to a folder it may write. Nothing was written to the config.`,
    );
  }
  if (written.code === 21) {
    const free = await freeBytes(host, folder).catch(() => null);
    throw new HostError(
      'backup_folder_full',
      `the backup folder ${folder} is full on ${host.description}${free === null ? '' : ` (${Math.round(free / 1024)} KiB free)`}: the backup did not fit. Free some space there, lower deploy.keepBackups, or set host.backupDir to a bigger disk. Nothing was written to the config.`,
    );
  }
  if (written.code !== 0) {
    throw new HostError('host_command_failed', `writing the backup failed on ${host.description} (exit ${written.code}): ${written.stderr.trim().slice(0, 800) || 'no error output'}`);
  }
  const out = written.stdout.toString('utf8').trim().split('\n').pop() ?? '';
  const [sha256, bytes, entries] = out.split(' ');
  if (!sha256 || !/^[0-9a-f]{64}$/.test(sha256)) throw new HostError('backup_unverified', `the backup ${archivePath} could not be read back`);
  return { path: archivePath, sha256, bytes: Number(bytes), entries: Number(entries) };
}

/**
 * Checks an existing archive against its recorded checksum before anything is restored from it.
 * The checksum was taken of the very bytes that passed gzip's check and the entry count when the
 * backup was made, so a match proves the archive whole; a second decompression would prove nothing more.
 */
export async function verifyArchive(host: TargetHost, archivePath: string, sha256: string): Promise<void> {
  const out = (await runChecked(host, 'reading the backup', `set -e; sha256sum ${shellQuote(archivePath)} | cut -d' ' -f1`)).toString('utf8').trim();
  if (out !== sha256) throw new HostError('backup_corrupt', `backup ${archivePath} does not match its checksum (expected ${sha256.slice(0, 12)}…, found ${out.slice(0, 12)}…); refusing to restore from it`);
}

/**
 * Streams a gzipped tar into a fresh staging folder on the host (same filesystem as the root). A
 * stream is piped as it is made (packFiles); a stream that fails fails the upload. The files are
 * owned by the user the relay logs in as, never by whatever uid the archive carries (git archive
 * says root; a relay machine's own user means nothing on the host).
 */
export async function stageArchive(host: TargetHost, stagingDir: string, archive: Buffer | Readable): Promise<void> {
  await runChecked(
    host,
    'uploading the changed files',
    `set -e; rm -rf ${shellQuote(stagingDir)}; mkdir -p ${shellQuote(stagingDir)}; tar -xpzf - --no-same-owner -C ${shellQuote(stagingDir)}`,
    archive,
  );
}

/** Files moved per script: big enough to keep round trips few, small enough to show progress. */
export const MOVE_CHUNK = 1000;

/** What moveIntoPlace did beyond writing and deleting the files it was given. */
export interface MoveReport {
  /** Folders the deletes left empty, removed (relative to the root). */
  foldersRemoved: string[];
  /** Files written into the existing file, keeping its owner, group and mode (host-ownership.ts). */
  writtenInPlace: string[];
  /** Replaced files whose owner or group could not be kept. */
  notKept: NotKept[];
}

/**
 * Moves staged files into place and deletes the files named, then the bytecode of the Python
 * modules deleted and the folders the deletes emptied (emptied-folders.ts). A replaced file keeps
 * its owner, group and mode wherever the relay's user may give them, a new file takes its
 * folder's group (host-ownership.ts): a rename (atomic on one filesystem), or, for someone else's
 * file the relay's user may write, the bytes written into it. Never a recursive delete: each path
 * is removed with `rm -f` on its own, a folder with `rmdir`, which removes only an empty one.
 * `purpose`: a restore keeps the modes the backup holds for the files it puts back.
 */
export async function moveIntoPlace(
  host: TargetHost,
  root: string,
  stagingDir: string,
  toWrite: string[],
  toDelete: string[],
  onProgress: (done: number, total: number) => void = () => undefined,
  purpose: MovePurpose = 'deploy',
): Promise<MoveReport> {
  // One round trip before any move: a folder where a file must go is refused (checked for all),
  // and who owns what is read, so each chunk below is a fixed script.
  const seen = readInspection((await runChecked(host, 'checking the paths to write', inspectionScript(root, stagingDir, toWrite))).toString('utf8'), stagingDir);
  const decided = decideMoves(toWrite, seen, purpose);
  if (decided.notKept.length) {
    const named = await host.run(ownerNamesScript(root, decided.notKept));
    decided.notKept = withOwnerNames(decided.notKept, named.stdout.toString('utf8'));
  }
  const foldersFixed = new Set<string>();
  // Folder by folder, so each chunk touches as few folders as it can: every folder a chunk touches
  // costs a mkdir and an mv process, and a chunk of a tree's files in their usual order touched all.
  const ordered = [...groupByFolder(toWrite).values()].flat();
  for (let start = 0; start < ordered.length; start += MOVE_CHUNK) {
    const chunk = ordered.slice(start, start + MOVE_CHUNK);
    const lines = ['set -e', `cd ${shellQuote(root)}`];
    const byFolder = groupByFolder(chunk);
    // One mkdir and one mv per folder, not per file: a first deploy of thousands of files stays fast.
    // Named as ./folder: a repository folder called --help or -v must not read as an option of mkdir or mv.
    for (const folder of byFolder.keys()) if (folder !== '.') lines.push(`mkdir -p ${shellQuote(`./${folder}`)}`);
    const made: [string, FolderMake][] = [];
    for (const folder of byFolder.keys()) {
      for (let f = folder; decided.folders.has(f) && !foldersFixed.has(f); f = folderOf(f)) {
        foldersFixed.add(f);
        made.push([f, decided.folders.get(f)!]);
      }
    }
    lines.push(...folderLines(made));
    // Owner, group and mode are set on the staged copies, so each file appears with them at once.
    const renames = chunk.map((p): [string, FileMove] => [p, decided.files.get(p)!]).filter(([, m]) => m.how === 'rename');
    lines.push(...stagedFixLines(stagingDir, renames));
    for (const [folder, paths] of byFolder) {
      const renamed = paths.filter((p) => decided.files.get(p)!.how === 'rename');
      for (let i = 0; i < renamed.length; i += 500) {
        const sources = renamed.slice(i, i + 500).map((p) => shellQuote(`${stagingDir}/${p}`)).join(' ');
        lines.push(`mv -f ${sources} ${shellQuote(folder === '.' ? './' : `./${folder}/`)}`);
      }
      const inPlace = paths.filter((p) => decided.files.get(p)!.how === 'in place');
      if (inPlace.length) lines.push(...inPlaceLines(stagingDir, folder, inPlace));
    }
    await runChecked(host, 'moving files into place', lines.join('\n'));
    onProgress(start + chunk.length, ordered.length);
  }
  const finish = ['set -e', `cd ${shellQuote(root)}`];
  // One rm per 500 paths, each named as ./path: a process per file cost seconds for a removed integration.
  for (let i = 0; i < toDelete.length; i += 500) finish.push(`rm -f ${toDelete.slice(i, i + 500).map((p) => shellQuote(`./${p}`)).join(' ')}`);
  finish.push(...emptiedFoldersScript(toDelete), `rm -rf ${shellQuote(stagingDir)}`);
  const finished = await runChecked(host, 'deleting removed files', finish.join('\n'));
  return {
    foldersRemoved: removedFoldersIn(finished.toString('utf8')),
    writtenInPlace: toWrite.filter((p) => decided.files.get(p)!.how === 'in place'),
    notKept: decided.notKept,
  };
}

/** `, removed 3 emptied folders; <whose files changed owner>` for the apply and restore summaries, or ''. */
export function describeMoved(moved: MoveReport): string {
  const folders = moved.foldersRemoved.length ? `, removed ${moved.foldersRemoved.length} emptied folder${moved.foldersRemoved.length === 1 ? '' : 's'}` : '';
  return `${folders}${describeNotKept(moved.notKept)}`;
}

/** Paths by folder: each folder's paths in the order given, the folders in order of first appearance. */
function groupByFolder(paths: Iterable<string>): Map<string, string[]> {
  const byFolder = new Map<string, string[]>();
  for (const path of paths) {
    const folder = folderOf(path);
    const group = byFolder.get(folder);
    if (group) group.push(path);
    else byFolder.set(folder, [path]);
  }
  return byFolder;
}

/**
 * Checks, before anything is backed up or written, that the relay's user may write every folder the
 * deploy writes into or deletes from (or, for a folder still to be made, the nearest one that
 * exists), and Lanyard's staging folder. A read-only folder found halfway through the moves would
 * leave a rollback that must write into it too; found here, the deploy stops with nothing written.
 */
export async function checkWritable(host: TargetHost, root: string, toWrite: string[], toDelete: string[]): Promise<void> {
  const needs = groupByFolder([...toWrite, ...toDelete, '.lanyard/staging/x']);
  const script = [
    `cd ${shellQuote(root)} || exit 3`,
    ...[...needs.keys()].map((folder) => `f=${shellQuote(`./${folder}`)}; while [ ! -e "$f" ]; do f=$(dirname "$f"); done; if [ ! -w "$f" ] || [ ! -x "$f" ]; then printf '%s\t%s\n' ${shellQuote(folder)} "\${f#./}"; fi`),
    'exit 0',
  ].join('\n');
  const out = (await runChecked(host, 'checking that the config may be written', script)).toString('utf8');
  const readOnly = new Map<string, string[]>();
  // What leaves the blocked files out and nothing else: the files directly in a folder that exists
  // (`packages/*`), everything in one still to be made under a read-only one (`www/new/`).
  const excludes: string[] = [];
  for (const line of out.split('\n')) {
    const [folder, blocking] = line.split('\t');
    if (!folder || !blocking) continue;
    const blocked = (needs.get(folder) ?? []).filter((p) => !p.startsWith('.lanyard/'));
    const known = readOnly.get(blocking);
    if (known) known.push(...blocked);
    else readOnly.set(blocking, blocked);
    if (!blocked.length || folder === '.') continue;
    excludes.push(folder === blocking ? `${globOfPath(folder)}/*` : globOfPath(folder, { folder: true }));
  }
  if (!readOnly.size) return;
  const described = [...readOnly].map(([folder, paths]) => {
    const where = folder === '.' ? root : `${root}/${folder}`;
    return paths.length ? `${where} (for ${paths.slice(0, 5).join(', ')}${paths.length > 5 ? ` and ${paths.length - 5} more` : ''})` : where;
  });
  throw new HostError(
    'config_read_only',
    withWayOut(`the config path ${described.join(', ')} is read-only for the relay's user on ${host.description}, so nothing was written`, {
      kind: 'change',
      action: "give the relay's user write access there (chown, chmod or setfacl)",
      globs: excludes.slice(0, 10),
    }),
  );
}

/**
 * A regular file's bytes, or null when there is none. A link is never followed, and reads as none:
 * a deployed link may name a path that exists only inside Home Assistant's container (`/config/…`),
 * and on the host the same text can lead anywhere.
 */
export async function readHostFile(host: TargetHost, path: string): Promise<Buffer | null> {
  const result = await host.run(`if [ -f ${shellQuote(path)} ] && [ ! -L ${shellQuote(path)} ]; then cat ${shellQuote(path)}; else exit 44; fi`);
  if (result.code === 44) return null;
  if (result.code !== 0) throw new HostError('host_command_failed', `reading ${path} failed on ${host.description}: ${result.stderr.trim()}`);
  return result.stdout;
}

/**
 * Writes a small file atomically (temporary file, then rename). Lanyard's own files (manifests,
 * backup records) are the relay user's alone: 0600, and 0700 for a folder it has to make.
 */
export async function writeHostFile(host: TargetHost, path: string, content: string | Buffer): Promise<void> {
  const folder = path.slice(0, path.lastIndexOf('/')) || '/';
  await runChecked(host, `writing ${path}`, `set -e; umask 077; mkdir -p ${shellQuote(folder)}; cat > ${shellQuote(`${path}.tmp`)}; mv -f ${shellQuote(`${path}.tmp`)} ${shellQuote(path)}`, content);
}

export async function removeHostFiles(host: TargetHost, folder: string, names: string[]): Promise<void> {
  if (!names.length) return;
  await runChecked(host, 'pruning old backups', [`cd ${shellQuote(folder)}`, ...names.map((n) => `rm -f -- ${shellQuote(n)}`)].join('\n'));
}

/** Bytes free on the filesystem holding `folder`, for `relay doctor` and before a backup. */
export async function freeBytes(host: TargetHost, folder: string): Promise<number | null> {
  const result = await host.run(`df -Pk ${shellQuote(folder)} | tail -n 1`);
  const fields = result.stdout.toString('utf8').trim().split(/\s+/);
  const kb = Number(fields[3]);
  return Number.isFinite(kb) ? kb * 1024 : null;
}
