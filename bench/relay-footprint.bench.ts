// Issue 15 (issue 8, part 5, on real houses): the memory of the relay AND of the processes it
// starts (git, gzip, tar…), as shipped (`npm run build:relay`: one bundled dist/relay.mjs run by
// plain node, with the settings of the systemd unit), connected to a real edge under
// `wrangler dev` and deploying a generated Home Assistant config of real shape over a real sshd on
// 127.0.0.1, at two sizes (medium 5,000 entries / 120 MiB, large 15,000 / 400 MiB). Goal: the
// process tree under 150 MiB at its peak on the large house.
//
// The tree's memory is the sum of the RSS of the relay's pid and all its descendants, read from
// /proc/<pid>/stat every 25 ms (support/process-tree-memory.ts); a child that lives less than a
// sample apart may be missed, and shared pages are counted once per process (an upper bound).
// The relay's own peak is reported too: the larger of its samples and VmHWM (the kernel's own
// peak, reset before each phase through /proc/<pid>/clear_refs).
//
// Baseline, same run: a `node -e` process that only holds a WebSocket open (with `ws`, which the
// relay uses too), with the same settings: the runtime's own floor. The commands the relay runs
// on the host (sshd's sessions, tar) are the host's memory, not the relay's.
//
//   npm run bench -- relay-footprint
//   BENCH_SIZE=medium|large|both (both)   BENCH_IDLE_MS=5000   BENCH_SAMPLE_MS=25
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { stringify as toYaml } from 'yaml';
import { apiClient, git, startTestEdge, TEST_SECRETS, waitForDeployment } from '../test/support/house.ts';
import { sendPush } from '../test/support/push.ts';
import { benchSizes, describeSize, loadAverage, type BenchSize, type BenchSizeName } from './support/bench-sizes.ts';
import { startDeployHouse } from './support/deploy-house.ts';
import { sampleProcessTree, type TreePeak } from './support/process-tree-memory.ts';
import { scalingLine, type PerSize } from './support/size-report.ts';
import { mib, ms, ratio, verdict } from './support/stats.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const IDLE_SAMPLE_MS = Number(process.env.BENCH_IDLE_MS ?? 5000);
const MB = 1024 * 1024;
const MiB = 1024 * 1024;
const SAMPLE_MS = Number(process.env.BENCH_SAMPLE_MS ?? 25);
const TREE_GOAL = 150 * MiB;
/**
 * The relay runs as the systemd unit starts it: its Environment= lines and the node flags of its
 * ExecStart, read from deploy/systemd/lanyard-relay.service (deploy/addon/run.sh sets the same).
 * BENCH_RELAY_NODE_ARGS and BENCH_RELAY_ENV ("NAME=value …") replace them, to try other settings.
 */
const UNIT = await readFile(join(ROOT, 'deploy/systemd/lanyard-relay.service'), 'utf8');
const UNIT_NODE_ARGS = (/^ExecStart=\S*node((?: --\S+)*) \S*relay\.mjs run/m.exec(UNIT)?.[1] ?? '').trim();
const UNIT_ENV = [...UNIT.matchAll(/^Environment=(\S+)$/gm)].map((m) => m[1]!).join(' ');
const RELAY_NODE_ARGS = (process.env.BENCH_RELAY_NODE_ARGS ?? UNIT_NODE_ARGS).split(' ').filter(Boolean);
const RELAY_ENV = Object.fromEntries((process.env.BENCH_RELAY_ENV ?? UNIT_ENV).split(' ').filter(Boolean).map((pair) => [pair.split('=')[0]!, pair.split('=').slice(1).join('=')]));

interface Memory {
  rss: number;
  hwm: number;
}

async function memoryOf(pid: number): Promise<Memory | null> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => null);
  if (!status) return null;
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Samples a process every 50 ms until stopped; the peak is the larger of the samples and VmHWM. */
function sampler(pid: number) {
  const samples: number[] = [];
  let hwm = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const memory = await memoryOf(pid);
      if (memory) {
        samples.push(memory.rss);
        hwm = Math.max(hwm, memory.hwm);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      const sorted = [...samples].sort((a, b) => a - b);
      return { samples: samples.length, median: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted[sorted.length - 1] ?? 0, peak: Math.max(hwm, sorted[sorted.length - 1] ?? 0) };
    },
  };
}

/** Starts a phase's own peak: writing 5 to clear_refs resets VmHWM to the current RSS. */
async function resetPeak(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}

async function idleFor(pid: number, millis: number) {
  await resetPeak(pid);
  const s = sampler(pid);
  await new Promise((r) => setTimeout(r, millis));
  return s.stop();
}

