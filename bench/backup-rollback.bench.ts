// Issue 8, part 3: the relay's backup and rollback on the 5,000-file / 100 MB tree, against plain
// tar run on the host through the same SSH connection (one exec each, as a homeowner would type it).
//
//   backup     takeBackup with scope `full` (archive, read back, checksum, JSON record with the
//              manifest in force) against `tar czf` of the same files
//   rollback   of a 100-file change: findBackup (the checksum check before a restore) and
//              restoreArchive, against `tar xzf` of the same archive
//
//   node --import tsx bench/backup-rollback.bench.ts
//   BENCH_FILES=5000 BENCH_MB=100 BENCH_ROUNDS=3 BENCH_ROLLBACK_FILES=100 (the defaults)
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findBackup, newBackupId, takeBackup } from '../relay/pipeline/backups.ts';
import { restoreArchive } from '../relay/pipeline/archive-restore.ts';
import { writeHostFile } from '../relay/pipeline/host-files.ts';
import { hashLiveTree } from '../relay/pipeline/live-tree.ts';
import { serializeManifest } from '../relay/pipeline/manifest.ts';
import { connectSshHost } from '../relay/transport/ssh-host.ts';
import { shellQuote, type TargetHost } from '../relay/transport/target-host.ts';
import { startSshd } from '../test/support/sshd.ts';
import { writeConfigTree } from './support/config-tree.ts';
import { median, mib, ms, ratio, time, verdict } from './support/stats.ts';

const run = promisify(execFile);
const FILES = Number(process.env.BENCH_FILES ?? 5000);
const TOTAL_BYTES = Number(process.env.BENCH_MB ?? 100) * 1024 * 1024;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROLLBACK_FILES = Number(process.env.BENCH_ROLLBACK_FILES ?? 100);

