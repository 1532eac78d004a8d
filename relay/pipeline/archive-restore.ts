// Puts a backup back on the host, writing only what a deploy could write: the archive is listed,
// each name judged by the relay (archive-rules.ts), exactly those names extracted into a staging
// folder on the config filesystem, what landed there checked again (kind, hard links, where each
// link leads), and only then moved into place with the deploy's own moves. Protected paths, names
// that leave the config folder and unsafe links are never written, and the summary names each.
//
// Busybox (Home Assistant OS's SSH add-on) and GNU tar both read a -T list, but busybox matches
// each line as a shell pattern: its `*`, `?`, `[` and `\` are escaped there. Busybox also refuses
// links with `..` unless EXTRACT_UNSAFE_SYMLINKS is set; the links are checked before they are
// moved, so it is set for the extraction into the staging folder.
import { shellQuote, type TargetHost } from '../transport/target-host.ts';
import { acceptStaged, selectRestore, type ArchiveEntry, type ArchiveSkip, type HostListing, type StagedEntry } from './archive-rules.ts';
import { HostError } from './host-files.ts';
import { prunedFolders } from './live-tree.ts';
import { moveIntoPlace, type MoveReport } from './move-into-place.ts';
import type { ConfigRoots } from './link-resolution.ts';

/** Where a restore's entries wait before they are moved into place (under `.lanyard/`, protected). */
export const RESTORE_STAGING = '.lanyard/restore';

export interface RestoreReport {
  /** Config paths written from the archive. */
  restored: string[];
  /** Config paths deleted (files the deploy had added). */
  removed: string[];
  /** Archive entries and recorded paths left alone, and why. */
  skipped: ArchiveSkip[];
  /** Folders emptied by the removals and removed, and files whose owner or group could not be kept. */
  moved: MoveReport;
}

export interface RestoreRules {
  /** The config folder as the host sees it, then as Home Assistant does: for absolute link targets. */
  configRoot: ConfigRoots;
  /** The owner's protected globs (relay config and lanyard.yaml), added to the built-in ones. */
  protect: readonly string[];
}

/** A verbose listing line's kind; `name` is the same entry's name from the plain listing. */
function kindOf(verbose: string, name: string): ArchiveEntry['kind'] {
  const type = verbose[0];
  if (type === 'd') return 'folder';
  if (type === 'h' || (type === '-' && verbose.includes(` ${name} -> `)) || verbose.includes(` ${name} link to `)) return 'hard link';
  if (type === 'l') return verbose.includes(` ${name} -> `) ? 'symlink' : 'other';
  if (type === '-') return verbose.endsWith(` ${name}`) ? 'file' : 'other';
  return 'other';
}

/**
 * In one round trip: the archive's entries (names from `tar -t`, kinds from `tar -tv`, line by
 * line), which tar the host has, and the host's files and links (no hashes: only where links lead
 * and which names are taken), skipping the folders the plan's listing skips, all protected.
 */
async function listArchiveAndHost(host: TargetHost, root: string, archivePath: string): Promise<{ entries: ArchiveEntry[]; gnu: boolean; listing: HostListing }> {
  const archive = shellQuote(archivePath);
  const prune = prunedFolders();
  // GNU tar escapes every byte it deems unprintable in a listing (all of UTF-8 under the C locale
  // an ssh session often has: café lists as caf\\303\\251), and that name would match nothing.
  const result = await host.run(`set -e
cd ${shellQuote(root)}
if tar --version 2>/dev/null | grep -q 'GNU tar'; then echo gnu; literal=--quoting-style=literal; else echo other; literal=; fi
echo '@@names'
tar $literal -tzf ${archive}
echo '@@verbose'
tar $literal -tvzf ${archive}
echo '@@host'
find . \\( ${prune} \\) -prune -o -type f -print
echo '@@link'
find . \\( ${prune} \\) -prune -o -type l -exec sh -c 'for l; do printf "%s\\t%s\\n" "$l" "$(readlink "$l")"; done' sh {} +
echo '@@end'`);
  if (result.code !== 0) throw new HostError('host_command_failed', `listing the backup ${archivePath} failed on ${host.description} (exit ${result.code}): ${result.stderr.trim().slice(0, 800)}`);
  const lines = result.stdout.toString('utf8').split('\n');
  const at = (marker: string) => lines.indexOf(marker);
  const names = lines.slice(at('@@names') + 1, at('@@verbose'));
  const verbose = lines.slice(at('@@verbose') + 1, at('@@host'));
  if (names.length !== verbose.length) {
    throw new HostError('backup_unreadable', `the backup ${archivePath} lists ${names.length} names but ${verbose.length} entries on ${host.description}; it was not written by Lanyard as it is, so nothing was restored from it`);
  }
  const files = new Map<string, { path: string; type: 'file' | 'symlink'; linkTarget?: string }>();
  for (const line of lines.slice(at('@@host') + 1, at('@@link'))) {
    if (line.startsWith('./')) files.set(line.slice(2), { path: line.slice(2), type: 'file' });
  }
  for (const line of lines.slice(at('@@link') + 1, lines.lastIndexOf('@@end'))) {
    const tab = line.indexOf('\t');
    if (tab > 2) files.set(line.slice(2, tab), { path: line.slice(2, tab), type: 'symlink', linkTarget: line.slice(tab + 1) });
  }
  return { entries: names.map((name, i) => ({ name, kind: kindOf(verbose[i]!, name) })), gnu: lines[0] === 'gnu', listing: { files: [...files.values()], unhashed: [] } };
}