function waitForLine(child: ChildProcess, pattern: RegExp, log: { text: string }, timeoutMs: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`never saw ${pattern} within ${timeoutMs} ms:\n${log.text.slice(-3000)}`)), timeoutMs);
    const check = () => {
      if (pattern.test(log.text)) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        child.stderr?.off('data', check);
        resolvePromise();
      }
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    check();
  });
}

function startLogged(args: string[], cwd: string, env: Record<string, string> = {}): { child: ChildProcess; log: { text: string } } {
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const log = { text: '' };
  child.stdout!.on('data', (c: Buffer) => (log.text += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (log.text += c.toString('utf8')));
  return { child, log };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

interface Phase extends TreePeak {
  /** The relay's own peak: the larger of its samples and VmHWM. */
  relayPeak: number;
  ms: number;
  files: number;
}

interface SizeResult {
  idle: number;
  full: Phase;
  oneChange: Phase;
  idleAfter: number;
  rssKinds: string;
  loads: string[];
}

function childLine(phase: Phase): string {
  return [...phase.childPeaks].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([name, rss]) => `${name} ${mib(rss)}`).join(', ') || 'none seen';
}

async function benchSize(size: BenchSize, bundle: string, edge: Awaited<ReturnType<typeof startTestEdge>>, processes: ChildProcess[]): Promise<SizeResult> {
  const house = await startDeployHouse(size);
  let relay: ReturnType<typeof startLogged> | null = null;
  const loads = [loadAverage()];
  try {
    console.log(`\n## ${describeSize(size, house.tree.repoBytes)}; load ${loads[0]}`);
    console.log(`   ${house.setupNote}`);
    const api = apiClient(edge.url, TEST_SECRETS.operatorToken);
    const stateDir = join(house.dir, 'relay-state');
    const raw = house.relayConfigRaw(stateDir, { url: edge.url, token: TEST_SECRETS.relayToken });
    const configPath = join(house.dir, 'relay.yaml');
    await writeFile(configPath, toYaml({ ...raw, homeAssistant: { ...(raw.homeAssistant as object), sensor: true, notify: true } }));
    relay = startLogged([...RELAY_NODE_ARGS, bundle, 'run', '--config', configPath], house.dir, RELAY_ENV);
    processes.push(relay.child);
    const pid = relay.child.pid!;
    await waitForLine(relay.child, /edge ready/, relay.log, 60_000);
    // Let start-up settle (the backup inventory after welcome, the sensor) before calling it idle.
    await new Promise((r) => setTimeout(r, 3000));
    const idle = await idleFor(pid, IDLE_SAMPLE_MS);

    const deployPhase = async (sha: string, message: string): Promise<Phase> => {
      await resetPeak(pid);
      const own = sampler(pid);
      const tree = sampleProcessTree(pid, SAMPLE_MS);
      const started = performance.now();
      const id = await sendPush(edge.url, sha, message);
      const { deployment } = await waitForDeployment(api, id, ['succeeded', 'failed', 'rolled_back'], 900_000);
      const took = performance.now() - started;
      const [memory, treePeak] = await Promise.all([own.stop(), tree.stop()]);
      if (deployment.status !== 'succeeded') throw new Error(`deploy ${id} ended ${deployment.status}: ${deployment.reason}\n${relay!.log.text.slice(-3000)}`);
      return { ...treePeak, relayPeak: memory.peak, ms: took, files: (deployment.summary.filesChangedCount ?? (deployment.summary.filesChanged ?? []).length) as number };
    };

    const full = await deployPhase(house.initialSha, 'The whole configuration');
    await house.assertHostHoldsCommit('the first deploy');
    const change = house.tree.oneAutomationChanged(1);
    const oneChange = await deployPhase(await house.commitChange(change), change.message);
    await house.assertHostHoldsCommit('the one-change deploy');
    await new Promise((r) => setTimeout(r, 3000));
    const idleAfter = await idleFor(pid, IDLE_SAMPLE_MS);
    loads.push(loadAverage());

    if (process.env.BENCH_RELAY_LOG) await writeFile(`${process.env.BENCH_RELAY_LOG}.${size.name}`, relay.log.text);
    // What the resident memory is: the process's own (anonymous) pages, or mapped files (node's own code).
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const rssKinds = ['RssAnon', 'RssFile', 'RssShmem'].map((k) => `${k} ${mib(Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024)}`).join(', ');
    const result: SizeResult = { idle: idle.median, full, oneChange, idleAfter: idleAfter.median, rssKinds, loads };
    console.log(`   relay idle after connecting: RSS ${mib(idle.median)} (peak ${mib(idle.peak)}, ${idle.samples} samples)`);
    for (const [what, phase] of [['first deploy', full], ['one automation changed', oneChange]] as const) {
      console.log(`   ${what} (${phase.files} files, push to succeeded ${ms(phase.ms)}): process tree peak ${mib(phase.peak)} (anonymous pages alone ${mib(phase.anonPeak)}; median ${mib(phase.median)}, ${phase.samples} samples every ${SAMPLE_MS} ms); the relay alone ${mib(phase.relayPeak)}`);
      console.log(`     at the peak: ${phase.peakMembers} (MiB)`);
      console.log(`     each child's largest RSS: ${childLine(phase)}`);
    }
    console.log(`   relay idle after the deploys: RSS ${mib(idleAfter.median)}; ${rssKinds}`);
    console.log(`   load average during ${size.name}: ${loads.join(' → ')}`);
    const peak = Math.max(full.peak, oneChange.peak);
    console.log(`   ${size.name}: relay and its children under 150 MiB at their peak (${mib(peak)}): ${verdict(peak < TREE_GOAL)}`);
    console.log(`   ${size.name}: relay idle under 80 MB (${mib(idle.median)}): ${verdict(idle.median < 80 * MB)}`);
    return result;
  } finally {
    if (relay) await stop(relay.child);
    await house.close();
  }
}

const scratch = await mkdtemp(join(tmpdir(), 'lanyard-bench-footprint-'));
const bundle = join(scratch, 'relay.mjs');
const building = startLogged(['--import', 'tsx', join(ROOT, 'scripts/build-relay.ts'), '--outfile', bundle], ROOT);
await new Promise((r) => building.child.once('exit', r));
if (building.child.exitCode !== 0) throw new Error(`building the relay failed:\n${building.log.text}`);

const edge = await startTestEdge(scratch);
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
const processes: ChildProcess[] = [];
const results: Partial<Record<BenchSizeName, SizeResult>> = {};
let floorIdle = 0;
try {
  // Baseline: node holding one WebSocket open, nothing else.
  await new Promise<void>((r) => (wss.address() ? r() : wss.once('listening', () => r())));
  const wsPort = (wss.address() as { port: number }).port;
  // The floor runs with the same settings as the relay, so the ratio is the relay's own cost.
  const floor = startLogged([...RELAY_NODE_ARGS, '-e', `const WebSocket = require('ws'); const ws = new WebSocket('ws://127.0.0.1:${wsPort}'); ws.on('open', () => console.log('open')); setInterval(() => ws.ping(), 30000);`], ROOT, RELAY_ENV);
  processes.push(floor.child);
  await waitForLine(floor.child, /open/, floor.log, 30_000);
  await new Promise((r) => setTimeout(r, 2000));
  floorIdle = (await idleFor(floor.child.pid!, IDLE_SAMPLE_MS)).median;
  await stop(floor.child);
  console.log(`relay footprint on real houses: bundle run by ${process.version} with ${[...Object.entries(RELAY_ENV).map(([k, v]) => `${k}=${v}`), ...RELAY_NODE_ARGS].join(' ') || 'no extra settings'}`);
  console.log(`baseline, node holding one WebSocket: idle RSS ${mib(floorIdle)}`);
  for (const size of benchSizes()) results[size.name] = await benchSize(size, bundle, edge, processes);
} finally {
  for (const child of processes) await stop(child);
  wss.close();
  await edge.stop();
  await rm(scratch, { recursive: true, force: true });
}

const per = (f: (r: SizeResult) => number): PerSize<number> => Object.fromEntries(Object.entries(results).map(([name, r]) => [name, f(r!)]));
console.log('\nscaling (large/medium):');
console.log(scalingLine('idle relay', per((r) => r.idle), mib));
console.log(scalingLine('first deploy: process tree peak', per((r) => r.full.peak), mib));
console.log(scalingLine('first deploy: tree anonymous pages', per((r) => r.full.anonPeak), mib));
console.log(scalingLine('first deploy: the relay alone', per((r) => r.full.relayPeak), mib));
console.log(scalingLine('one change: process tree peak', per((r) => r.oneChange.peak), mib));
console.log(scalingLine('one change: the relay alone', per((r) => r.oneChange.relayPeak), mib));
console.log(scalingLine('idle after the deploys', per((r) => r.idleAfter), mib));
console.log(`(relay idle vs the baseline: ${Object.entries(results).map(([name, r]) => `${name} ${ratio(r!.idle, floorIdle)}`).join(', ')})`);
