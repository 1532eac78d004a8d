// Putting an upload in place on the host: the archive extracted into a staging folder, the staged
// files moved into place folder by folder, the deleted files removed; and, before any of it, the
// check that the relay's user may write every folder the deploy touches.
import type { Readable } from 'node:stream';
import { shellQuote, type TargetHost } from '../transport/target-host.ts';
import { emptiedFoldersScript, removedFoldersIn } from './emptied-folders.ts';
import { HostError, runChecked } from './host-files.ts';
import { decideMoves, describeNotKept, folderLines, folderOf, inPlaceLines, inspectionScript, ownerNamesScript, readInspection, withOwnerNames, stagedFixLines, type FileMove, type FolderMake, type MovePurpose, type NotKept } from './host-ownership.ts';
import type { UploadEncoding } from './upload.ts';
import { globOfPath, withWayOut } from './way-out.ts';

/**
 * Streams a tar (gzipped, or not: upload-compression.ts) into a fresh staging folder on the host
 * (same filesystem as the root). A stream is piped as it is made (packFiles); a stream that fails
 * fails the upload. The files are owned by the user the relay logs in as, never by whatever uid the
 * archive carries (git archive says root; a relay machine's own user means nothing on the host).
 */
export async function stageArchive(host: TargetHost, stagingDir: string, archive: Buffer | Readable, encoding: UploadEncoding = { gzip: true }): Promise<void> {
  await runChecked(
    host,
    'uploading the changed files',
    `set -e; rm -rf ${shellQuote(stagingDir)}; mkdir -p ${shellQuote(stagingDir)}; tar -xp${encoding.gzip ? 'z' : ''}f - --no-same-owner -C ${shellQuote(stagingDir)}`,
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
    // One mkdir per 500 folders and one mv per folder, not per file: a process costs milliseconds,
    // and a first deploy of a real house writes into 1,500 folders (a restore of 100 files, 60).
    // Named as ./folder: a repository folder called --help or -v must not read as an option of mkdir or mv.
    const folders = [...byFolder.keys()].filter((folder) => folder !== '.').map((folder) => shellQuote(`./${folder}`));
    for (let i = 0; i < folders.length; i += 500) lines.push(`mkdir -p ${folders.slice(i, i + 500).join(' ')}`);
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
  // The nearest existing folder is found with ${f%/*}, a shell builtin: `dirname` was a process
  // per level of every folder still to be made, 1.6 s of a real house's first deploy.
  const needs = groupByFolder([...toWrite, ...toDelete, '.lanyard/staging/x']);
  const script = [
    `cd ${shellQuote(root)} || exit 3`,
    ...[...needs.keys()].map((folder) => `f=${shellQuote(`./${folder}`)}; while [ ! -e "$f" ]; do f=\${f%/*}; done; if [ ! -w "$f" ] || [ ! -x "$f" ]; then printf '%s\t%s\n' ${shellQuote(folder)} "\${f#./}"; fi`),
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
