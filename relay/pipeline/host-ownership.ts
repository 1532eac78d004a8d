// Who owns a file once Lanyard wrote it. The files are extracted into a staging folder as the
// relay's user and renamed into place; a rename puts a new inode there, so before this a replaced
// `automations.yaml` became the relay user's, in its group, with the commit's mode. Where Home
// Assistant runs as a user of its own (Core in a venv, a container with PUID/PGID), an editor
// running as that user could no longer save the file in place.
//
// The rules (docs/production.md, "Who owns the files"):
// - A replaced file keeps the owner, group and mode bits the host gave it; only the executable bit
//   follows the commit (or, for a restore, the backup).
//     * Relay as root: renamed into place, then given back its owner, group and mode.
//     * The file is the relay user's own: renamed, then its group and mode are set back (chgrp to
//       a group the relay's user belongs to; otherwise the group cannot be kept, and it is said).
//     * Someone else's file that the relay's user may write (group-writable, an ACL), with the
//       executable bit unchanged and no other hard link (one could lead out of the config folder,
//       where a rename never writes): the bytes are written into the existing file (`cp` onto it
//       keeps its inode, so its owner, group, mode and ACL). Not atomic: a reader could see it
//       half-written, but Home Assistant reads its configuration at check, reload and restart,
//       which all come after the files are in place, and the backup plus the journal put back
//       any file a failure or a kill leaves half-written.
//     * Someone else's file it may not write: renamed (the only way to replace it), group and
//       mode set back where permitted; the owner cannot be given back without root, and the
//       deploy says so. Home Assistant's own UI save writes through the folder (a temporary file
//       renamed over the old one), so it still works.
// - A new file takes its folder's group (and, as root, its owner); in a group-writable folder it
//   is group-writable too, so a Home Assistant sharing that group may save it. A restore puts a
//   file back with the mode the backup holds.
// - A folder Lanyard makes takes the group, and the mode bits (setgid included), of the folder it
//   is made in (as root, its owner too), and stays writable for its owner.
// - Links are renamed into place as they are; a link has no mode to keep.
import { shellQuote } from '../transport/target-host.ts';

/** Writes the commit's files (`deploy`) or puts a backup's back (`restore`): they differ for new files only. */
export type MovePurpose = 'deploy' | 'restore';

export interface HostIdentity {
  uid: number;
  /** The group a file the relay's user creates gets (outside a setgid folder). */
  gid: number;
  groups: ReadonlySet<number>;
}

export interface HostAttributes {
  uid: number;
  gid: number;
  /** Permission bits with setuid, setgid and sticky (0o7777). */
  mode: number;
  kind: 'file' | 'folder' | 'symlink' | 'other';
  /** Hard links to the inode. */
  links: number;
}

/** What one round trip saw before the moves (inspectionScript, readInspection). */
export interface MoveInspection {
  me: HostIdentity;
  /** Existing folders (relative, '.' for the root) and replaced regular files. */
  live: Map<string, HostAttributes>;
  /** Replaced regular files the relay's user may write (access(2): modes and ACLs). */
  writable: Set<string>;
  /** Replaced regular files whose staged copy is executable (the commit's, or the backup's, bit). */
  stagedExecutable: Set<string>;
  /** Paths whose staged entry is a link. */
  stagedLinks: Set<string>;
  /**
   * The group every staged file has: the staging folder's when it is setgid, else the user's. tar
   * extracts as the relay's user (--no-same-owner for a deploy), so it is one group for all.
   */
  stagedGid: number;
}

export interface FileMove {
  how: 'rename' | 'in place';
  /** Set on the staged copy before the rename: `uid:gid` (root only), a gid, a mode or `g+w`. */
  chown?: string;
  chgrp?: number;
  chmod?: string;
}

export interface FolderMake {
  chown?: string;
  chgrp?: number;
  chmod: string;
}

export interface NotKept {
  path: string;
  what: 'owner' | 'group';
  /** The owner's or group's id; its name once namesOfNotKept looked it up. */
  was: string;
}

export interface MoveDecisions {
  files: Map<string, FileMove>;
  /** Folders `mkdir -p` will make, and what they get. */
  folders: Map<string, FolderMake>;
  notKept: NotKept[];
}

const octal = (mode: number) => mode.toString(8);

/** `mode` with the executable bits set (where it is readable) or cleared. */
export function withExecutableBit(mode: number, executable: boolean): number {
  const bits = mode & 0o777;
  if (((bits & 0o111) !== 0) === executable) return bits;
  return executable ? bits | ((bits & 0o444) >> 2) : bits & ~0o111;
}

