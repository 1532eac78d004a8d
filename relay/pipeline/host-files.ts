// Everything the pipeline does to files on the Home Assistant host, as POSIX sh scripts run
// through a TargetHost, so the ssh and local transports execute the very same commands. Each
// operation is one round trip: one script hashes every live file, one extracts the upload into a
// staging folder, one moves the staged files into place.
//
// The scripts use only tools busybox has (find, sha256sum, stat, readlink, tar, gzip, mv, rm), so
// they run on Home Assistant OS's SSH add-on as well as on a Debian host.
import { CodedError } from '../coded-error.ts';
import { shellQuote, type TargetHost } from '../transport/target-host.ts';

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
/** File names never hashed: the database (hundreds of MB) and logs. */
export const UNHASHED_NAMES = ['*.db', '*.db-*', '*.db.*', '*.log', '*.log.*'];

export class HostError extends CodedError {}

async function runChecked(host: TargetHost, what: string, script: string, stdin?: Buffer | string): Promise<Buffer> {
  // A script that carries no data on stdin is itself sent on stdin: a deploy of thousands of files
  // writes a script far longer than a command line may be.
  const result = stdin === undefined ? await host.run('exec sh -s', { stdin: script }) : await host.run(script, { stdin });
  if (result.code !== 0) {
    throw new HostError('host_command_failed', `${what} failed on ${host.description} (exit ${result.code}): ${result.stderr.trim().slice(0, 800) || 'no error output'}`);
  }
  return result.stdout;
}

/**
 * Hashes every file and symlink under `root` in one remote command. Paths come back relative to
 * the root, posix style. Names with a newline cannot be listed safely and are reported apart.
 */
