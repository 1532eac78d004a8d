// Backups on the Home Assistant host: a tar.gz of what a deploy will change or delete (or the
// whole config minus protected data), with a JSON record beside it: checksum, the files it holds,
// the files the deploy was about to create (removed on restore), and the manifest in force when it
// was taken. Read back and verified before anything is written; the last N are kept.
import { z } from 'zod';
import { shellQuote, type TargetHost } from '../transport/target-host.ts';
import { createBackupArchive, HostError, removeHostFiles, verifyArchive, writeHostFile } from './host-files.ts';

export const BackupRecord = z.object({
  id: z.string(),
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

const BACKUP_ID = /^lanyard-\d{8}T\d{6}Z-[a-z0-9_-]+$/;

export function newBackupId(jobId: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `lanyard-${stamp}-${jobId.toLowerCase().replace(/[^a-z0-9_-]/g, '').slice(-16)}`;
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
}

export async function takeBackup(host: TargetHost, input: TakeBackupInput): Promise<BackupRecord> {
  const archive = await createBackupArchive(host, input.root, `${input.backupDir}/${input.id}.tar.gz`, input.files);
  const record: BackupRecord = {
    id: input.id,
    createdAt: Date.now(),
    jobId: input.jobId,
    reason: input.reason,
    scope: input.scope,
    archive,
    files: input.files,
    absent: input.absent,
    baseSha: input.baseSha,
    manifest: input.manifest ?? null,
  };
  await writeHostFile(host, `${input.backupDir}/${input.id}.json`, `${JSON.stringify(record)}\n`);
  return record;
}

export async function listBackups(host: TargetHost, backupDir: string): Promise<BackupRecord[]> {
  const result = await host.run(`cd ${shellQuote(backupDir)} 2>/dev/null || exit 0; for f in lanyard-*.json; do [ -f "$f" ] && cat "$f"; done; exit 0`);
  const records: BackupRecord[] = [];
  for (const line of result.stdout.toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = BackupRecord.safeParse(JSON.parse(line));
      if (parsed.success) records.push(parsed.data);
    } catch {
      // A record that is not JSON is not ours to interpret; it is left alone.
    }
  }
  return records.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
}

export async function findBackup(host: TargetHost, backupDir: string, id: string): Promise<BackupRecord> {
  if (!BACKUP_ID.test(id)) throw new HostError('unknown_backup', `"${id}" is not a Lanyard backup id (see \`relay backups\`)`);
  const record = (await listBackups(host, backupDir)).find((b) => b.id === id);
  if (!record) throw new HostError('unknown_backup', `no backup ${id} in ${backupDir} on ${host.description} (see \`relay backups\`)`);
  await verifyArchive(host, record.archive.path, record.archive.sha256);
  return record;
}

/** Keeps the newest `keep` backups and never deletes the ones named in `pinned`. */
export async function pruneBackups(host: TargetHost, backupDir: string, keep: number, pinned: string[]): Promise<string[]> {
  const records = await listBackups(host, backupDir);
  const doomed = records.slice(0, Math.max(0, records.length - keep)).filter((r) => !pinned.includes(r.id));
  await removeHostFiles(host, backupDir, doomed.flatMap((r) => [`${r.id}.tar.gz`, `${r.id}.json`]));
  // An archive whose record was lost is left alone: without a record nobody can say it is ours.
  return doomed.map((r) => r.id);
}