function parentOf(folder: string): string {
  return folder.includes('/') ? folder.slice(0, folder.lastIndexOf('/')) : '.';
}

export function folderOf(path: string): string {
  return parentOf(path);
}

/** The folders and their parents up to the root ('.'), for the inspection. */
export function foldersToInspect(paths: readonly string[]): string[] {
  const folders = new Set<string>(['.']);
  for (const path of paths) for (let f = folderOf(path); f !== '.' && !folders.has(f); f = parentOf(f)) folders.add(f);
  return [...folders];
}

/** Decides, for each path to write, how it goes into place and what it is given; pure. */
export function decideMoves(toWrite: readonly string[], seen: MoveInspection, purpose: MovePurpose): MoveDecisions {
  const { me } = seen;
  const root = me.uid === 0;
  const files = new Map<string, FileMove>();
  const folders = new Map<string, FolderMake>();
  const notKept: NotKept[] = [];
  const mayGive = (gid: number) => root || gid === me.gid || me.groups.has(gid);

  /** The nearest folder that exists, for a folder that may still have to be made. */
  const existing = (folder: string): HostAttributes => {
    for (let f = folder; ; f = parentOf(f)) {
      const found = seen.live.get(f);
      if (found?.kind === 'folder') return found;
      if (f === '.') throw new Error('the config root was not inspected');
    }
  };

  for (const path of toWrite) {
    for (let f = folderOf(path); f !== '.' && !seen.live.has(f) && !folders.has(f); f = parentOf(f)) {
      const model = existing(f);
      if (root) folders.set(f, { chown: `${model.uid}:${model.gid}`, chmod: octal((model.mode & 0o2777) | 0o700) });
      else if (mayGive(model.gid)) folders.set(f, { chgrp: model.gid, chmod: octal((model.mode & 0o2777) | 0o700) });
      else folders.set(f, { chmod: octal((model.mode & 0o755) | 0o700) });
    }
    if (seen.stagedLinks.has(path)) {
      files.set(path, { how: 'rename' });
      continue;
    }
    const live = seen.live.get(path);
    if (live?.kind === 'file') {
      const executable = seen.stagedExecutable.has(path);
      const sameBit = ((live.mode & 0o111) !== 0) === executable;
      // Set whatever the staged copy has: one chmod (and chown) per distinct value, not per file.
      const chmod = octal(withExecutableBit(live.mode, executable));
      if (root) {
        files.set(path, { how: 'rename', chown: `${live.uid}:${live.gid}`, chmod });
      } else if (live.uid !== me.uid && seen.writable.has(path) && sameBit && live.links === 1) {
        files.set(path, { how: 'in place' });
      } else {
        const move: FileMove = { how: 'rename', chmod };
        if (live.gid !== seen.stagedGid) {
          if (mayGive(live.gid)) move.chgrp = live.gid;
          else notKept.push({ path, what: 'group', was: String(live.gid) });
        }
        if (live.uid !== me.uid) notKept.push({ path, what: 'owner', was: String(live.uid) });
        files.set(path, move);
      }
      continue;
    }
    // A new file (or one that replaces a link): its folder's group.
    if (purpose === 'restore' && root) {
      // tar, as root, already gave it the owner, group and mode the backup holds.
      files.set(path, { how: 'rename' });
      continue;
    }
    // A folder made for it was given the group of the nearest existing one: the same model.
    const folder = existing(folderOf(path));
    const move: FileMove = { how: 'rename' };
    let shared = false;
    if (root) {
      if (folder.uid !== 0 || folder.gid !== seen.stagedGid) move.chown = `${folder.uid}:${folder.gid}`;
      shared = true;
    } else if (folder.gid === seen.stagedGid) {
      shared = true;
    } else if (mayGive(folder.gid)) {
      move.chgrp = folder.gid;
      shared = true;
    }
    if (purpose === 'deploy' && shared && (folder.mode & 0o020) !== 0) move.chmod = 'g+w';
    files.set(path, move);
  }
  return { files, folders, notKept };
}

/** Arguments per chown/chgrp/chmod/cp command. */
const BATCH = 500;

function batched(command: string, paths: readonly string[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < paths.length; i += BATCH) lines.push(`${command} ${paths.slice(i, i + BATCH).map(shellQuote).join(' ')}`);
  return lines;
}

