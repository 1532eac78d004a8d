// Issue 8, part 2: deploying a 5,000-file / 100 MB configuration over SSH, against rsync over the
// same SSH in the same run. The relay's real pipeline (createPipeline) deploys through a counting
// TCP proxy in front of a real sshd on 127.0.0.1; rsync goes through the same proxy.
//
//   first full deploy   the pipeline into a host holding only Home Assistant's own files, against
//                       `rsync -a` of the same tree into the same fresh host folder
//   incremental         one file changed (an incompressible image, the hard case for the bytes goal),
//                       host holding the previous commit, against `rsync -a --checksum --delete`
//
// "Job start to files in place" runs from the job's start to the end of the apply step (Home
// Assistant's check, reload and verify are not counted). Every full deploy starts from a fresh host
// folder; each incremental commit lands on the host as the previous one left it (the pipeline's and
// rsync's each have their own folder). The relay keeps its SSH connection, git cache and live-hash
// cache between jobs, as the daemon does; its first job after a restart, with no live-hash cache, is
// reported apart. rsync opens a new SSH connection per run, as a homeowner's rsync does.
//
//   node --import tsx bench/incremental-deploy.bench.ts
//   BENCH_FILES=5000 BENCH_MB=100 BENCH_ROUNDS=3 BENCH_FULL_ROUNDS=2 (the defaults)
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HOST_ONLY_FILES } from '../test/support/house.ts';
import { configTreeFile } from './support/config-tree.ts';
import { openPipeline, runDeployJob, startDeployHouse, type DeployHouse, type TimedJob } from './support/deploy-house.ts';
import { median, ms, mib, ratio, time, verdict } from './support/stats.ts';

const run = promisify(execFile);
const FILES = Number(process.env.BENCH_FILES ?? 5000);
const TOTAL_BYTES = Number(process.env.BENCH_MB ?? 100) * 1024 * 1024;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const FULL_ROUNDS = Number(process.env.BENCH_FULL_ROUNDS ?? 2);
const STEPS = ['fetch', 'plan', 'drift', 'backup', 'apply'] as const;

/** rsync to the host's config root as a homeowner would: Home Assistant's own files and Lanyard's are left alone. */
async function rsyncToHost(house: DeployHouse, flags: string[], hostDir = house.configRoot): Promise<{ ms: number; up: number; down: number }> {
  const protect = ['.git', '.lanyard', ...Object.keys(HOST_ONLY_FILES).map((p) => p.split('/')[0]!)];
  const args = [...flags, ...[...new Set(protect)].map((p) => `--exclude=/${p}`), '-e', house.sshCommand(), `${house.work}/`, `${house.sshd.username}@127.0.0.1:${hostDir}/`];
  house.proxy.resetCounters();
  const took = await time(() => run('rsync', args, { maxBuffer: 64 * 1024 * 1024 }));
  return { ms: took, up: house.proxy.bytesUp, down: house.proxy.bytesDown };
}

