// Backups on the Home Assistant host: a tar.gz of what a deploy will change or delete (or the
// whole config minus protected data: no protected path is ever archived), with a JSON record beside it: checksum, the files it holds,
// the files the deploy was about to create (removed on restore), and the manifest in force when it
// was taken. Read back and verified before anything is written; the last N are kept.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { BACKUP_ID_PATTERN, DEPLOYMENT_ID_PATTERN } from '../../shared/ids.ts';
import { BackupId } from '../../shared/protocol.ts';
import { BACKUP_ID_SHAPE, pathInside, UnsafeName } from '../safe-path.ts';
import { shellQuote, type TargetHost } from '../transport/target-host.ts';
import { backupablePaths } from './archive-rules.ts';
import { createBackupArchive, verifyArchive } from './backup-archive.ts';
import { HostError, removeHostFiles, writeHostFile } from './host-files.ts';
import { serializeManifest, type Manifest } from './manifest.ts';

export const BackupRecord = z.object({
  /** A record whose id could not be a file name of ours is not one of ours: it is never listed or restored. */
  id: BackupId,
  createdAt: z.number(),
  jobId: z.string(),
  reason: z.string(),
  scope: z.enum(['changed', 'full']),
  archive: z.object({ path: z.string(), sha256: z.string(), bytes: z.number(), entries: z.number() }),
  files: z.array(z.string()),
  /** Files that did not exist when the backup was taken; restoring removes them. */
  absent: z.array(z.string()),
  /** The commit deployed on the host when the backup was taken, if known. */
  baseSha: z.string().nullable(),
  /** The deployment manifest in force when the backup was taken (restored with it). */
  manifest: z.unknown().nullable(),
});
export type BackupRecord = z.infer<typeof BackupRecord>;
const KeptRecord = BackupRecord.omit({ manifest: true });

/** `lanyard-<UTC time>-<the job id's last 16 characters>`: only a job id the edge could have made names one. */
export function newBackupId(jobId: string, now = new Date()): string {
  if (!DEPLOYMENT_ID_PATTERN.test(jobId)) throw new UnsafeName(`${JSON.stringify(jobId.slice(0, 80))} is not a job id; no backup is named after it`);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `lanyard-${stamp}-${jobId.slice(-16)}`;
}

export interface TakeBackupInput {
  id: string;
  jobId: string;
  reason: string;
  scope: 'changed' | 'full';
  root: string;
  backupDir: string;
  files: string[];
  absent: string[];
  baseSha: string | null;
  manifest: unknown;
  /** The owner's protected globs (relay config and lanyard.yaml): with the built-in ones, never archived. */
  protect: readonly string[];
  /**
   * Where the host keeps this same manifest, as `serializeManifest` wrote it. The record then takes
   * it from there instead of carrying it over the wire again: for a 5,000-file config that is most
   * of what a one-file deploy sends. `sha256`, when the caller knows it (ManifestStore.checksumOf),
   * spares serialising 15,000 entries again only to learn it.
   */
  manifestOnHost?: { path: string; sha256?: string | null };
}

const MANIFEST_SLOT = '"@@lanyard-manifest-from-host@@"';

/**
 * Writes the record with its manifest copied from the host's own manifest file, after checking that
 * file is byte for byte the manifest we hold (its SHA-256). Resolves false, having written nothing,
 * when it is not: the caller then sends the record whole.
 */
async function writeRecordWithHostManifest(host: TargetHost, recordPath: string, record: BackupRecord, onHost: { path: string; sha256?: string | null }): Promise<boolean> {
  const manifestPath = onHost.path;
  const expected = onHost.sha256 ?? createHash('sha256').update(serializeManifest(record.manifest as Manifest)).digest('hex');
  // One line each side of the slot: JSON.stringify escapes every newline inside a string.
  const [head, tail] = JSON.stringify({ ...record, manifest: JSON.parse(MANIFEST_SLOT) as string }).split(MANIFEST_SLOT);
  const partial = `${recordPath}.tmp`;
  // A record is one line (listBackups reads them line by line), so the manifest's newlines go.
  // umask 077: a record lists the config's files and holds its manifest; only the relay's user reads it.
  const script = `
set -e
umask 077
[ -f ${shellQuote(manifestPath)} ] || exit 44
[ "$(sha256sum < ${shellQuote(manifestPath)} | cut -c1-64)" = ${shellQuote(expected)} ] || exit 44
parts=$(mktemp)
trap 'rm -f "$parts"' EXIT
cat > "$parts"
{ head -n 1 "$parts" | tr -d '\n'; tr -d '\n' < ${shellQuote(manifestPath)}; tail -n 1 "$parts"; } > ${shellQuote(partial)}
mv -f ${shellQuote(partial)} ${shellQuote(recordPath)}
`;
  const result = await host.run(script, { stdin: `${head}
${tail}
` });
  if (result.code === 44) return false;
  if (result.code !== 0) throw new HostError('host_command_failed', `writing the backup record ${recordPath} failed on ${host.description} (exit ${result.code}): ${result.stderr.trim().slice(0, 800)}`);
  return true;
}

export async function takeBackup(host: TargetHost, input: TakeBackupInput): Promise<BackupRecord> {
  // A full-scope backup is handed the whole config: protected data never goes into an archive, so
  // no restore can ever put an old secrets.yaml or ip_bans.yaml back.
  const files = backupablePaths(input.files, input.protect).kept;
  const archive = await createBackupArchive(host, input.root, pathInside(input.backupDir, BACKUP_ID_SHAPE, input.id, '.tar.gz'), files);
  const record: BackupRecord = {
    id: input.id,
    createdAt: Date.now(),
    jobId: input.jobId,
    reason: input.reason,
    scope: input.scope,
    archive,
    files,
    absent: backupablePaths(input.absent, input.protect).kept,
    baseSha: input.baseSha,
    manifest: input.manifest ?? null,
  };
  const recordPath = pathInside(input.backupDir, BACKUP_ID_SHAPE, input.id, '.json');
  const fromHost = input.manifestOnHost && record.manifest ? await writeRecordWithHostManifest(host, recordPath, record, input.manifestOnHost) : false;
  if (!fromHost) await writeHostFile(host, recordPath, `${JSON.stringify(record)}\n`);
  return record;
}