/** Lines applying `fix` values to `targets`, one command per distinct value (never one per file). */
function applyLines(targets: readonly { target: string; chown?: string | undefined; chgrp?: number | undefined; chmod?: string | undefined }[]): string[] {
  const by = (key: 'chown' | 'chgrp' | 'chmod') => {
    const groups = new Map<string, string[]>();
    for (const t of targets) {
      const value = t[key];
      if (value === undefined) continue;
      const list = groups.get(String(value));
      if (list) list.push(t.target);
      else groups.set(String(value), [t.target]);
    }
    return groups;
  };
  const lines: string[] = [];
  // chown first: it clears setgid bits a chmod after it then sets.
  for (const [value, paths] of by('chown')) lines.push(...batched(`chown ${value}`, paths));
  for (const [value, paths] of by('chgrp')) lines.push(...batched(`chgrp ${value}`, paths));
  for (const [value, paths] of by('chmod')) lines.push(...batched(`chmod ${value}`, paths));
  return lines;
}

/** Lines giving folders made by `mkdir -p` their group and mode (relative to the config root). */
export function folderLines(made: readonly [string, FolderMake][]): string[] {
  return applyLines(made.map(([folder, fix]) => ({ target: `./${folder}`, ...fix })));
}

/** Lines fixing the staged copies of `paths` before they are renamed into place. */
export function stagedFixLines(stagingDir: string, paths: readonly [string, FileMove][]): string[] {
  return applyLines(paths.map(([path, move]) => ({ target: `${stagingDir}/${path}`, chown: move.chown, chgrp: move.chgrp, chmod: move.chmod })));
}

/**
 * Lines writing staged copies into the existing files of one folder, in place. Each target is
 * checked to still be a regular file, not a link, right before: cp would write through a link.
 */
export function inPlaceLines(stagingDir: string, folder: string, paths: readonly string[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < paths.length; i += BATCH) {
    const slice = paths.slice(i, i + BATCH);
    const targets = slice.map((p) => shellQuote(`./${p}`)).join(' ');
    lines.push(`for f in ${targets}; do if [ -L "$f" ] || [ ! -f "$f" ]; then printf '%s changed on the host during the deploy (no longer a file)\\n' "$f" >&2; exit 6; fi; done`);
    lines.push(`cp ${slice.map((p) => shellQuote(`${stagingDir}/${p}`)).join(' ')} ${shellQuote(folder === '.' ? './' : `./${folder}/`)}`);
  }
  return lines;
}

/** Paths per `stat` of the inspection: few processes, each command line far below any ARG_MAX. */
const STAT_BATCH = 1000;
const STAT = `stat -c '%u %g %a %f %h %n'`;

/**
 * The inspection script, one round trip before any move: who the relay's user is, for each path to
 * write whether it is a folder on the host (exit 5, naming the first), whether its staged entry is
 * a link, and for a replaced regular file whether the relay's user may write it and whether its
 * staged copy is executable; then the stat of every existing folder the writes need and of every
 * existing path to write. Only shell builtins per path (no process, no `read` loop: a shell reads
 * its script buffered, but `read` byte by byte), and one `stat` per 1,000 paths.
 */
export function inspectionScript(root: string, stagingDir: string, toWrite: readonly string[]): string {
  const lines = [
    'set -e',
    `cd ${shellQuote(root)} || exit 3`,
    `S=${shellQuote(stagingDir)}`,
    `printf '@@me %s %s %s\\n' "$(id -u)" "$(id -g)" "$(id -G | tr ' ' ,)"`,
    `if [ -d "$S" ]; then ${STAT} "$S"; fi`,
    'c() {',
    `  if [ -d "$1" ] && [ ! -L "$1" ]; then printf '%s is a folder on the host\\n' "\${1#./}" >&2; exit 5; fi`,
    '  s="$S/${1#./}"',
    `  if [ -L "$s" ]; then printf '@@link %s\\n' "$1"; return 0; fi`,
    '  if [ -f "$1" ] && [ ! -L "$1" ]; then',
    '    f=-; if [ -w "$1" ]; then f=w; fi; if [ -x "$s" ]; then f="${f}x"; fi',
    `    printf '@@f %s %s\\n' "$f" "$1"`,
    '  fi',
    '}',
    ...toWrite.map((p) => `c ${shellQuote(`./${p}`)}`),
  ];
  const targets = [...foldersToInspect(toWrite).map((f) => (f === '.' ? '.' : `./${f}`)), ...toWrite.map((p) => `./${p}`)];
  // A path that does not exist is left out by stat, which goes on with the rest.
  for (let i = 0; i < targets.length; i += STAT_BATCH) lines.push(`${STAT} ${targets.slice(i, i + STAT_BATCH).map(shellQuote).join(' ')} 2>/dev/null || :`);
  return lines.join('\n');
}

