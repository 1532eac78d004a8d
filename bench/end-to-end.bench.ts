// End to end, on real houses (issue 15): a signed push for a one-automation change (the reload
// path), until the API says the deployment `succeeded`, on a generated Home Assistant config of
// real shape at two sizes (medium 5,000 entries / 120 MiB, large 15,000 / 400 MiB; goal on the
// large one: under 1.5 s). Everything real on 127.0.0.1: the Worker under `wrangler dev` (Durable
// Object, D1), a real relay process, the ssh transport against a real OpenSSH sshd, real git, and
// the Home Assistant stand-in answering at once. Per size, the relay first deploys the whole house
// onto a host holding only Home Assistant's state (that first deploy, push to `succeeded`, is
// reported too); then each round commits automations.yaml as the UI saves it after one edit,
// pushes it to the bare repository, sends GitHub's signed delivery and follows the status page's
// watcher socket, reading the API on every `changed` it says. Every round checks what a user would
// notice: the file on the host is the commit's, automations reloaded once, Home Assistant not restarted.
//
// Baseline: what users run today, the Git pull add-on polling every 300 s. Its median wait for a
// push to be noticed is half the interval, 150 s. That figure is a MODEL, not a measurement (waiting
// 20 × 150 s is not a benchmark); the ratio is printed against it and labelled so.
//
//   npm run bench -- end-to-end        (as root: the sshd harness logs in as a test user)
//   BENCH_SIZE=medium|large|both (both)   BENCH_ROUNDS=20   BENCH_WARMUP=1
//   BENCH_POLL_INTERVAL_S=60     a shorter polling interval for the modelled baseline
//   BENCH_TRACE=/tmp/e2e.json    every round's steps and API reads as JSON, to see where a slow one went
//   BENCH_KEEP=1                 keep the work folder (the edge's log) afterwards
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { stringify as toYaml } from 'yaml';
import { apiClient, startTestEdge, TEST_REPO, TEST_SECRETS, type ApiClient, type TestEdge } from '../test/support/house.ts';
import { sendPush } from '../test/support/push.ts';
import { startRelayProcess } from '../test/support/relay-process.ts';
import { benchSizes, describeSize, loadAverage, roundsFor, type BenchSize, type BenchSizeName } from './support/bench-sizes.ts';
import { startDeployHouse } from './support/deploy-house.ts';
import { scalingLine, type PerSize } from './support/size-report.ts';
import { median, ms, percentile, verdict } from './support/stats.ts';

const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
/** The Git pull add-on's default interval; a push waits half of it on average before it is even seen. */
const POLL_INTERVAL_MS = Number(process.env.BENCH_POLL_INTERVAL_S ?? 300) * 1000;
const MODELLED_POLLING_WAIT_MS = POLL_INTERVAL_MS / 2;
const GOAL_MS = 1500;
const FINAL = new Set(['succeeded', 'failed', 'rolled_back']);
const STEP_ORDER = ['fetch', 'plan', 'drift', 'backup', 'apply', 'check', 'activate', 'verify', 'record'];

interface Step {
  step: string;
  status: string;
  message: string;
  at: number;
  durationMs: number | null;
}

/** One read of the API while following a deployment (wall clock). */
interface Read {
  asked: number;
  answered: number;
  status: string;
}

interface Round {
  sha: string;
  deploymentId: string;
  /** Wall clock (ms since the epoch) when the signed delivery was sent. */
  sentAt: number;
  /** Signed push sent → the API first answered `succeeded`. */
  totalMs: number;
  deployment: Record<string, any>;
  steps: Step[];
  reads: Read[];
}

/**
 * Follows the hub's watcher socket (what the status page listens on): every `changed` bumps a
 * counter, so a reader knows whether something happened since it last looked. Like the page, it
 * reconnects when the socket drops: `wrangler dev` reloads the Worker (and resets the Durable
 * Object, dropping every socket) whenever a source file changes.
 */
