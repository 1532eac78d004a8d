// The backup of the files a deploy replaces or deletes, written on the host and checked as it is
// written, and checked again against its checksum before anything is restored from it.
import { shellQuote, type TargetHost } from '../transport/target-host.ts';
import { freeBytes, HostError, runChecked } from './host-files.ts';

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