/** One record's line; null for one that is not JSON or not a record, which is not ours to interpret. */
function parseRecord<T>(line: string, schema: z.ZodType<T>): T | null {
  try {
    const parsed = schema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** A record as listBackups gives it: everything but the manifest, which only a restore reads (findBackup). */
export type KeptBackupRecord = z.infer<typeof KeptRecord>;

/**
 * The records of the backups kept in `backupDir`, oldest first, without their manifests. A record
 * holds the manifest in force when it was taken (2.7 MB on a 15,000-file house) as its last field:
 * listing ten of them whole after every job moved 27 MB over SSH and through JSON.parse, so the
 * host cuts each line at `,"manifest":` (a string inside the record cannot hold those bytes
 * unescaped) and sends the rest. A record that does not parse after that is not listed, as a damaged one never was.
 */
export async function listBackups(host: TargetHost, backupDir: string): Promise<KeptBackupRecord[]> {
  // awk's index() is a plain substring search: sed's `.*$` walked each 2.7 MB line character by
  // character, 1.1 s for ten records under a UTF-8 locale against 0.2 s (0.04 s in busybox's awk).
  const cut = `LC_ALL=C awk '{ i = index($0, ",\\"manifest\\":"); if (i) print substr($0, 1, i - 1) "}"; else print }'`;
  const result = await host.run(`cd ${shellQuote(backupDir)} 2>/dev/null || exit 0; for f in lanyard-*.json; do [ -f "$f" ] && ${cut} "$f"; done; exit 0`);
  const records: KeptBackupRecord[] = [];
  for (const line of result.stdout.toString('utf8').split('\n')) {
    const record = line.trim() ? parseRecord(line, KeptRecord) : null;
    if (record) records.push(record);
  }
  return records.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
}

export async function findBackup(host: TargetHost, backupDir: string, id: string): Promise<BackupRecord> {
  if (!BACKUP_ID_PATTERN.test(id)) throw new HostError('unknown_backup', `${JSON.stringify(id.slice(0, 80))} is not a Lanyard backup id (see \`relay backups\`)`);
  // Only this backup's record (every record of a full-scope backup lists every file of the config),
  // and in the same round trip the checksum of the archive where takeBackup puts it.
  const recordPath = pathInside(backupDir, BACKUP_ID_SHAPE, id, '.json');
  const usualArchive = pathInside(backupDir, BACKUP_ID_SHAPE, id, '.tar.gz');
  const read = await host.run(`[ -f ${shellQuote(recordPath)} ] || exit 44; cat ${shellQuote(recordPath)}; echo; if [ -f ${shellQuote(usualArchive)} ]; then sha256sum < ${shellQuote(usualArchive)} | cut -c1-64; fi`);
  if (read.code !== 0 && read.code !== 44) throw new HostError('host_command_failed', `reading ${recordPath} failed on ${host.description}: ${read.stderr.trim()}`);
  const [text = '', sum = ''] = read.code === 44 ? [] : read.stdout.toString('utf8').split('\n').filter((line) => line.trim());
  const record = text ? parseRecord(text, BackupRecord) : null;
  if (!record || record.id !== id) throw new HostError('unknown_backup', `no backup ${id} in ${backupDir} on ${host.description} (see \`relay backups\`)`);
  if (record.archive.path !== usualArchive || !sum) await verifyArchive(host, record.archive.path, record.archive.sha256);
  else if (sum !== record.archive.sha256) {
    throw new HostError('backup_corrupt', `backup ${usualArchive} does not match its checksum (expected ${record.archive.sha256.slice(0, 12)}…, found ${sum.slice(0, 12)}…); refusing to restore from it`);
  }
  return record;
}

/** Keeps the newest `keep` backups and never deletes the ones named in `pinned`. */
export async function pruneBackups(host: TargetHost, backupDir: string, keep: number, pinned: string[]): Promise<string[]> {
  const records = await listBackups(host, backupDir);
  const doomed = records.slice(0, Math.max(0, records.length - keep)).filter((r) => !pinned.includes(r.id));
  await removeHostFiles(host, backupDir, doomed.flatMap((r) => [pathInside(backupDir, BACKUP_ID_SHAPE, r.id, '.tar.gz'), pathInside(backupDir, BACKUP_ID_SHAPE, r.id, '.json')]));
  // An archive whose record was lost is left alone: without a record nobody can say it is ours.
  return doomed.map((r) => r.id);
}

/**
 * Removes what a backup the relay was killed in the middle of left behind: its archive (finished
 * or `.partial`) when its record was never written. The journal named the id before the archive
 * was started, so it is known to be ours; a backup with a record is a whole one and is kept.
 */
export async function discardUnrecordedBackup(host: TargetHost, backupDir: string, id: string): Promise<void> {
  if (!BACKUP_ID_PATTERN.test(id)) return;
  const [archive, record, partial] = (['.tar.gz', '.json', '.tar.gz.partial'] as const).map((suffix) => shellQuote(pathInside(backupDir, BACKUP_ID_SHAPE, id, suffix)));
  await host.run(`[ -d ${shellQuote(backupDir)} ] || exit 0; [ -f ${record} ] || rm -f -- ${archive} ${partial}`);
}