export async function hashLiveTree(host: TargetHost, root: string): Promise<{ files: LiveFile[]; unlistable: string[] }> {
  const prune = UNHASHED_FOLDERS.map((d) => `-path ./${d}`).join(' -o ');
  const skipNames = UNHASHED_NAMES.map((n) => `! -name ${shellQuote(n)}`).join(' ');
  const script = `
set -e
cd ${shellQuote(root)} 2>/dev/null || { echo "config root ${root} does not exist" >&2; exit 3; }
echo '@@stat'
find . \\( ${prune} \\) -prune -o \\( -type f -o -type l \\) ${skipNames} -exec stat -c '%f %a %s %n' {} +
echo '@@sha'
find . \\( ${prune} \\) -prune -o -type f ${skipNames} -exec sha256sum {} +
echo '@@link'
find . \\( ${prune} \\) -prune -o -type l -exec sh -c 'for l; do printf "%s\\t%s\\n" "$l" "$(readlink "$l")"; done' sh {} +
echo '@@end'
`;
  const out = (await runChecked(host, 'hashing the live config', script)).toString('utf8');
  const stat = new Map<string, { type: 'file' | 'symlink'; mode: number; size: number }>();
  const sha = new Map<string, string>();
  const links = new Map<string, string>();
  const unlistable = new Set<string>();
  let section = '';
  for (const line of out.split('\n')) {
    if (line.startsWith('@@')) {
      section = line.slice(2);
      continue;
    }
    if (!line) continue;
    if (section === 'stat') {
      const match = /^([0-9a-f]+) ([0-7]+) (\d+) \.\/(.*)$/.exec(line);
      if (!match) {
        unlistable.add(line);
        continue;
      }
      const rawMode = parseInt(match[1]!, 16);
      const isLink = (rawMode & 0o170000) === 0o120000;
      stat.set(match[4]!, { type: isLink ? 'symlink' : 'file', mode: parseInt(match[2]!, 8), size: Number(match[3]) });
    } else if (section === 'sha') {
      // GNU sha256sum escapes odd names with a leading backslash; such names are not deployable.
      const match = /^([0-9a-f]{64}) [ *]\.\/(.*)$/.exec(line);
      if (match) sha.set(match[2]!, match[1]!);
      else unlistable.add(line.replace(/^\\?[0-9a-f]{64} [ *]/, ''));
    } else if (section === 'link') {
      const tab = line.indexOf('\t');
      if (tab > 2) links.set(line.slice(2, tab), line.slice(tab + 1));
    }
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
  return { files, unlistable: [...unlistable] };
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
 * then reads the archive back: gzip's own check, the entry count, and its SHA-256. Nothing is
 * written to the config before this returns.
 */
export async function createBackupArchive(host: TargetHost, root: string, archivePath: string, paths: string[]): Promise<BackupArchive> {
  const list = paths.join('\n') + (paths.length ? '\n' : '');
  const script = `
set -e
umask 077
mkdir -p ${shellQuote(archivePath.slice(0, archivePath.lastIndexOf('/')) || '/')}
cd ${shellQuote(root)}
list=$(mktemp)
trap 'rm -f "$list"' EXIT
while IFS= read -r p; do
  if [ -e "$p" ] || [ -L "$p" ]; then printf '%s\\n' "$p"; fi
done > "$list"
tmp=${shellQuote(`${archivePath}.partial`)}
tar -czf "$tmp" -T "$list"
gzip -t "$tmp"
count=$(tar -tzf "$tmp" | wc -l)
expected=$(wc -l < "$list")
if [ "$count" -lt "$expected" ]; then echo "backup holds $count entries, expected $expected" >&2; exit 4; fi
mv "$tmp" ${shellQuote(archivePath)}
sum=$(sha256sum ${shellQuote(archivePath)} | cut -d' ' -f1)
size=$(wc -c < ${shellQuote(archivePath)})
echo "$sum $size $count"
`;
  const out = (await runChecked(host, 'writing the backup', script, list)).toString('utf8').trim().split('\n').pop() ?? '';
  const [sha256, bytes, entries] = out.split(' ');
  if (!sha256 || !/^[0-9a-f]{64}$/.test(sha256)) throw new HostError('backup_unverified', `the backup ${archivePath} could not be read back`);
  return { path: archivePath, sha256, bytes: Number(bytes), entries: Number(entries) };
}

/** Checks an existing archive against its recorded checksum before anything is restored from it. */
export async function verifyArchive(host: TargetHost, archivePath: string, sha256: string): Promise<void> {
  const out = (await runChecked(host, 'reading the backup', `set -e; gzip -t ${shellQuote(archivePath)}; sha256sum ${shellQuote(archivePath)} | cut -d' ' -f1`)).toString('utf8').trim();
  if (out !== sha256) throw new HostError('backup_corrupt', `backup ${archivePath} does not match its checksum (expected ${sha256.slice(0, 12)}…, found ${out.slice(0, 12)}…); refusing to restore from it`);
}

/** Streams a gzipped tar into a fresh staging folder on the host (same filesystem as the root). */
export async function stageArchive(host: TargetHost, stagingDir: string, archive: Buffer): Promise<void> {
  await runChecked(
    host,
    'uploading the changed files',
    `set -e; rm -rf ${shellQuote(stagingDir)}; mkdir -p ${shellQuote(stagingDir)}; tar -xpzf - -C ${shellQuote(stagingDir)}`,
    archive,
  );
}

/**
 * Moves staged files into place (each `mv` is an atomic rename on one filesystem) and deletes the
 * files named. Never a recursive delete: each path is removed with `rm -f` on its own.
 */
/** Files moved per script: big enough to keep round trips few, small enough to show progress. */
export const MOVE_CHUNK = 1000;

export async function moveIntoPlace(
  host: TargetHost,
  root: string,
  stagingDir: string,
  toWrite: string[],
  toDelete: string[],
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<void> {
  // A folder where a file must go is refused rather than removed; checked for all before any move.
  const checks = ['set -e', `cd ${shellQuote(root)}`];
  for (const path of toWrite) {
    checks.push(`if [ -d ${shellQuote(path)} ] && [ ! -L ${shellQuote(path)} ]; then echo ${shellQuote(`${path} is a folder on the host`)} >&2; exit 5; fi`);
  }
  await runChecked(host, 'checking the paths to write', checks.join('\n'));
  for (let start = 0; start < toWrite.length; start += MOVE_CHUNK) {
    const chunk = toWrite.slice(start, start + MOVE_CHUNK);
    const lines = ['set -e', `cd ${shellQuote(root)}`];
    // One mkdir and one mv per folder, not per file: a first deploy of thousands of files stays fast.
    const byFolder = new Map<string, string[]>();
    for (const path of chunk) {
      const folder = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '.';
      byFolder.set(folder, [...(byFolder.get(folder) ?? []), path]);
    }
    for (const [folder, paths] of byFolder) {
      if (folder !== '.') lines.push(`mkdir -p ${shellQuote(folder)}`);
      for (let i = 0; i < paths.length; i += 200) {
        const sources = paths.slice(i, i + 200).map((p) => shellQuote(`${stagingDir}/${p}`)).join(' ');
        lines.push(`mv -f ${sources} ${shellQuote(`${folder}/`)}`);
      }
    }
    await runChecked(host, 'moving files into place', lines.join('\n'));
    onProgress(start + chunk.length, toWrite.length);
  }
  const finish = ['set -e', `cd ${shellQuote(root)}`, ...toDelete.map((path) => `rm -f -- ${shellQuote(path)}`), `rm -rf ${shellQuote(stagingDir)}`];
  await runChecked(host, 'deleting removed files', finish.join('\n'));
}

/** Puts the files of an archive back and removes the ones that did not exist when it was taken. */
export async function restoreArchive(host: TargetHost, root: string, archivePath: string, absent: string[]): Promise<void> {
  const lines = ['set -e', `cd ${shellQuote(root)}`, `tar -xpzf ${shellQuote(archivePath)} -C .`];
  for (const path of absent) lines.push(`rm -f -- ${shellQuote(path)}`);
  await runChecked(host, 'restoring the backup', lines.join('\n'));
}

export async function readHostFile(host: TargetHost, path: string): Promise<Buffer | null> {
  const result = await host.run(`if [ -f ${shellQuote(path)} ]; then cat ${shellQuote(path)}; else exit 44; fi`);
  if (result.code === 44) return null;
  if (result.code !== 0) throw new HostError('host_command_failed', `reading ${path} failed on ${host.description}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** Writes a small file atomically (temporary file, then rename). */
export async function writeHostFile(host: TargetHost, path: string, content: string | Buffer): Promise<void> {
  const folder = path.slice(0, path.lastIndexOf('/')) || '/';
  await runChecked(host, `writing ${path}`, `set -e; mkdir -p ${shellQuote(folder)}; cat > ${shellQuote(`${path}.tmp`)}; mv -f ${shellQuote(`${path}.tmp`)} ${shellQuote(path)}`, content);
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
