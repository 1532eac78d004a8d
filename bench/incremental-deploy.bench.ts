// Issue 15 (issue 8, part 2, on real houses): deploying a generated Home Assistant config of real
// shape over SSH, at two sizes (medium: 5,000 entries / 120 MiB; large: 15,000 / 400 MiB), against
// rsync over the same SSH in the same run. The relay's real pipeline (createPipeline) deploys
// through a counting TCP proxy in front of a real sshd on 127.0.0.1; rsync goes through the same
// proxy, leaving alone exactly what the relay leaves alone (support/rsync-baseline.ts).
//
//   first deploy   the pipeline into a host holding only Home Assistant's own state (.storage/, the
//                  database, logs, bytecode, add-on output), against `rsync -a --delete` of the same
//                  tree into the same fresh host folder. Goal: within 2x. The relay was started
//                  before the push, as the daemon is (it fetches and hashes its branch as it
//                  starts); a relay started by the push itself, git cache empty, is reported apart.
//   one change     one automation edited in the UI (automations.yaml, the reload path), host holding
//                  the previous commit, against `rsync -a --checksum --delete`. Goal: within 0.8x.
//
// "Job start to files in place" runs from the job's start to the end of the apply step (Home
// Assistant's check, reload and verify are not counted). Every first deploy starts from a fresh
// host folder; each one-change commit lands on the host as the previous one left it (the
// pipeline's and rsync's each have their own folder). The relay keeps its SSH connection, git cache
// and live-hash cache between jobs, as the daemon does; its first job after a restart, with no
// live-hash cache, is reported apart. rsync opens a new SSH connection per run, as a homeowner's
// rsync does. After every deploy, the relay's and rsync's, the host is checked to hold the commit.
//
//   npm run bench -- incremental-deploy
//   BENCH_SIZE=medium|large|both (both, medium first)   BENCH_ROUNDS=3   BENCH_FULL_ROUNDS=2
//   (a _MEDIUM or _LARGE suffix sets a knob for one size: BENCH_FULL_ROUNDS_LARGE=1)
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { benchSizes, describeSize, loadAverage, roundsFor, type BenchSize, type BenchSizeName } from './support/bench-sizes.ts';
import { openPipeline, runDeployJob, startDeployHouse, type TimedJob } from './support/deploy-house.ts';
import { slowestCommands } from './support/remote-profile.ts';
import type { RsyncRun } from './support/rsync-baseline.ts';
import { scalingLine, stepMedians, type PerSize } from './support/size-report.ts';
import { median, mib, ms, ratio, verdict } from './support/stats.ts';

const run = promisify(execFile);
const STEPS = ['fetch', 'plan', 'drift', 'backup', 'apply', 'record'] as const;
const FIRST_DEPLOY_GOAL = 2;
const ONE_CHANGE_GOAL = 0.8;

interface SizeResult {
  full: TimedJob[];
  /** The first deploy of a relay started by the push itself: its git cache empty. */
  fullCold: TimedJob;
  fullRsync: RsyncRun[];
  cold: TimedJob;
  incremental: TimedJob[];
  incrementalRsync: RsyncRun[];
  changedBytes: number;
  loads: string[];
}

/** Time the steps do not account for (journal writes, probes between steps), up to files in place. */
function between(job: TimedJob): number {
  return job.toFilesInPlaceMs - ['fetch', 'plan', 'drift', 'backup', 'apply'].reduce((sum, s) => sum + (job.durations[s] ?? 0), 0);
}