async function checked(host: TargetHost, script: string, stdin?: string): Promise<void> {
  const result = await host.run(script, stdin === undefined ? {} : { stdin });
  if (result.code !== 0) throw new Error(`${script} failed (${result.code}): ${result.stderr}`);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

const sshd = await startSshd();
const host = await connectSshHost({ host: sshd.host, port: sshd.port, username: sshd.username, privateKeyPath: sshd.privateKeyPath, hostKeyFingerprint: sshd.hostKeyFingerprint });
const scratch = await mkdtemp(join(tmpdir(), 'lanyard-bench-backup-'));
try {
  const root = join(sshd.homeDir, 'config');
  const backupDir = join(sshd.homeDir, 'backup');
  const tree = await writeConfigTree(join(scratch, 'tree'), { files: FILES, totalBytes: TOTAL_BYTES });
  await run('cp', ['-a', join(scratch, 'tree'), root]);
  await mkdir(backupDir);
  await run('chown', ['-R', `${sshd.username}:`, root, backupDir]);
  const live = await hashLiveTree(host, root);
  const manifest = { sha: 'a'.repeat(40), deployedAt: Date.now(), files: live.files };
  // Where the pipeline keeps it: the backup record takes it from there, as in a deploy.
  const manifestOnHost = `${root}/.lanyard/manifest.json`;
  await writeHostFile(host, manifestOnHost, serializeManifest(manifest));
  const list = tree.paths.join('\n') + '\n';
  console.log(`tree: ${tree.paths.length} files, ${mib(tree.bytes)}; sshd on 127.0.0.1, one SSH connection for both sides`);

  // Backup of the whole tree.
  const ours: number[] = [];
  const plain: number[] = [];
  let archiveBytes = 0;
  for (let r = 0; r < ROUNDS; r += 1) {
    ours.push(
      await time(async () => {
        const record = await takeBackup(host, {
          id: newBackupId(`dep_full${r}`),
          jobId: `dep_full${r}`,
          reason: 'bench',
          scope: 'full',
          root,
          backupDir,
          files: tree.paths,
          absent: [],
          baseSha: manifest.sha,
          manifest,
          manifestOnHost: { path: manifestOnHost },
          protect: [],
        });
        archiveBytes = record.archive.bytes;
      }),
    );
    plain.push(await time(() => checked(host, `cd ${shellQuote(root)} && tar -czf ${shellQuote(`${backupDir}/plain-${r}.tar.gz`)} -T -`, list)));
    // Only the newest of each kind is kept, so the next round writes into the same free space.
    await checked(host, `cd ${shellQuote(backupDir)} && rm -f plain-*.tar.gz && ls lanyard-*.tar.gz | head -n -1 | while read f; do rm -f "$f" "\${f%.tar.gz}.json"; done`);
  }

  // Rollback of a change to ROLLBACK_FILES files spread over the tree.
  const step = Math.max(1, Math.floor(tree.paths.length / ROLLBACK_FILES));
  const changed = tree.paths.filter((_, i) => i % step === 0).slice(0, ROLLBACK_FILES);
  const original = new Map<string, string>();
  for (const path of changed) original.set(path, sha256(await readFile(join(root, path))));
  const backup = await takeBackup(host, {
    id: newBackupId('dep_change'),
    jobId: 'dep_change',
    reason: 'bench',
    scope: 'changed',
    root,
    backupDir,
    files: changed,
    absent: [],
    baseSha: manifest.sha,
    manifest,
    manifestOnHost: { path: manifestOnHost },
    protect: [],
  });
  let changedBytes = 0;
  for (const path of changed) changedBytes += (await readFile(join(root, path))).length;
  const deployChange = async (r: number, side: string) => {
    for (const path of changed) await writeFile(join(root, path), `deployed by round ${r} (${side}): ${path}\n`);
  };
  const assertRestored = async (what: string) => {
    for (const path of changed) {
      if (sha256(await readFile(join(root, path))) !== original.get(path)) throw new Error(`after ${what}, ${path} is not the backed-up file`);
    }
  };
  const oursRestore: number[] = [];
  const plainRestore: number[] = [];
  const checkedRestore: number[] = [];
  for (let r = 0; r < ROUNDS; r += 1) {
    await deployChange(r, 'relay');
    oursRestore.push(
      await time(async () => {
        const record = await findBackup(host, backupDir, backup.id);
        // The archive and the host listed, each entry judged, extracted into staging, checked and moved into place.
        await restoreArchive(host, root, record.archive.path, record.absent, { configRoot: root, protect: [] });
      }),
    );
    await assertRestored('the relay\'s restore');
    await deployChange(r, 'tar');
    plainRestore.push(await time(() => checked(host, `cd ${shellQuote(root)} && tar -xpzf ${shellQuote(backup.archive.path)} -C .`)));
    await assertRestored('tar xzf');
    // Not the baseline: what tar costs with the one check the relay adds (the archive's checksum
    // before anything is extracted), to show where the difference goes.
    await deployChange(r, 'checked tar');
    checkedRestore.push(await time(() => checked(host, `cd ${shellQuote(root)} && [ "$(sha256sum < ${shellQuote(backup.archive.path)} | cut -c1-64)" = ${backup.archive.sha256} ] && tar -xpzf ${shellQuote(backup.archive.path)} -C .`)));
    await assertRestored('sha256sum and tar xzf');
  }

  const backupMs = median(ours);
  const plainMs = median(plain);
  const restoreMs = median(oursRestore);
  const plainRestoreMs = median(plainRestore);
  console.log(`\nbackup of ${tree.paths.length} files (median of ${ROUNDS}): relay ${ms(backupMs)} (rounds ${ours.map(ms).join(', ')}); tar czf ${ms(plainMs)} (rounds ${plain.map(ms).join(', ')}); archive ${mib(archiveBytes)}`);
  console.log(`  ratio ${ratio(backupMs, plainMs)}`);
  console.log(`rollback of ${changed.length} files, ${mib(changedBytes)} (median of ${ROUNDS}): relay ${ms(restoreMs)} (rounds ${oursRestore.map(ms).join(', ')}); tar xzf ${ms(plainRestoreMs)} (rounds ${plainRestore.map(ms).join(', ')})`);
  console.log(`  ratio ${ratio(restoreMs, plainRestoreMs)}; tar xzf after checking the archive's sha256 (the relay's one extra check): ${ms(median(checkedRestore))}, against which the relay is ${ratio(restoreMs, median(checkedRestore))}`);
  console.log('');
  console.log(`backup within 1.2x tar czf (${ratio(backupMs, plainMs)}): ${verdict(backupMs <= 1.2 * plainMs)}`);
  console.log(`rollback within 1.2x tar xzf (${ratio(restoreMs, plainRestoreMs)}): ${verdict(restoreMs <= 1.2 * plainRestoreMs)}`);
} finally {
  await host.close();
  await sshd.stop();
  await rm(scratch, { recursive: true, force: true });
}
