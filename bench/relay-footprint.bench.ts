// Issue 8, part 5: the relay's resident memory, as shipped (`npm run build:relay`: one bundled
// dist/relay.mjs run by plain node, what systemd and the add-on start), connected to a real edge
// under `wrangler dev` and deploying the 5,000-file / 100 MB tree over a real sshd on 127.0.0.1.
// VmRSS is sampled from /proc/<pid>/status every 50 ms; VmHWM (the kernel's own peak) is reset
// before each phase through /proc/<pid>/clear_refs, so each phase's peak is its own.
//
// Baseline, same run: a `node -e` process that only holds a WebSocket open (with `ws`, which the
// relay uses too): the runtime's own floor. Child processes the relay starts (git, tar) are not
// the relay's memory and are not counted.
//
//   node --import tsx bench/relay-footprint.bench.ts
//   BENCH_FILES=5000 BENCH_MB=100 (the defaults)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { stringify as toYaml } from 'yaml';
import { apiClient, git, startTestEdge, TEST_SECRETS, waitForDeployment } from '../test/support/house.ts';
import { sendPush } from '../test/support/push.ts';
import { configTreeFile } from './support/config-tree.ts';
import { startDeployHouse } from './support/deploy-house.ts';
import { mib, ratio, verdict } from './support/stats.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FILES = Number(process.env.BENCH_FILES ?? 5000);
const TOTAL_BYTES = Number(process.env.BENCH_MB ?? 100) * 1024 * 1024;
const IDLE_SAMPLE_MS = Number(process.env.BENCH_IDLE_MS ?? 5000);
const MB = 1024 * 1024;
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

const scratch = await mkdtemp(join(tmpdir(), 'lanyard-bench-footprint-'));
const bundle = join(scratch, 'relay.mjs');
const building = startLogged(['--import', 'tsx', join(ROOT, 'scripts/build-relay.ts'), '--outfile', bundle], ROOT);
await new Promise((r) => building.child.once('exit', r));
if (building.child.exitCode !== 0) throw new Error(`building the relay failed:\n${building.log.text}`);

const house = await startDeployHouse({ files: FILES, totalBytes: TOTAL_BYTES });
const edge = await startTestEdge(scratch);
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
const processes: ChildProcess[] = [];
try {
  const api = apiClient(edge.url, TEST_SECRETS.operatorToken);
  // Baseline: node holding one WebSocket open, nothing else.
  await new Promise<void>((r) => (wss.address() ? r() : wss.once('listening', () => r())));
  const wsPort = (wss.address() as { port: number }).port;
  // The floor runs with the same settings as the relay, so the ratio is the relay's own cost.
  const floor = startLogged([...RELAY_NODE_ARGS, '-e', `const WebSocket = require('ws'); const ws = new WebSocket('ws://127.0.0.1:${wsPort}'); ws.on('open', () => console.log('open')); setInterval(() => ws.ping(), 30000);`], ROOT, RELAY_ENV);
  processes.push(floor.child);
  await waitForLine(floor.child, /open/, floor.log, 30_000);
  await new Promise((r) => setTimeout(r, 2000));
  const floorIdle = await idleFor(floor.child.pid!, IDLE_SAMPLE_MS);

  // The relay as shipped.
  const stateDir = join(scratch, 'relay-state');
  const raw = house.relayConfigRaw(stateDir, { url: edge.url, token: TEST_SECRETS.relayToken });
  const configPath = join(scratch, 'relay.yaml');
  await writeFile(configPath, toYaml({ ...raw, homeAssistant: { ...(raw.homeAssistant as object), sensor: true, notify: true } }));
  const relay = startLogged([...RELAY_NODE_ARGS, bundle, 'run', '--config', configPath], scratch, RELAY_ENV);
  processes.push(relay.child);
  const pid = relay.child.pid!;
  await waitForLine(relay.child, /edge ready/, relay.log, 60_000);
  // Let start-up settle (the backup inventory after welcome, the sensor) before calling it idle.
  await new Promise((r) => setTimeout(r, 3000));
  const idle = await idleFor(pid, IDLE_SAMPLE_MS);

  const deployPhase = async (sha: string, message: string) => {
    await resetPeak(pid);
    const s = sampler(pid);
    const id = await sendPush(edge.url, sha, message);
    const { deployment } = await waitForDeployment(api, id, ['succeeded', 'failed', 'rolled_back'], 600_000);
    const memory = await s.stop();
    if (deployment.status !== 'succeeded') throw new Error(`deploy ${id} ended ${deployment.status}: ${deployment.reason}\n${relay.log.text.slice(-3000)}`);
    return { ...memory, files: (deployment.summary.filesChangedCount ?? (deployment.summary.filesChanged ?? []).length) as number };
  };

  const full = await deployPhase(await git(house.work, 'rev-parse', 'HEAD'), 'The whole configuration');
  const changedPath = house.treePaths.find((p) => p.startsWith('www/floorplan/'))!;
  const nextSha = await house.commit({ [changedPath]: configTreeFile(changedPath, TOTAL_BYTES / FILES, 'footprint') }, `Redraw ${changedPath}`);
  const incremental = await deployPhase(nextSha, `Redraw ${changedPath}`);
  await new Promise((r) => setTimeout(r, 3000));
  const idleAfter = await idleFor(pid, IDLE_SAMPLE_MS);

  if (process.env.BENCH_RELAY_LOG) await writeFile(process.env.BENCH_RELAY_LOG, relay.log.text);
  // What the resident memory is: the process's own (anonymous) pages, or mapped files (node's own code).
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKinds = ['RssAnon', 'RssFile', 'RssShmem'].map((k) => `${k} ${mib(Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024)}`).join(', ');
  console.log(`tree: ${house.treePaths.length} files, ${mib(house.treeBytes)}; relay bundle ${bundle.replace(scratch, '<tmp>')} run by ${process.version} with ${[...Object.entries(RELAY_ENV).map(([k, v]) => `${k}=${v}`), ...RELAY_NODE_ARGS].join(' ') || 'no extra settings'}`);
  console.log(`baseline, node holding one WebSocket: idle RSS ${mib(floorIdle.median)} (peak ${mib(floorIdle.peak)})`);
  console.log(`relay idle after connecting: RSS ${mib(idle.median)} (peak ${mib(idle.peak)}, ${idle.samples} samples); ${ratio(idle.median, floorIdle.median)} the baseline`);
  console.log(`relay during the first full deploy (${full.files} files): peak ${mib(full.peak)} (sampled max ${mib(full.max)}, median ${mib(full.median)}, ${full.samples} samples); ${ratio(full.peak, floorIdle.median)} the baseline`);
  console.log(`relay during an incremental deploy (${incremental.files} file): peak ${mib(incremental.peak)} (median ${mib(incremental.median)})`);
  console.log(`relay idle after the deploys: RSS ${mib(idleAfter.median)} (peak ${mib(idleAfter.peak)}); ${rssKinds}`);
  const peak = Math.max(full.peak, incremental.peak);
  console.log('');
  console.log(`relay idle under 80 MB (${mib(idle.median)}): ${verdict(idle.median < 80 * MB)}`);
  console.log(`relay peak during deploys under 150 MB (${mib(peak)}): ${verdict(peak < 150 * MB)}`);
} finally {
  for (const child of processes) await stop(child);
  wss.close();
  await edge.stop();
  await house.close();
  await rm(scratch, { recursive: true, force: true });
}