async function benchSize(size: BenchSize, scratch: string): Promise<SizeResult> {
  const house = await startDeployHouse(size);
  const fullRounds = roundsFor('BENCH_FULL_ROUNDS', size, 2);
  const rounds = roundsFor('BENCH_ROUNDS', size, 3);
  const loads = [loadAverage()];
  try {
    console.log(`\n## ${describeSize(size, house.tree.repoBytes)} (${house.tree.links.length} links, ${house.tree.host.length} host files of Home Assistant's); load ${loads[0]}`);
    console.log(`   ${house.setupNote}`);

    // First deploy: a brand-new relay into a host with only HA's own files. The relay was started
    // before the push, as the daemon is (it warms its git cache as it starts: fetch and hashing of
    // the branch); once more, apart, a relay that the push itself started (git cache empty).
    const full: TimedJob[] = [];
    const fullRsync: RsyncRun[] = [];
    for (let r = 0; r <= fullRounds; r += 1) {
      await house.resetHostToBare();
      const stateDir = join(scratch, `${size.name}-full-${r}`);
      const pipeline = await openPipeline(house, stateDir);
      try {
        if (r < fullRounds) await pipeline.warmUp();
        full.push(await runDeployJob(pipeline, house, stateDir, house.initialSha));
      } finally {
        await pipeline.close();
      }
      if (r === fullRounds) {
        await house.assertHostHoldsCommit('the first deploy of a cold relay');
        console.log(`   first deploy by a relay started by the push (git cache empty): pipeline ${ms(full[r]!.toFilesInPlaceMs)}; ${stepMedians([full[r]!], STEPS, median)}`);
        break;
      }
      await house.assertHostHoldsCommit('the first deploy');
      if (r === 0) await house.snapshotHost('deployed');
      await house.resetHostToBare();
      fullRsync.push(await house.rsync(['-a', '--delete']));
      await house.assertHostHoldsCommit('rsync -a --delete');
      console.log(`   first deploy ${r + 1}/${fullRounds}: pipeline ${ms(full[r]!.toFilesInPlaceMs)}, rsync -a --delete ${ms(fullRsync[r]!.ms)}; load ${loadAverage()}`);
    }
    loads.push(loadAverage());

    // One automation changed per commit, each deployed onto the host holding the commit before it
    // (the pipeline's host), and rsynced onto a second host folder holding the same (rsync's).
    // The relay is the one that made the first deploy (git cache filled), restarted: its first job
    // has no live-hash cache ("cold", as after a relay restart); the rounds after it are "warm".
    const rsyncDir = join(house.sshd.homeDir, 'config-rsync');
    await house.restoreHost('deployed');
    await run('cp', ['-a', house.configRoot, rsyncDir]);
    const stateDir = join(scratch, `${size.name}-full-0`);
    const pipeline = await openPipeline(house, stateDir);
    const incremental: TimedJob[] = [];
    const incrementalRsync: RsyncRun[] = [];
    let cold: TimedJob | null = null;
    let changedBytes = 0;
    try {
      for (let r = 0; r <= rounds; r += 1) {
        const change = house.tree.oneAutomationChanged(r + 1);
        changedBytes = change.writes[0]!.size;
        const sha = await house.commitChange(change);
        // Past the second the last hashing started in, as between real pushes.
        await new Promise((resolve) => setTimeout(resolve, 1100));
        const job = await runDeployJob(pipeline, house, stateDir, sha);
        if (job.outcome.summary.filesChanged?.length !== 1) throw new Error(`expected one file deployed, got ${job.outcome.summary.filesChanged?.length}`);
        if (r === 0) cold = job;
        else incremental.push(job);
        await house.assertHostHoldsCommit('the one-change deploy');
        incrementalRsync.push(await house.rsync(['-a', '--checksum', '--delete'], rsyncDir));
        await house.assertHostHoldsCommit('rsync -a --checksum --delete', rsyncDir);
      }
    } finally {
      await pipeline.close();
      await rm(rsyncDir, { recursive: true, force: true });
    }
    loads.push(loadAverage());
    const fullCold = full.pop()!;
    const result: SizeResult = { full, fullCold, fullRsync, cold: cold!, incremental, incrementalRsync: incrementalRsync.slice(1), changedBytes, loads };
    report(size, result);
    return result;
  } finally {
    await house.close();
  }
}

