// Issue 15 (issue 8, part 3, on real houses): the relay's backup and rollback on a generated Home
// Assistant config of real shape, at two sizes (medium 5,000 entries / 120 MiB, large 15,000 /
// 400 MiB), against plain tar run on the host through the same SSH connection (one exec each, as
// a homeowner would type it). The host holds the house as a deploy leaves it, beside Home
// Assistant's own state (which neither side archives: the relay protects it, tar is given the list).
//
//   backup     takeBackup with scope `full` (archive, read back, checksum, JSON record with the
//              manifest in force) against `tar czf` of the same entries
//   rollback   of a 100-file change (files across the tree, text and binary): findBackup (the
//              checksum check before a restore) and restoreArchive, against `sha256sum` of the
//              archive then `tar xzf` (the goal: within 1.2x), and against bare `tar xzf`
//
//   npm run bench -- backup-rollback
//   BENCH_SIZE=medium|large|both (both)   BENCH_ROUNDS=3   BENCH_ROLLBACK_FILES=100
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { newId } from '../shared/ids.ts';
import { findBackup, newBackupId, takeBackup } from '../relay/pipeline/backups.ts';
import { restoreArchive } from '../relay/pipeline/archive-restore.ts';
import { writeHostFile } from '../relay/pipeline/host-files.ts';
import { hashLiveTree } from '../relay/pipeline/live-tree.ts';
import { serializeManifest } from '../relay/pipeline/manifest.ts';
import { connectSshHost } from '../relay/transport/ssh-host.ts';
import { shellQuote, type TargetHost } from '../relay/transport/target-host.ts';
import { startSshd } from '../test/support/sshd.ts';
import { benchSizes, describeSize, loadAverage, roundsFor, type BenchSize, type BenchSizeName } from './support/bench-sizes.ts';
import { installRemoteProfile, recordRemoteCommands, slowestCommands, type RemoteCommand } from './support/remote-profile.ts';
import { cachedRealHouse } from './support/real-house-repo.ts';
import { scalingLine, type PerSize } from './support/size-report.ts';
import { median, mib, ms, ratio, time, verdict } from './support/stats.ts';

const run = promisify(execFile);
const ROLLBACK_FILES = Number(process.env.BENCH_ROLLBACK_FILES ?? 100);
const ROLLBACK_GOAL = 1.2;