/** Every deployed file on the host equals the work tree's (diff -r, Home Assistant's files and .git aside). */
async function assertHostHoldsWorkTree(house: DeployHouse, what: string, hostDir = house.configRoot): Promise<void> {
  const excludes = ['.git', '.lanyard', ...Object.keys(HOST_ONLY_FILES).map((p) => p.split('/')[0]!)].flatMap((p) => ['-x', p]);
  try {
    await run('diff', ['-rq', ...excludes, house.work, hostDir], { maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    throw new Error(`after ${what} the host differs from the commit: ${(error as { stdout?: string }).stdout?.slice(0, 2000) ?? String(error)}`);
  }
}

function stepLine(jobs: TimedJob[]): string {
  return STEPS.map((s) => `${s} ${ms(median(jobs.map((j) => j.durations[s] ?? 0)))}`).join(', ');
}

const house = await startDeployHouse({ files: FILES, totalBytes: TOTAL_BYTES });
const scratch = await mkdtemp(join(tmpdir(), 'lanyard-bench-relay-'));
try {
  const baseSha = (await run('git', ['-C', house.work, 'rev-parse', 'HEAD'])).stdout.trim();
  console.log(`tree: ${house.treePaths.length} files, ${mib(house.treeBytes)}; sshd on 127.0.0.1 behind a counting proxy; 2-core box, everything on one machine`);

  // First full deploy: a brand-new relay (empty git cache) into a host with only HA's own files.
  const full: TimedJob[] = [];
  const fullRsync: { ms: number; up: number; down: number }[] = [];
  for (let r = 0; r < FULL_ROUNDS; r += 1) {
    await house.resetHostToBare();
    const stateDir = join(scratch, `full-${r}`);
    const pipeline = await openPipeline(house, stateDir);
    try {
      full.push(await runDeployJob(pipeline, house, stateDir, baseSha));
    } finally {
      await pipeline.close();
    }
    await assertHostHoldsWorkTree(house, 'the first full deploy');
    if (r === 0) await house.snapshotHost('deployed');
    await house.resetHostToBare();
    fullRsync.push(await rsyncToHost(house, ['-a']));
    await assertHostHoldsWorkTree(house, 'rsync -a');
  }

  // Incremental: one image changed per commit, each deployed onto the host holding the commit
  // before it (the pipeline's host), and rsynced onto a second host folder holding the same (rsync's).
  // The relay is the one that made the first full deploy (git cache filled), restarted: its first
  // job has no live-hash cache ("cold", as after a relay restart); the rounds after it are "warm".
  const changedPath = house.treePaths.find((p) => p.startsWith('www/floorplan/'))!;
  const rsyncDir = join(house.sshd.homeDir, 'config-rsync');
  await house.restoreHost('deployed');
  await run('cp', ['-a', house.configRoot, rsyncDir]);
  const stateDir = join(scratch, 'full-0');
  const pipeline = await openPipeline(house, stateDir);
  const incremental: TimedJob[] = [];
  const incrementalRsync: { ms: number; up: number; down: number }[] = [];
  let cold: TimedJob | null = null;
  let changedBytes = 0;
  try {
    for (let r = -1; r < ROUNDS; r += 1) {
      const content = configTreeFile(changedPath, TOTAL_BYTES / FILES, `round-${r}`);
      changedBytes = content.length;
      const sha = await house.commit({ [changedPath]: content }, `Redraw ${changedPath} (round ${r})`);
      // Past the second the last hashing started in, as between real pushes.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const job = await runDeployJob(pipeline, house, stateDir, sha);
      if (job.outcome.summary.filesChanged?.length !== 1) throw new Error(`expected one file deployed, got ${job.outcome.summary.filesChanged?.length}`);
      if (r < 0) cold = job;
      else incremental.push(job);
      await assertHostHoldsWorkTree(house, 'the incremental deploy');
      incrementalRsync.push(await rsyncToHost(house, ['-a', '--checksum', '--delete'], rsyncDir));
      await assertHostHoldsWorkTree(house, 'rsync -a --checksum --delete', rsyncDir);
    }
  } finally {
    await pipeline.close();
    await rm(rsyncDir, { recursive: true, force: true });
  }

  const fullMs = median(full.map((j) => j.toFilesInPlaceMs));
  const fullNoFetchMs = median(full.map((j) => j.toFilesInPlaceMs - (j.durations.fetch ?? 0)));
  const fullRsyncMs = median(fullRsync.map((r) => r.ms));
  console.log(`\nfirst full deploy (median of ${FULL_ROUNDS})`);
  console.log(`  pipeline, job start to files in place: ${ms(fullMs)} (${ms(fullNoFetchMs)} without fetch); up ${mib(median(full.map((j) => j.bytesUp)))}, down ${mib(median(full.map((j) => j.bytesDown)))}`);
  console.log(`    per step: ${stepLine(full)}`);
  console.log(`  rsync -a: ${ms(fullRsyncMs)}; up ${mib(median(fullRsync.map((r) => r.up)))}, down ${mib(median(fullRsync.map((r) => r.down)))}`);
  console.log(`  ratio: ${ratio(fullMs, fullRsyncMs)} (${ratio(fullNoFetchMs, fullRsyncMs)} without fetch)`);

  const incMs = median(incremental.map((j) => j.toFilesInPlaceMs));
  const incRsyncMs = median(incrementalRsync.map((r) => r.ms));
  const incUp = median(incremental.map((j) => j.bytesUp));
  const rsyncUp = median(incrementalRsync.map((r) => r.up));
  // The protocol overhead: what rsync, the baseline, needs beyond the changed bytes to find and send
  // the one changed file (its file list with checksums, and the SSH handshake).
  const overhead = Math.max(0, rsyncUp - changedBytes);
  const bytesLimit = 1.1 * changedBytes + overhead;
  console.log(`\nincremental deploy, 1 file changed (${changedPath}, ${changedBytes} bytes), median of ${ROUNDS} (relay warm: it deployed before)`);
  console.log(`  pipeline, job start to files in place: ${ms(incMs)}; rounds ${incremental.map((j) => ms(j.toFilesInPlaceMs)).join(', ')}`);
  console.log(`    per step: ${stepLine(incremental)}`);
  console.log(`    bytes up ${incUp} (${ratio(incUp, changedBytes)} the changed bytes), down ${median(incremental.map((j) => j.bytesDown))}`);
  console.log(`  rsync -a --checksum --delete: ${ms(incRsyncMs)}; rounds ${incrementalRsync.map((r) => ms(r.ms)).join(', ')}`);
  console.log(`    bytes up ${rsyncUp} (overhead beyond the changed bytes: ${overhead}), down ${median(incrementalRsync.map((r) => r.down))}`);
  console.log(`  the relay's first job after a restart (no live-hash cache, every host file hashed): ${ms(cold!.toFilesInPlaceMs)} (${ratio(cold!.toFilesInPlaceMs, incRsyncMs)} rsync); plan ${ms(cold!.durations.plan ?? 0)}`);
  console.log(`  time ratio: ${ratio(incMs, incRsyncMs)}; bytes up: ${incUp} against a limit of 1.1 x ${changedBytes} + ${overhead} = ${Math.round(bytesLimit)}`);

  console.log('');
  console.log(`incremental deploy no slower than 1.2x rsync --checksum (${ratio(incMs, incRsyncMs)}): ${verdict(incMs <= 1.2 * incRsyncMs)}`);
  console.log(`incremental bytes up within 1.1x the changed bytes plus rsync's protocol overhead (${incUp} <= ${Math.round(bytesLimit)}): ${verdict(incUp <= bytesLimit)}`);
  console.log(`first full deploy no slower than 1.2x rsync -a (${ratio(fullMs, fullRsyncMs)}): ${verdict(fullMs <= 1.2 * fullRsyncMs)}`);
} finally {
  await house.close();
  await rm(scratch, { recursive: true, force: true });
}