class HubWatcher {
  private changes = 0;
  /** Waits that ended by the fallback timer rather than a `changed`. */
  fallbacks = 0;
  /** Times the socket dropped and was opened again. */
  reconnects = 0;
  private socket: WebSocket | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;

  private constructor(private readonly url: string) {}

  static async open(edgeUrl: string): Promise<HubWatcher> {
    const watcher = new HubWatcher(`${edgeUrl.replace(/^http/, 'ws')}/targets/home/watch`);
    await watcher.connect();
    return watcher;
  }

  private async connect(): Promise<void> {
    const socket = new WebSocket(this.url);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) => reject(new Error(`the watcher socket was refused: HTTP ${response.statusCode}`)));
    });
    socket.on('message', () => this.changed());
    socket.on('close', () => {
      if (this.stopped) return;
      this.reconnects += 1;
      // Whatever happened while it was down is read again at once, then followed on the new socket.
      this.changed();
      const again = () => void this.connect().catch(() => setTimeout(again, 200));
      setTimeout(again, 100);
    });
    this.socket = socket;
  }

  private changed(): void {
    this.changes += 1;
    this.wake?.();
  }

  get seen(): number {
    return this.changes;
  }

  /** Resolves at the next `changed` after `since`, or after `fallbackMs` (a missed frame must not stall a round). */
  next(since: number, fallbackMs: number): Promise<void> {
    if (this.changes !== since) return Promise.resolve();
    return new Promise((resolve) => {
      const self = this;
      const timer = setTimeout(() => {
        self.fallbacks += 1;
        done();
      }, fallbackMs);
      function done() {
        clearTimeout(timer);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }

  close(): void {
    this.stopped = true;
    this.socket?.close();
  }
}

/** Reads the deployment on every `changed` until it is final; resolves at the answer that said so. */
async function followUntilFinal(api: ApiClient, watcher: HubWatcher, id: string, timeoutMs: number): Promise<{ at: number; deployment: Record<string, any>; steps: Step[]; reads: Read[] }> {
  const deadline = performance.now() + timeoutMs;
  const reads: Read[] = [];
  for (;;) {
    const before = watcher.seen;
    const asked = Date.now();
    const answer = await api.get(`/deployments/home/logs?deploymentId=${id}`);
    const at = performance.now();
    reads.push({ asked, answered: Date.now(), status: String(answer.deployment?.status) });
    if (FINAL.has(answer.deployment?.status)) return { at, deployment: answer.deployment, steps: answer.steps, reads };
    if (at > deadline) throw new Error(`deployment ${id} not final after ${timeoutMs} ms: ${JSON.stringify(answer).slice(0, 2000)}`);
    await watcher.next(before, 250);
  }
}

interface Phases {
  /** Signed push sent → the deployment queued at the hub. */
  intake: number;
  /** Queued → the relay starts its first step (dispatch, ack, the house's sensor, the journal). */
  dispatch: number;
  /** The steps themselves, as the relay timed them. */
  steps: number;
  /** Between steps: journal writes, lanyard.yaml, the connection probe, the activation decision. */
  between: number;
  /** The last step done → the result recorded at the hub. */
  report: number;
  /** Recorded at the hub → the API answered `succeeded` to the watcher's read. */
  observe: number;
}

/** Where one run's time went, from the hub's and the relay's timestamps (one machine, one clock). */
function phasesOf(round: Round): { phases: Phases; rows: Array<{ step: string; start: number; end: number; message: string }> } {
  const t = (wall: number) => wall - round.sentAt;
  const rows = STEP_ORDER.flatMap((name) => {
    const start = round.steps.find((s) => s.step === name && s.status === 'started');
    const end = round.steps.find((s) => s.step === name && s.status === 'succeeded');
    return start && end ? [{ step: name, start: t(start.at), end: t(end.at), message: end.message }] : [];
  });
  const created = t(round.deployment.createdAt);
  const finished = t(round.deployment.finishedAt);
  const first = rows[0]!;
  const last = rows[rows.length - 1]!;
  const steps = rows.reduce((sum, r) => sum + (r.end - r.start), 0);
  return {
    phases: {
      intake: created,
      dispatch: first.start - created,
      steps,
      between: last.end - first.start - steps,
      report: finished - last.end,
      observe: round.totalMs - finished,
    },
    rows,
  };
}

function phaseLine(p: Phases): string {
  return `intake ${ms(p.intake)}, dispatch ${ms(p.dispatch)}, steps ${ms(p.steps)}, between steps ${ms(p.between)}, report ${ms(p.report)}, observe ${ms(p.observe)}`;
}

/** The timeline of one run, relative to the signed push. */
function breakdown(round: Round): string[] {
  const { phases, rows } = phasesOf(round);
  const line = (what: string, duration: number, from?: number, to?: number, note = '') =>
    `  ${what.padEnd(44)} ${ms(duration).padStart(9)}${from === undefined || to === undefined ? '' : `   (${ms(from).padStart(8)} → ${ms(to).padStart(8)})`}${note ? `  ${note.slice(0, 70)}` : ''}`;
  const first = rows[0]!;
  const last = rows[rows.length - 1]!;
  return [
    line('webhook verified and queued at the hub', phases.intake, 0, phases.intake),
    line('hub → relay: dispatch, ack, sensor, journal', phases.dispatch, phases.intake, first.start),
    ...rows.map((r) => line(`step ${r.step}`, r.end - r.start, r.start, r.end, r.message)),
    line('between steps (journal, lanyard.yaml, probe)', phases.between),
    line('after record → result recorded at the hub', phases.report, last.end, last.end + phases.report),
    line('hub recorded → the API answered succeeded', phases.observe, round.totalMs - phases.observe, round.totalMs),
    line('total', round.totalMs),
  ];
}

interface SizeResult {
  rounds: Round[];
  firstDeployMs: number;
  loads: string[];
}

/** Pushes `sha` and follows it to `succeeded`; returns the round as the API and the relay saw it. */
async function pushAndFollow(edgeUrl: string, api: ApiClient, watcher: HubWatcher, sha: string, message: string, timeoutMs: number): Promise<Round> {
  const sentAt = Date.now();
  const started = performance.now();
  const deploymentId = await sendPush(edgeUrl, sha, message);
  const final = await followUntilFinal(api, watcher, deploymentId, timeoutMs);
  return { sha, deploymentId, sentAt, totalMs: final.at - started, deployment: final.deployment, steps: final.steps, reads: final.reads };
}

async function benchSize(size: BenchSize, edge: TestEdge, watcher: HubWatcher): Promise<SizeResult> {
  const rounds = roundsFor('BENCH_ROUNDS', size, 20);
  const house = await startDeployHouse(size);
  let relay: ReturnType<typeof startRelayProcess> | null = null;
  const loads = [loadAverage()];
  try {
    console.log(`\n## ${describeSize(size, house.tree.repoBytes)}; load ${loads[0]}`);
    console.log(`   ${house.setupNote}`);
    const stateDir = join(workDir, `${size.name}-relay-state`);
    const raw = house.relayConfigRaw(stateDir, { url: edge.url, token: TEST_SECRETS.relayToken });
    const configPath = join(workDir, `${size.name}-relay.yaml`);
    // The sensor and notifications as a real relay has them (their defaults); reconnects quick.
    const { sensor: _sensor, notify: _notify, ...homeAssistant } = raw.homeAssistant as Record<string, unknown>;
    await writeFile(configPath, toYaml({ ...raw, edge: { ...(raw.edge as object), heartbeatSeconds: 5, maxBackoffSeconds: 2 }, homeAssistant }));
    relay = startRelayProcess(configPath);
    await relay.waitForLog(/edge ready/, 60_000);
    const api = apiClient(edge.url, TEST_SECRETS.operatorToken);

    // The relay's first deploy of the whole house, onto a host holding only Home Assistant's state.
    const first = await pushAndFollow(edge.url, api, watcher, house.initialSha, 'The whole configuration', 900_000);
    if (first.deployment.status !== 'succeeded') throw new Error(`the first deploy: ${first.deployment.status}: ${first.deployment.reason}\n${relay.log.slice(-3000)}`);
    await house.assertHostHoldsCommit('the first deploy');
    console.log(`   first deploy of the whole house, push to succeeded: ${ms(first.totalMs)} (${phaseLine(phasesOf(first).phases)})`);

    const measured: Round[] = [];
    let commitMs = 0;
    for (let i = 0; i < WARMUP + rounds; i += 1) {
      const committing = performance.now();
      const change = house.tree.oneAutomationChanged(i + 1);
      const sha = await house.commitChange(change);
      commitMs += performance.now() - committing;
      const reloadsBefore = house.ha.callsTo('automation', 'reload').length;
      const restartsBefore = house.ha.restarts;
      const round = await pushAndFollow(edge.url, api, watcher, sha, change.message, 120_000);
      if (round.deployment.status !== 'succeeded') throw new Error(`round ${i}: ${round.deployment.status}: ${round.deployment.reason}\n${relay.log.slice(-3000)}`);
      // What a user would notice, checked every round: the file is there, automations reloaded, no restart.
      const [onHost, committed] = await Promise.all([readFile(join(house.configRoot, 'automations.yaml')), readFile(join(house.work, 'automations.yaml'))]);
      if (!onHost.equals(committed)) throw new Error(`round ${i}: automations.yaml on the host is not the commit's`);
      if (house.ha.callsTo('automation', 'reload').length !== reloadsBefore + 1) throw new Error(`round ${i}: automations were not reloaded exactly once`);
      if (house.ha.restarts !== restartsBefore) throw new Error(`round ${i}: Home Assistant was restarted for an automations change`);
      if (i >= WARMUP) measured.push(round);
      const label = i < WARMUP ? `warm-up ${i + 1}` : `round ${i - WARMUP + 1}`;
      console.log(`   ${label.padStart(9)}: ${ms(round.totalMs).padStart(8)}  (${phaseLine(phasesOf(round).phases)})`);
    }
    await house.assertHostHoldsCommit('the last round');
    loads.push(loadAverage());
    report(size, measured, commitMs / (WARMUP + rounds), relay.log, watcher);
    console.log(`   load average during ${size.name}: ${loads.join(' → ')}`);
    return { rounds: measured, firstDeployMs: first.totalMs, loads };
  } finally {
    await relay?.kill('SIGTERM');
    await house.close();
  }
}

function report(size: BenchSize, rounds: Round[], commitMs: number, relayLog: string, watcher: HubWatcher): void {
  const totals = rounds.map((r) => r.totalMs);
  const med = median(totals);
  const medianRound = [...rounds].sort((a, b) => a.totalMs - b.totalMs)[Math.ceil(rounds.length / 2) - 1]!;
  console.log('');
  console.log(`   ${size.name}, ${rounds.length} rounds (+${WARMUP} warm-up): signed push → deployment succeeded, one automation changed (automations.yaml → automation.reload)`);
  console.log(`     median ${ms(med)}, p90 ${ms(percentile(totals, 90))}, min ${ms(Math.min(...totals))}, max ${ms(Math.max(...totals))}`);
  console.log(`     followed on the status page's watcher socket: ${watcher.fallbacks} read(s) so far woken by the 250 ms fallback, not a \`changed\`; ${watcher.reconnects} reconnect(s)`);
  const relayReconnects = (relayLog.match(/edge ready/g) ?? []).length - 1;
  if (relayReconnects > 0) console.log(`     the relay connected to the edge again ${relayReconnects} time(s) during the run (an edge reload drops it); those rounds include the reconnect`);
  console.log(`     (not counted: git commit + push to the bare repository before each delivery, ${ms(commitMs)} per round)`);
  console.log(`   where the time goes in the median run (${medianRound.deploymentId}), from the signed push:`);
  for (const line of breakdown(medianRound)) console.log(`   ${line}`);
  const slowest = [...rounds].sort((a, b) => b.totalMs - a.totalMs)[0]!;
  if (slowest !== medianRound) {
    console.log(`   the slowest run (${slowest.deploymentId}):`);
    for (const line of breakdown(slowest)) console.log(`   ${line}`);
  }
  console.log(`   step medians over all ${rounds.length} rounds:`);
  for (const name of STEP_ORDER) {
    const durations = rounds.map((r) => r.steps.find((s) => s.step === name && s.status === 'succeeded')?.durationMs).filter((v): v is number => typeof v === 'number');
    if (durations.length) console.log(`     ${name.padEnd(10)} ${ms(median(durations)).padStart(9)}`);
  }
  console.log('');
  console.log(`   ${size.name}: ratio push-to-deployed / modelled polling wait (MODELLED, not measured: the add-on polls every ${POLL_INTERVAL_MS / 1000} s): ${(med / MODELLED_POLLING_WAIT_MS).toFixed(4)}x`);
  console.log(`   ${size.name}: median under ${GOAL_MS / 1000} s — ${ms(med)}: ${verdict(med < GOAL_MS)}`);
}

const workDir = await mkdtemp(join(tmpdir(), 'lanyard-bench-e2e-'));
// Declared out here so that whatever did start is stopped, however far the set-up got.
let edge: TestEdge | null = null;
let watcher: HubWatcher | null = null;
const results: Partial<Record<BenchSizeName, SizeResult>> = {};
try {
  // The target is readable without a token so the benchmark can follow the status page's watcher
  // socket instead of hammering the API; nothing else about it differs from the tests' target.
  edge = await startTestEdge(workDir, {
    TARGETS: JSON.stringify([{ name: 'home', repo: TEST_REPO, branch: 'main', relayTokenSecret: 'RELAY_TOKEN_HOME', publicReadOnly: true }]),
  });
  watcher = await HubWatcher.open(edge.url);
  console.log('end to end on real houses: wrangler dev (workerd) + relay process + ssh transport to OpenSSH sshd + HA stand-in (answers at once), all on 127.0.0.1');
  for (const size of benchSizes()) {
    results[size.name] = await benchSize(size, edge, watcher);
  }
} finally {
  watcher?.close();
  await edge?.stop();
  if (!process.env.BENCH_KEEP) await rm(workDir, { recursive: true, force: true });
  else console.log(`kept ${workDir}`);
}

if (process.env.BENCH_TRACE) await writeFile(process.env.BENCH_TRACE, JSON.stringify(results, null, 1));
const per = (f: (r: SizeResult) => number): PerSize<number> => Object.fromEntries(Object.entries(results).map(([name, r]) => [name, f(r!)]));
const stepMedian = (r: SizeResult, name: string) => median(r.rounds.map((x) => x.steps.find((s) => s.step === name && s.status === 'succeeded')?.durationMs ?? 0));
console.log('\nscaling (large/medium):');
console.log(scalingLine('one change, push to succeeded (median)', per((r) => median(r.rounds.map((x) => x.totalMs)))));
for (const name of STEP_ORDER) console.log(scalingLine(`  step ${name}`, per((r) => stepMedian(r, name))));
console.log(scalingLine('  between steps', per((r) => median(r.rounds.map((x) => phasesOf(x).phases.between)))));
console.log(scalingLine('first deploy of the whole house, push to succeeded', per((r) => r.firstDeployMs)));