function report(size: BenchSize, r: SizeResult): void {
  const fullMs = median(r.full.map((j) => j.toFilesInPlaceMs));
  const fullNoFetchMs = median(r.full.map((j) => j.toFilesInPlaceMs - (j.durations.fetch ?? 0)));
  const fullRsyncMs = median(r.fullRsync.map((x) => x.ms));
  console.log(`\n   first deploy (median of ${r.full.length})`);
  console.log(`     pipeline, job start to files in place: ${ms(fullMs)} (${ms(fullNoFetchMs)} without fetch); up ${mib(median(r.full.map((j) => j.bytesUp)))}, down ${mib(median(r.full.map((j) => j.bytesDown)))}`);
  console.log(`       per step: ${stepMedians(r.full, STEPS, median)}; between steps ${ms(median(r.full.map(between)))}`);
  console.log(`       slowest commands on the host (first round):`);
  for (const line of slowestCommands(r.full[0]!.commands, 6)) console.log(`         ${line}`);
  console.log(`     rsync -a --delete: ${ms(fullRsyncMs)} (rounds ${r.fullRsync.map((x) => ms(x.ms)).join(', ')}); up ${mib(median(r.fullRsync.map((x) => x.up)))}, down ${mib(median(r.fullRsync.map((x) => x.down)))}`);
  console.log(`     ratio: ${ratio(fullMs, fullRsyncMs)} (${ratio(fullNoFetchMs, fullRsyncMs)} without fetch)`);
  console.log(`     a relay started by the push (git cache empty): ${ms(r.fullCold.toFilesInPlaceMs)} (${ratio(r.fullCold.toFilesInPlaceMs, fullRsyncMs)}); ${stepMedians([r.fullCold], STEPS, median)}`);

  const incMs = median(r.incremental.map((j) => j.toFilesInPlaceMs));
  const incRsyncMs = median(r.incrementalRsync.map((x) => x.ms));
  const incUp = median(r.incremental.map((j) => j.bytesUp));
  const medianJob = [...r.incremental].sort((a, b) => a.toFilesInPlaceMs - b.toFilesInPlaceMs)[Math.ceil(r.incremental.length / 2) - 1]!;
  console.log(`\n   one automation changed (automations.yaml, ${r.changedBytes} bytes), median of ${r.incremental.length} (relay warm: it deployed before)`);
  console.log(`     pipeline, job start to files in place: ${ms(incMs)}; rounds ${r.incremental.map((j) => ms(j.toFilesInPlaceMs)).join(', ')}`);
  console.log(`       per step: ${stepMedians(r.incremental, STEPS, median)}; between steps ${ms(median(r.incremental.map(between)))}`);
  console.log(`       bytes up ${incUp}, down ${median(r.incremental.map((j) => j.bytesDown))}`);
  console.log(`       slowest commands on the host (median round):`);
  for (const line of slowestCommands(medianJob.commands, 6)) console.log(`         ${line}`);
  console.log(`     rsync -a --checksum --delete: ${ms(incRsyncMs)}; rounds ${r.incrementalRsync.map((x) => ms(x.ms)).join(', ')}; bytes up ${median(r.incrementalRsync.map((x) => x.up))}, down ${median(r.incrementalRsync.map((x) => x.down))}`);
  console.log(`     the relay's first job after a restart (no live-hash cache, every host file hashed): ${ms(r.cold.toFilesInPlaceMs)} (${ratio(r.cold.toFilesInPlaceMs, incRsyncMs)} rsync); ${stepMedians([r.cold], STEPS, median)}`);
  console.log(`     ratio: ${ratio(incMs, incRsyncMs)}`);
  console.log(`   load average during ${size.name}: ${r.loads.join(' → ')}`);
  console.log('');
  console.log(`   ${size.name}: one change, files in place within ${ONE_CHANGE_GOAL}x rsync -a --checksum --delete (${ratio(incMs, incRsyncMs)}): ${verdict(incMs <= ONE_CHANGE_GOAL * incRsyncMs)}`);
  console.log(`   ${size.name}: first deploy within ${FIRST_DEPLOY_GOAL}x rsync -a --delete (${ratio(fullMs, fullRsyncMs)}): ${verdict(fullMs <= FIRST_DEPLOY_GOAL * fullRsyncMs)}`);
}

const scratch = await mkdtemp(join(tmpdir(), 'lanyard-bench-relay-'));
const results: Partial<Record<BenchSizeName, SizeResult>> = {};
try {
  console.log('incremental deploy over SSH, real houses; sshd on 127.0.0.1 behind a counting proxy; everything on one 2-core machine');
  for (const size of benchSizes()) results[size.name] = await benchSize(size, scratch);
} finally {
  await rm(scratch, { recursive: true, force: true });
}

const per = (f: (r: SizeResult) => number): PerSize<number> => Object.fromEntries(Object.entries(results).map(([name, r]) => [name, f(r!)]));
const medianOf = (jobs: TimedJob[], f: (j: TimedJob) => number) => median(jobs.map(f));
console.log('\nscaling (large/medium):');
console.log(scalingLine('first deploy, files in place', per((r) => medianOf(r.full, (j) => j.toFilesInPlaceMs))));
console.log(scalingLine('rsync -a --delete', per((r) => median(r.fullRsync.map((x) => x.ms)))));
console.log(scalingLine('first deploy / rsync', per((r) => medianOf(r.full, (j) => j.toFilesInPlaceMs) / median(r.fullRsync.map((x) => x.ms))), (v) => `${v.toFixed(2)}x`));
for (const step of ['fetch', 'plan', 'backup', 'apply', 'record']) console.log(scalingLine(`  first deploy: ${step}`, per((r) => medianOf(r.full, (j) => j.durations[step] ?? 0))));
console.log(scalingLine('one change, files in place', per((r) => medianOf(r.incremental, (j) => j.toFilesInPlaceMs))));
console.log(scalingLine('rsync -a --checksum --delete', per((r) => median(r.incrementalRsync.map((x) => x.ms)))));
console.log(scalingLine('one change / rsync', per((r) => medianOf(r.incremental, (j) => j.toFilesInPlaceMs) / median(r.incrementalRsync.map((x) => x.ms))), (v) => `${v.toFixed(2)}x`));
for (const step of ['fetch', 'plan', 'drift', 'backup', 'apply', 'record']) console.log(scalingLine(`  one change: ${step}`, per((r) => medianOf(r.incremental, (j) => j.durations[step] ?? 0))));
console.log(scalingLine('first job after a relay restart', per((r) => r.cold.toFilesInPlaceMs)));
