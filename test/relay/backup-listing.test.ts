// Listing the kept backups (after every job, for the status page, and to prune) reads each record
// without the manifest it carries: on a 15,000-file house ten records held 27 MB of manifests.
// The listing must still give every record whole, whatever names its manifest holds, and a
// restore must still get the manifest.
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../../shared/ids.ts';
import { findBackup, listBackups, newBackupId, pruneBackups, takeBackup } from '../../relay/pipeline/backups.ts';
import type { Manifest } from '../../relay/pipeline/manifest.ts';
import { LocalHost } from '../../relay/transport/local-host.ts';

const host = new LocalHost();
let dir: string;
let root: string;
let backupDir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lanyard-backup-listing-'));
  root = join(dir, 'config');
  backupDir = join(dir, 'backup');
  await mkdir(join(root, 'www'), { recursive: true });
  await writeFile(join(root, 'automations.yaml'), '- alias: one\n');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Names that look like the record's own JSON: the cut must not happen inside them.
const trickyManifest = (n: number): Manifest => ({
  sha: 'a'.repeat(40),
  deployedAt: 1_700_000_000_000 + n,
  files: ['automations.yaml', 'www/x,"manifest":{"y".yaml', 'www/}"manifest":null}.yaml'].map((path) => ({ path, sha256: 'b'.repeat(64), mode: 0o644, size: 1, type: 'file' as const })),
});

async function backUp(n: number, at: Date) {
  const jobId = newId('dep');
  return takeBackup(host, {
    id: newBackupId(jobId, at),
    jobId,
    reason: `before deploy ${n}`,
    scope: 'changed',
    root,
    backupDir,
    files: ['automations.yaml'],
    absent: ['www/new.yaml'],
    baseSha: 'a'.repeat(40),
    manifest: trickyManifest(n),
    protect: [],
  });
}

describe('listing the kept backups', () => {
  it('lists every record whole but its manifest, oldest first, and a restore still reads the manifest', async () => {
    const first = await backUp(1, new Date('2026-12-01T10:00:00Z'));
    const second = await backUp(2, new Date('2026-12-01T11:00:00Z'));
    const listed = await listBackups(host, backupDir);
    const { manifest: _first, ...firstWithout } = first;
    const { manifest: _second, ...secondWithout } = second;
    expect(listed).toEqual([firstWithout, secondWithout]);
    expect((await findBackup(host, backupDir, second.id)).manifest).toEqual(trickyManifest(2));
  });

  it('prunes the oldest beyond the limit, never the one just taken', async () => {
    const taken = [];
    for (let n = 1; n <= 4; n += 1) taken.push(await backUp(n, new Date(Date.UTC(2026, 11, 1, n))));
    const pruned = await pruneBackups(host, backupDir, 2, [taken[0]!.id]);
    expect(pruned).toEqual([taken[1]!.id]);
    expect((await listBackups(host, backupDir)).map((b) => b.id)).toEqual([taken[0]!.id, taken[2]!.id, taken[3]!.id]);
    await expect(stat(taken[1]!.archive.path)).rejects.toThrow(/ENOENT/);
  });
});