async function checked(host: TargetHost, script: string, stdin?: string): Promise<void> {
  const result = await host.run(script, stdin === undefined ? {} : { stdin });
  if (result.code !== 0) throw new Error(`${script} failed (${result.code}): ${result.stderr}`);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface SizeResult {
  backup: number[];
  plainBackup: number[];
  archiveBytes: number;
  restore: number[];
  plainRestore: number[];
  checkedRestore: number[];
  changedBytes: number;
  restoreCommands: RemoteCommand[];
  loads: string[];
}

async function benchSize(size: BenchSize, host: TargetHost, homeDir: string, username: string): Promise<SizeResult> {
  const rounds = roundsFor('BENCH_ROUNDS', size, 3);
  const cached = await cachedRealHouse(size);
  const tree = cached.tree;
  const root = join(homeDir, `config-${size.name}`);
  const backupDir = join(homeDir, `backup-${size.name}`);
  const loads = [loadAverage()];
  try {
    // The host as a deploy leaves it: the deployed entries (copied from the cached work tree, so
    // the bytes are the commit's), then Home Assistant's own state over them.
    await run('cp', ['-a', join(cached.dir, 'work'), root]);
    await rm(join(root, '.git'), { recursive: true, force: true });
    await tree.writeHostState(root);
    await mkdir(backupDir);
    await run('chown', ['-R', `${username}:`, root, backupDir]);
    const live = await hashLiveTree(host, root);
    const manifest = { sha: cached.sha, deployedAt: Date.now(), files: live.files };
    // Where the pipeline keeps it: the backup record takes it from there, as in a deploy.
    const manifestOnHost = `${root}/.lanyard/manifest.json`;
    await writeHostFile(host, manifestOnHost, serializeManifest(manifest));
    const paths = tree.deployed.map((e) => e.path);
    const list = paths.join('\n') + '\n';
    console.log(`\n## ${describeSize(size, tree.repoBytes)}: ${paths.length} entries deployed, ${tree.host.length} host files of Home Assistant's beside them; load ${loads[0]}`);

    // Backup of the whole tree.
    const backup: number[] = [];
    const plainBackup: number[] = [];
    let archiveBytes = 0;
    for (let r = 0; r < rounds; r += 1) {
      backup.push(
        await time(async () => {
          const jobId = newId('dep');
          const record = await takeBackup(host, { id: newBackupId(jobId), jobId, reason: 'bench', scope: 'full', root, backupDir, files: paths, absent: [], baseSha: manifest.sha, manifest, manifestOnHost: { path: manifestOnHost }, protect: [] });
          archiveBytes = record.archive.bytes;
        }),
      );
      plainBackup.push(await time(() => checked(host, `cd ${shellQuote(root)} && tar -czf ${shellQuote(`${backupDir}/plain-${r}.tar.gz`)} -T -`, list)));
      // Only the newest of each kind is kept, so the next round writes into the same free space.
      await checked(host, `cd ${shellQuote(backupDir)} && rm -f plain-*.tar.gz && ls lanyard-*.tar.gz | head -n -1 | while read f; do rm -f "$f" "\${f%.tar.gz}.json"; done`);
      console.log(`   backup ${r + 1}/${rounds}: relay ${ms(backup[r]!)}, tar czf ${ms(plainBackup[r]!)}; load ${loadAverage()}`);
    }
    loads.push(loadAverage());

    // Rollback of a change to ROLLBACK_FILES files spread over the tree (the generator's "update
    // 100 files": text and binary, from every folder).
    const changed = tree.filesChanged(ROLLBACK_FILES).writes.map((w) => w.path);
    const original = new Map<string, string>();
    let changedBytes = 0;
    for (const path of changed) {
      const bytes = await readFile(join(root, path));
      original.set(path, sha256(bytes));
      changedBytes += bytes.length;
    }
    const changeJob = newId('dep');
    const before = await takeBackup(host, { id: newBackupId(changeJob), jobId: changeJob, reason: 'bench', scope: 'changed', root, backupDir, files: changed, absent: [], baseSha: manifest.sha, manifest, manifestOnHost: { path: manifestOnHost }, protect: [] });
    const deployChange = async (r: number, side: string) => {
      for (const path of changed) {
        await rm(join(root, path));
        await writeFile(join(root, path), `deployed by round ${r} (${side}): ${path}\n`);
      }
    };
    const assertRestored = async (what: string) => {
      for (const path of changed) if (sha256(await readFile(join(root, path))) !== original.get(path)) throw new Error(`after ${what}, ${path} is not the backed-up file`);
    };
    installRemoteProfile();
    const restore: number[] = [];
    const plainRestore: number[] = [];
    const checkedRestore: number[] = [];
    let restoreCommands: RemoteCommand[] = [];
    for (let r = 0; r < rounds; r += 1) {
      await deployChange(r, 'relay');
      const stop = recordRemoteCommands();
      restore.push(
        await time(async () => {
          const record = await findBackup(host, backupDir, before.id);
          // The archive and the host listed, each entry judged, extracted into staging, checked and moved into place.
          await restoreArchive(host, root, record.archive.path, record.absent, { configRoot: root, protect: [] });
        }),
      );
      restoreCommands = stop();
      await assertRestored("the relay's restore");
      // The goal's baseline: tar, after the one check the relay makes first (the archive's checksum).
      await deployChange(r, 'checked tar');
      checkedRestore.push(await time(() => checked(host, `cd ${shellQuote(root)} && [ "$(sha256sum < ${shellQuote(before.archive.path)} | cut -c1-64)" = ${before.archive.sha256} ] && tar -xpzf ${shellQuote(before.archive.path)} -C .`)));
      await assertRestored('sha256sum and tar xzf');
      await deployChange(r, 'tar');
      plainRestore.push(await time(() => checked(host, `cd ${shellQuote(root)} && tar -xpzf ${shellQuote(before.archive.path)} -C .`)));
      await assertRestored('tar xzf');
    }
    loads.push(loadAverage());
    const result: SizeResult = { backup, plainBackup, archiveBytes, restore, plainRestore, checkedRestore, changedBytes, restoreCommands, loads };
    report(size, paths.length, changed.length, result);
    return result;
  } finally {
    await rm(root, { recursive: true, force: true });
    await rm(backupDir, { recursive: true, force: true });
  }
}

function report(size: BenchSize, entries: number, changed: number, r: SizeResult): void {
  const backupMs = median(r.backup);
  const plainMs = median(r.plainBackup);
  const restoreMs = median(r.restore);
  const checkedMs = median(r.checkedRestore);
  console.log(`\n   backup of ${entries} entries (median of ${r.backup.length}): relay ${ms(backupMs)} (rounds ${r.backup.map(ms).join(', ')}); tar czf ${ms(plainMs)} (rounds ${r.plainBackup.map(ms).join(', ')}); archive ${mib(r.archiveBytes)}; ratio ${ratio(backupMs, plainMs)}`);
  console.log(`   rollback of ${changed} files, ${mib(r.changedBytes)} (median of ${r.restore.length}): relay ${ms(restoreMs)} (rounds ${r.restore.map(ms).join(', ')})`);
  console.log(`     sha256sum then tar xzf: ${ms(checkedMs)} (rounds ${r.checkedRestore.map(ms).join(', ')}); ratio ${ratio(restoreMs, checkedMs)}`);
  console.log(`     bare tar xzf: ${ms(median(r.plainRestore))} (rounds ${r.plainRestore.map(ms).join(', ')}); ratio ${ratio(restoreMs, median(r.plainRestore))}`);
  console.log(`     the relay's commands on the host (last round):`);
  for (const line of slowestCommands(r.restoreCommands, 8)) console.log(`       ${line}`);
  console.log(`   load average during ${size.name}: ${r.loads.join(' → ')}`);
  console.log('');
  console.log(`   ${size.name}: backup within 1.2x tar czf (${ratio(backupMs, plainMs)}): ${verdict(backupMs <= 1.2 * plainMs)}`);
  console.log(`   ${size.name}: rollback within ${ROLLBACK_GOAL}x sha256sum + tar xzf (${ratio(restoreMs, checkedMs)}): ${verdict(restoreMs <= ROLLBACK_GOAL * checkedMs)}`);
}

const sshd = await startSshd();
const host = await connectSshHost({ host: sshd.host, port: sshd.port, username: sshd.username, privateKeyPath: sshd.privateKeyPath, hostKeyFingerprint: sshd.hostKeyFingerprint });
const scratch = await mkdtemp(join(tmpdir(), 'lanyard-bench-backup-'));
const results: Partial<Record<BenchSizeName, SizeResult>> = {};
try {
  console.log('backup and rollback over SSH, real houses; sshd on 127.0.0.1, one SSH connection for both sides; everything on one 2-core machine');
  for (const size of benchSizes()) results[size.name] = await benchSize(size, host, sshd.homeDir, sshd.username);
} finally {
  await host.close();
  await sshd.stop();
  await rm(scratch, { recursive: true, force: true });
}

const per = (f: (r: SizeResult) => number): PerSize<number> => Object.fromEntries(Object.entries(results).map(([name, r]) => [name, f(r!)]));
const times = (v: number) => `${v.toFixed(2)}x`;
console.log('\nscaling (large/medium):');
console.log(scalingLine('full backup, relay', per((r) => median(r.backup))));
console.log(scalingLine('tar czf', per((r) => median(r.plainBackup))));
console.log(scalingLine('backup / tar czf', per((r) => median(r.backup) / median(r.plainBackup)), times));
console.log(scalingLine('rollback of 100 files, relay', per((r) => median(r.restore))));
console.log(scalingLine('sha256sum + tar xzf', per((r) => median(r.checkedRestore))));
console.log(scalingLine('rollback / (sha256sum + tar xzf)', per((r) => median(r.restore) / median(r.checkedRestore)), times));