function kindOf(rawMode: number): HostAttributes['kind'] {
  const type = rawMode & 0o170000;
  return type === 0o100000 ? 'file' : type === 0o040000 ? 'folder' : type === 0o120000 ? 'symlink' : 'other';
}

/** Reads what inspectionScript printed. */
export function readInspection(stdout: string, stagingDir: string): MoveInspection {
  const seen: MoveInspection = { me: { uid: -1, gid: -1, groups: new Set() }, live: new Map(), writable: new Set(), stagedExecutable: new Set(), stagedLinks: new Set(), stagedGid: -1 };
  let staging: HostAttributes | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('@@me ')) {
      const [uid, gid, groups] = line.slice(5).split(' ');
      seen.me = { uid: Number(uid), gid: Number(gid), groups: new Set((groups ?? '').split(',').filter(Boolean).map(Number)) };
    } else if (line.startsWith('@@f ')) {
      const flags = line.slice(4, line.indexOf(' ', 4));
      const path = line.slice(4 + flags.length + 1 + 2);
      if (flags.includes('w')) seen.writable.add(path);
      if (flags.includes('x')) seen.stagedExecutable.add(path);
    } else if (line.startsWith('@@link ./')) seen.stagedLinks.add(line.slice(9));
    else {
      const match = /^(\d+) (\d+) ([0-7]+) ([0-9a-f]+) (\d+) (.*)$/.exec(line);
      if (!match) continue;
      const attributes: HostAttributes = { uid: Number(match[1]), gid: Number(match[2]), mode: parseInt(match[3]!, 8), kind: kindOf(parseInt(match[4]!, 16)), links: Number(match[5]) };
      const name = match[6]!;
      if (name === stagingDir) staging = attributes;
      else if (name === '.') seen.live.set('.', attributes);
      else if (name.startsWith('./')) seen.live.set(name.slice(2), attributes);
    }
  }
  seen.stagedGid = staging && (staging.mode & 0o2000) !== 0 ? staging.gid : seen.me.gid;
  return seen;
}

/**
 * A script printing `<user> <group> ./path` for the first files of `notKept`, read before they are
 * moved (afterwards they are someone else's): names for the summary, looked up only when needed.
 */
export function ownerNamesScript(root: string, notKept: readonly NotKept[], max = 10): string {
  const paths = [...new Set(notKept.map((n) => n.path))].slice(0, max);
  return `cd ${shellQuote(root)} || exit 3\nstat -c '%U %G %n' ${paths.map((p) => shellQuote(`./${p}`)).join(' ')} 2>/dev/null || :`;
}

/** notKept with the names ownerNamesScript printed in place of the ids it could name. */
export function withOwnerNames(notKept: readonly NotKept[], stdout: string): NotKept[] {
  const names = new Map<string, [string, string]>();
  for (const line of stdout.split('\n')) {
    const match = /^(\S+) (\S+) \.\/(.*)$/.exec(line);
    if (match) names.set(match[3]!, [match[1]!, match[2]!]);
  }
  return notKept.map((n) => {
    const found = names.get(n.path);
    return found ? { ...n, was: n.what === 'owner' ? found[0] : found[1] } : n;
  });
}

/** "owner not kept for automations.yaml (homeassistant's) …", for a step's summary; '' when all was kept. */
export function describeNotKept(notKept: readonly NotKept[], max = 5): string {
  if (!notKept.length) return '';
  const owners = notKept.filter((n) => n.what === 'owner');
  const groups = notKept.filter((n) => n.what === 'group');
  const list = (items: readonly NotKept[], of: string) =>
    `${items.slice(0, max).map((n) => `${n.path} (${of} ${n.was})`).join(', ')}${items.length > max ? ` and ${items.length - max} more` : ''}`;
  const parts: string[] = [];
  if (owners.length) parts.push(`now the relay user's, as it may not write them: ${list(owners, 'was')}`);
  if (groups.length) parts.push(`group not kept, as the relay user is not in it: ${list(groups, 'group')}`);
  return `; ${parts.join('; ')}`;
}
