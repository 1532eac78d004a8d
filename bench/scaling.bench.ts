// Scaling (issue 8, part 6): how intake and the hub behave as targets grow. For N = 1, 10 and 100
// targets (each its own repository, a fresh `wrangler dev` edge each time, on 127.0.0.1), 1,000
// signed pushes spread evenly over the targets at a bounded concurrency, with no relay connected:
// time per delivery at each N, and the 100-target run against the 1-target one in the same run.
//
// Goal: flat, within 1.25x. Every delivery does the same work whatever N is (verify, parse, route,
// one Durable Object enqueue); only the routing's filter over the configured targets grows with N,
// and it is microseconds. 1.25x leaves room for this shared 2-core machine's noise between runs a
// few seconds apart, while a linear cost (parsing TARGETS per request, scans of all targets or of
// a growing queue) would show as a multiple.
//
// Also: 50 sequential deliveries to one target before the burst and 50 after it (a hub whose table
// grew by 1,000 superseded rows must not be slower; sequential, so the burst's backlog of ledger
// writes does not colour it), the queue depth of a target after its deliveries (the
// latest commit wins: one queued), and the time of GET /api/targets (one status read per target,
// so linear in N by design) and of one target's status.
//
//   node --import tsx bench/scaling.bench.ts
//   BENCH_TARGETS=1,10,100  BENCH_DELIVERIES=1000  BENCH_CONCURRENCY=8  BENCH_READS=20
//   BENCH_STATE_DIR=/dev/shm   keep the edge's SQLite files in memory: no fsync per commit
import { sign } from '@octokit/webhooks-methods';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalEdge } from '../demo/local-edge.ts';
import { fakeSha, pushPayload } from '../test/support/github-payloads.ts';
import { freePort } from '../test/support/ports.ts';
import { boundedBurst } from './support/edge-burst.ts';
import { median, ms, percentile, ratio, verdict } from './support/stats.ts';

const TARGET_COUNTS = (process.env.BENCH_TARGETS ?? '1,10,100').split(',').map(Number);
const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const READS = Number(process.env.BENCH_READS ?? 20);
const STATE_DIR = process.env.BENCH_STATE_DIR ?? tmpdir();
const SEQUENTIAL = 50;
const FLAT_GOAL = 1.25;
const SECRET = 'bench-webhook-secret';
const VIEWER_TOKEN = 'bench-viewer-token-0123456789';

interface RunFigures {
  targets: number;
  perDeliveryMs: number;
  coldMs: number;
  medianMs: number;
  p99Ms: number;
  sequentialBeforeMs: number;
  sequentialAfterMs: number;
  maxQueueDepth: number;
  latestQueued: boolean;
  listTargetsMs: number;
  statusMs: number;
}

const repoOf = (i: number) => `octo-home/config-${i}`;
const targetOf = (i: number) => `house-${i}`;