/** A -T line that names exactly `name`: busybox reads the line as a shell pattern. */
function listLine(name: string, gnu: boolean): string {
  return gnu ? name : name.replace(/[\\*?[]/g, '\\$&');
}

/** Extracts `names` into a fresh staging folder and lists what landed there, with kinds, link counts and targets. */
async function extractToStaging(host: TargetHost, root: string, archivePath: string, names: readonly string[], gnu: boolean): Promise<StagedEntry[]> {
  const staging = `./${RESTORE_STAGING}`;
  const script = `set -e
cd ${shellQuote(root)}
list=$(mktemp)
trap 'rm -f "$list"' EXIT
cat > "$list"
rm -rf ${shellQuote(staging)}
mkdir -p ${shellQuote(staging)}
${names.length ? `EXTRACT_UNSAFE_SYMLINKS=1 tar -xpzf ${shellQuote(archivePath)} -C ${shellQuote(staging)}${gnu ? ' --no-wildcards' : ''} -T "$list"` : ':'}
cd ${shellQuote(staging)}
echo '@@stat'
find . \\( -type f -o -type l \\) -exec stat -c '%f %h %n' {} +
echo '@@link'
find . -type l -exec sh -c 'for l; do printf "%s\\t%s\\n" "$l" "$(readlink "$l")"; done' sh {} +
echo '@@end'
`;
  const list = names.map((name) => `${listLine(name, gnu)}\n`).join('');
  const result = await host.run(script, { stdin: list });
  if (result.code !== 0) {
    await host.run(`rm -rf ${shellQuote(`${root}/${RESTORE_STAGING}`)}`).catch(() => undefined);
    throw new HostError('host_command_failed', `extracting the backup ${archivePath} failed on ${host.description} (exit ${result.code}): ${result.stderr.trim().slice(0, 800) || 'no error output'}. Nothing was written to the config.`);
  }
  const staged = new Map<string, StagedEntry>();
  let section = '';
  for (const line of result.stdout.toString('utf8').split('\n')) {
    if (line.startsWith('@@')) {
      section = line.slice(2);
      continue;
    }
    if (section === 'stat') {
      const match = /^([0-9a-f]+) (\d+) \.\/(.*)$/.exec(line);
      if (!match) continue;
      const isLink = (parseInt(match[1]!, 16) & 0o170000) === 0o120000;
      staged.set(match[3]!, { path: match[3]!, type: isLink ? 'symlink' : 'file', links: Number(match[2]) });
    } else if (section === 'link') {
      const tab = line.indexOf('\t');
      const entry = tab > 2 ? staged.get(line.slice(2, tab)) : undefined;
      if (entry) entry.linkTarget = line.slice(tab + 1);
    }
  }
  return [...staged.values()];
}

/**
 * Restores the files of an archive Lanyard may write and deletes the recorded `absent` paths it
 * may delete; says what it left alone. The archive's checksum is checked by the caller (findBackup).
 */
export async function restoreArchive(host: TargetHost, root: string, archivePath: string, absent: readonly string[], rules: RestoreRules): Promise<RestoreReport> {
  const { entries, gnu, listing } = await listArchiveAndHost(host, root, archivePath);
  const selection = selectRestore(entries, absent, listing, rules.protect);
  const staged = await extractToStaging(host, root, archivePath, selection.extract.map((e) => e.name), gnu);
  const accepted = acceptStaged(selection.extract.map((e) => e.path), staged, listing, rules.configRoot, rules.protect);
  // A file put back keeps the owner, group and mode of the one it replaces (the backup's executable
  // bit), a file the deploy had deleted comes back with the backup's mode in its folder's group,
  // and the folders the deploy had emptied are made again like the folder they are in.
  const moved = await moveIntoPlace(host, root, `${root}/${RESTORE_STAGING}`, accepted.write, selection.remove, undefined, 'restore');
  return { restored: accepted.write, removed: selection.remove, skipped: [...selection.skipped, ...accepted.skipped], moved };
}

/** `; skipped 2: secrets.yaml (protected (secrets.yaml (any folder))), …` for a step's summary, or ''. */
export function describeSkipped(skipped: readonly ArchiveSkip[], max = 10): string {
  if (!skipped.length) return '';
  const shown = skipped.slice(0, max).map((s) => `${s.path} (${s.why})`);
  return `; left alone ${skipped.length}: ${shown.join(', ')}${skipped.length > max ? ` and ${skipped.length - max} more` : ''}`;
}