async function run(targetCount: number): Promise<RunFigures> {
  const dir = await mkdtemp(join(STATE_DIR, 'lanyard-bench-scaling-'));
  const edge = await startLocalEdge({
    port: await freePort(),
    persistDir: join(dir, 'state'),
    logFile: join(dir, 'edge.log'),
    vars: {
      TARGETS: JSON.stringify(Array.from({ length: targetCount }, (_, i) => ({ name: targetOf(i), repo: repoOf(i), relayTokenSecret: 'RELAY_TOKEN' }))),
      WEBHOOK_SECRET: SECRET,
      RELAY_TOKEN: 'bench-relay-token-0123456789',
      API_TOKENS: JSON.stringify([{ name: 'bench', role: 'viewer', token: VIEWER_TOKEN }]),
    },
  });
  const api = async (path: string) => {
    const response = await fetch(`${edge.url}/api${path}`, { headers: { Authorization: `Bearer ${VIEWER_TOKEN}` } });
    if (!response.ok) throw new Error(`GET /api${path} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as Record<string, any>;
  };
  try {
    // Delivery i goes to target i mod N: each target gets its share in the order sent.
    const deliveries = await Promise.all(
      Array.from({ length: DELIVERIES }, async (_, i) => {
        const target = i % targetCount;
        const after = fakeSha(`scaling-${targetCount}-${i}`);
        const body = JSON.stringify(pushPayload({ repo: repoOf(target), after, message: `Change ${i}` }));
        const init: RequestInit = {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'X-GitHub-Event': 'push',
            'X-GitHub-Delivery': crypto.randomUUID(),
            'X-Hub-Signature-256': await sign(SECRET, body),
          },
          body,
        };
        return { target, after, init };
      }),
    );
    // Warm-up on a repository no target deploys (ignored, nothing queued): isolate and D1 ready.
    for (let i = 0; i < 20; i += 1) {
      const body = JSON.stringify(pushPayload({ repo: 'octo-home/not-configured', after: fakeSha(`warm-${i}`) }));
      const response = await fetch(`${edge.url}/webhooks/github`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': crypto.randomUUID(), 'X-Hub-Signature-256': await sign(SECRET, body) },
        body,
      });
      await response.text();
    }
    // The first delivery to each target creates its Durable Object (a SQLite database and its
    // schema): timed apart, one target at a time, so the burst below measures steady state.
    const cold: number[] = [];
    for (let t = 0; t < targetCount; t += 1) {
      const body = JSON.stringify(pushPayload({ repo: repoOf(t), after: fakeSha(`first-${t}`), message: 'First push' }));
      const sent = performance.now();
      const response = await fetch(`${edge.url}/webhooks/github`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': crypto.randomUUID(), 'X-Hub-Signature-256': await sign(SECRET, body) },
        body,
      });
      await response.text();
      cold.push(performance.now() - sent);
      if (response.status !== 202) throw new Error(`first delivery to target ${t} answered ${response.status}`);
    }

    let sequence = 0;
    const sequential = async (): Promise<number[]> => {
      const times: number[] = [];
      for (let i = 0; i < SEQUENTIAL; i += 1) {
        sequence += 1;
        const body = JSON.stringify(pushPayload({ repo: repoOf(0), after: fakeSha(`sequential-${sequence}`), message: `Sequential ${sequence}` }));
        const init = {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': crypto.randomUUID(), 'X-Hub-Signature-256': await sign(SECRET, body) },
          body,
        };
        const sent = performance.now();
        const response = await fetch(`${edge.url}/webhooks/github`, init);
        await response.text();
        times.push(performance.now() - sent);
        if (response.status !== 202) throw new Error(`sequential delivery answered ${response.status}`);
      }
      return times;
    };
    const sequentialBefore = await sequential();

    const latencies: number[] = new Array(DELIVERIES);
    const started = performance.now();
    await boundedBurst(DELIVERIES, CONCURRENCY, async (i) => {
      const sent = performance.now();
      const response = await fetch(`${edge.url}/webhooks/github`, deliveries[i]!.init);
      const text = await response.text();
      latencies[i] = performance.now() - sent;
      if (response.status !== 202) throw new Error(`delivery ${i} answered ${response.status}: ${text.slice(0, 300)}`);
    });
    const elapsed = performance.now() - started;
    const sequentialAfter = await sequential();

    // With no relay, every target keeps only its newest commit queued. Concurrent deliveries to
    // one target may land in any order, so "newest" here is the last to reach the hub: one of the
    // last CONCURRENCY sent to that target.
    const { targets } = await api('/targets');
    let maxQueueDepth = 0;
    let latestQueued = true;
    for (const t of targets as { name: string; status: { queued: { sha: string }[] } }[]) {
      maxQueueDepth = Math.max(maxQueueDepth, t.status.queued.length);
      const index = Number(t.name.slice('house-'.length));
      const recent = deliveries.filter((d) => d.target === index).slice(-CONCURRENCY).map((d) => d.after);
      // Target 0 also got the sequential deliveries after the burst: its newest is the last of those.
      if (index === 0) recent.push(fakeSha(`sequential-${sequence}`));
      if (t.status.queued.length !== 1 || !recent.includes(t.status.queued[0]!.sha)) latestQueued = false;
    }

    const listTimes: number[] = [];
    const statusTimes: number[] = [];
    for (let i = 0; i < READS; i += 1) {
      let t0 = performance.now();
      await api('/targets');
      listTimes.push(performance.now() - t0);
      t0 = performance.now();
      await api(`/deployments/${targetOf(i % targetCount)}/status`);
      statusTimes.push(performance.now() - t0);
    }
    return {
      targets: targetCount,
      perDeliveryMs: elapsed / DELIVERIES,
      coldMs: median(cold),
      medianMs: median(latencies),
      p99Ms: percentile(latencies, 99),
      sequentialBeforeMs: median(sequentialBefore),
      sequentialAfterMs: median(sequentialAfter),
      maxQueueDepth,
      latestQueued,
      listTargetsMs: median(listTimes),
      statusMs: median(statusTimes),
    };
  } finally {
    await edge.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const results: RunFigures[] = [];
for (const n of TARGET_COUNTS) {
  results.push(await run(n));
  console.error(`(${n} targets done)`);
}

console.log(`${DELIVERIES} signed pushes per run at ${CONCURRENCY} in flight, no relay connected; wrangler dev (workerd) on 127.0.0.1, a fresh edge per run, state in ${STATE_DIR}`);
console.log('');
console.log('| targets | time per delivery (wall / deliveries) | median latency | p99 | one target, sequential: before → after the burst (median) | first delivery to a target (cold) | queue depth per target | GET /api/targets | GET …/status |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  console.log(
    `| ${r.targets} | ${ms(r.perDeliveryMs)} | ${ms(r.medianMs)} | ${ms(r.p99Ms)} | ${ms(r.sequentialBeforeMs)} → ${ms(r.sequentialAfterMs)} | ${ms(r.coldMs)} | ` +
      `${r.maxQueueDepth}${r.latestQueued ? '' : ' (NOT the newest commit)'} | ${ms(r.listTargetsMs)} | ${ms(r.statusMs)} |`,
  );
}
console.log('');
const first = results[0]!;
const last = results[results.length - 1]!;
if (results.length > 1) {
  const flat = last.perDeliveryMs / first.perDeliveryMs;
  console.log(`time per delivery, ${last.targets} targets against ${first.targets}: ${ratio(last.perDeliveryMs, first.perDeliveryMs)} (goal <= ${FLAT_GOAL}x): ${verdict(flat <= FLAT_GOAL)}`);
  console.log(`GET /api/targets, ${last.targets} targets against ${first.targets}: ${ratio(last.listTargetsMs, first.listTargetsMs)} (one status read per target: ${ms(last.listTargetsMs / last.targets)} per target at ${last.targets})`);
}
for (const r of results) {
  const growth = r.sequentialAfterMs / r.sequentialBeforeMs;
  console.log(
    `${r.targets} target(s): a delivery after the burst against one before it: ${ratio(r.sequentialAfterMs, r.sequentialBeforeMs)} (goal <= ${FLAT_GOAL}x): ${verdict(growth <= FLAT_GOAL)}`,
  );
}
const bounded = results.every((r) => r.maxQueueDepth <= 1 && r.latestQueued);
console.log(`queue bounded (one queued deployment per target, the newest commit): ${verdict(bounded)}`);
