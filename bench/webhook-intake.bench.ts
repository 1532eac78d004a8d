// Webhook intake at the edge (issue 8, part 1): signed pushes, a small one and a ~1 MB one of many
// commits, posted to the Worker under `wrangler dev` (workerd) on 127.0.0.1, each verified, routed
// and durably queued in its target's Durable Object before the answer. Baseline: GET /healthz, a
// route that only answers 200 `{"ok":true}`, on the same runtime in the same run.
//
// Reports per kind: median and p99 latency (sequential, interleaved rounds), requests per second
// over a bounded burst, and CPU per request: user+system time of the workerd process running the
// Worker (with its Durable Objects and local D1, so an upper bound of what Cloudflare would bill the
// Worker) over the burst, divided by its requests, also less the baseline's. wrangler's proxy
// workerd is reported apart: production has no such hop.
//
// Where the time goes shows in the rows. A push with a wrong signature does no Durable Object work,
// only the HMAC and the ledger row written after the answer: locally D1 is SQLite in the same
// workerd process, so that write holds up the answer's bytes as a remote D1 would not. A push adds
// the Durable Object's durable enqueue, the 202's promise (BENCH_STATE_DIR=/dev/shm shows the part
// that is this disk's fsync). The large push adds the per-byte work printed below the table.
//
//   node --import tsx bench/webhook-intake.bench.ts
//   BENCH_REQUESTS=300 (latency rounds)  BENCH_BURST=500  BENCH_CONCURRENCY=8  BENCH_LARGE_BYTES=1000000
//   BENCH_STATE_DIR=/dev/shm   keep the edge's SQLite files (Durable Objects, D1) in memory: shows
//                              what the fsync of each durable commit costs on this machine's disk
import { sign } from '@octokit/webhooks-methods';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalEdge } from '../demo/local-edge.ts';
import { fakeSha, manyCommitsPushPayload, pushPayload } from '../test/support/github-payloads.ts';
import { freePort } from '../test/support/ports.ts';
import { boundedBurst, cpuSettled } from './support/edge-burst.ts';
import { cpuMs, findEdgeProcesses } from './support/edge-processes.ts';
import { median, ms, percentile, ratio, verdict } from './support/stats.ts';

const ROUNDS = Number(process.env.BENCH_REQUESTS ?? 300);
const BURST = Number(process.env.BENCH_BURST ?? 500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const LARGE_BYTES = Number(process.env.BENCH_LARGE_BYTES ?? 1_000_000);
const SECRET = 'bench-webhook-secret';
const REPO = 'octo-home/ha-config';
/** Distinct large bodies to cycle through, each sent with its own `pushed_at` and delivery id: keeps memory small. */
const LARGE_VARIANTS = 8;
const STATE_DIR = process.env.BENCH_STATE_DIR ?? tmpdir();

const CPU_GOAL_MS = 2;
const LATENCY_GOAL = 1.5;

interface Prepared {
  url: string;
  init: RequestInit;
  expect: number;
}

type Kind = 'baseline' | 'refused' | 'small' | 'large';
const LABELS: Record<Kind, string> = {
  baseline: 'GET /healthz (baseline)',
  refused: 'small push, wrong signature (401)',
  small: 'small push',
  large: 'large push',
};

const dir = await mkdtemp(join(STATE_DIR, 'lanyard-bench-intake-'));
const persistDir = join(dir, 'state');
const port = await freePort();
const edge = await startLocalEdge({
  port,
  persistDir,
  logFile: join(dir, 'edge.log'),
  vars: {
    TARGETS: JSON.stringify([{ name: 'home', repo: REPO, relayTokenSecret: 'RELAY_TOKEN_HOME' }]),
    WEBHOOK_SECRET: SECRET,
    RELAY_TOKEN_HOME: 'bench-relay-token-0123456789',
  },
});

function pushInit(body: string, signature: string): RequestInit {
  return {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'User-Agent': 'GitHub-Hookshot/7d3c5e1',
      'X-GitHub-Event': 'push',
      'X-GitHub-Delivery': crypto.randomUUID(),
      'X-GitHub-Hook-ID': '109948940',
      'X-Hub-Signature-256': signature,
    },
    body,
  };
}

let sequence = 0;
async function smallPush(): Promise<Prepared> {
  sequence += 1;
  const body = JSON.stringify(pushPayload({ repo: REPO, after: fakeSha(`small-${sequence}`), message: `Small change ${sequence}` }));
  return { url: `${edge.url}/webhooks/github`, init: pushInit(body, await sign(SECRET, body)), expect: 202 };
}

const largeBodies = Array.from({ length: LARGE_VARIANTS }, (_, i) =>
  JSON.stringify(manyCommitsPushPayload(LARGE_BYTES, { repo: REPO, after: fakeSha(`large-${i}`), message: `Large push ${i}`, pushedAt: 0 })),
);
const largeCommits = (JSON.parse(largeBodies[0]!) as { commits: unknown[] }).commits.length;
let largeIndex = 0;
/** The edge answers a body it has seen before as a replay (200 duplicate), so each push is a body of its own, as GitHub's are. */
async function largePush(): Promise<Prepared> {
  largeIndex += 1;
  const body = largeBodies[largeIndex % LARGE_VARIANTS]!.replace('"pushed_at":0', `"pushed_at":${1_800_000_000 + largeIndex}`);
  return { url: `${edge.url}/webhooks/github`, init: pushInit(body, await sign(SECRET, body)), expect: 202 };
}

/** Refused before anything is parsed: what is left is reading the body, one HMAC and the ledger row, which shows the ledger's share. */
async function refusedPush(): Promise<Prepared> {
  const body = JSON.stringify(pushPayload({ repo: REPO, after: fakeSha(`refused-${sequence}`) }));
  return { url: `${edge.url}/webhooks/github`, init: pushInit(body, await sign('not-the-webhook-secret', body)), expect: 401 };
}

function baseline(): Prepared {
  return { url: `${edge.url}/healthz`, init: { method: 'GET' }, expect: 200 };
}

const prepare: Record<Kind, () => Prepared | Promise<Prepared>> = { baseline, refused: refusedPush, small: smallPush, large: largePush };

/**
 * What no intake can skip on the large body, timed here in Node (V8 and an HMAC in C, as in workerd):
 * the HMAC over every byte, decoding it, parsing the JSON. Says how much of the large push's CPU is
 * the size of the payload rather than Lanyard.
 */
async function perByteWork(body: string): Promise<{ hmac: number; decode: number; parse: number }> {
  const bytes = new TextEncoder().encode(body);
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const each = async (work: () => unknown) => {
    for (let i = 0; i < 5; i += 1) await work();
    const rounds = 30;
    const started = performance.now();
    for (let i = 0; i < rounds; i += 1) await work();
    return (performance.now() - started) / rounds;
  };
  return {
    hmac: await each(() => crypto.subtle.sign('HMAC', key, bytes)),
    decode: await each(() => new TextDecoder().decode(bytes)),
    parse: await each(() => JSON.parse(body)),
  };
}

async function send(p: Prepared): Promise<void> {
  const response = await fetch(p.url, p.init);
  const text = await response.text();
  if (response.status !== p.expect) throw new Error(`${p.url} answered ${response.status}, expected ${p.expect}: ${text.slice(0, 300)}`);
}

async function timed(p: Prepared): Promise<number> {
  const started = performance.now();
  await send(p);
  return performance.now() - started;
}

try {
  const procs = findEdgeProcesses(persistDir, port);
  const kinds: Kind[] = ['baseline', 'refused', 'small', 'large'];
  console.log(
    `wrangler dev (workerd) on 127.0.0.1, one target, state in ${STATE_DIR}; small push ${(await smallPush()).init.body!.toString().length} bytes, ` +
      `large push ${largeBodies[0]!.length} bytes (${largeCommits} commits)`,
  );

  // Warm-up: the isolate, the Durable Object and D1 are created on first use.
  for (let i = 0; i < 20; i += 1) for (const kind of kinds) await send(await prepare[kind]());

  // Latency: sequential rounds, the order rotated each round so none always goes first.
  const latencies: Record<Kind, number[]> = { baseline: [], refused: [], small: [], large: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    for (let k = 0; k < kinds.length; k += 1) {
      const kind = kinds[(round + k) % kinds.length]!;
      latencies[kind].push(await timed(await prepare[kind]()));
    }
  }

  // Burst and CPU: BURST requests at CONCURRENCY in flight, CPU read before and after (once the
  // ledger rows written after the answers are in, so that work is counted too).
  const burst: Record<Kind, { rps: number; runtimeCpu: number; proxyCpu: number | null }> = {} as never;
  for (const kind of kinds) {
    // Large pushes are made as they are sent (BURST distinct 1 MB bodies held at once would be
    // BURST megabytes); the client's signing then counts in req/s, not in the Worker's CPU.
    const requests = kind === 'large' ? null : await Promise.all(Array.from({ length: BURST }, () => prepare[kind]()));
    await cpuSettled(() => cpuMs(procs.runtime));
    const runtimeBefore = cpuMs(procs.runtime);
    const proxyBefore = procs.proxy === null ? 0 : cpuMs(procs.proxy);
    const started = performance.now();
    await boundedBurst(BURST, CONCURRENCY, async (i) => send(requests ? requests[i]! : await prepare[kind]()));
    const elapsed = performance.now() - started;
    await cpuSettled(() => cpuMs(procs.runtime));
    burst[kind] = {
      rps: (BURST / elapsed) * 1000,
      runtimeCpu: (cpuMs(procs.runtime) - runtimeBefore) / BURST,
      proxyCpu: procs.proxy === null ? null : (cpuMs(procs.proxy) - proxyBefore) / BURST,
    };
  }

  console.log(`latency: ${ROUNDS} sequential requests each; burst: ${BURST} requests at ${CONCURRENCY} in flight`);
  console.log('');
  console.log('| request | median | p99 | median vs baseline | burst req/s | CPU/request (Worker runtime) | less baseline | proxy CPU/request |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const base = { median: median(latencies.baseline), cpu: burst.baseline.runtimeCpu };
  for (const kind of kinds) {
    const b = burst[kind];
    console.log(
      `| ${LABELS[kind]} | ${ms(median(latencies[kind]))} | ${ms(percentile(latencies[kind], 99))} | ` +
        `${ratio(median(latencies[kind]), base.median)} | ${b.rps.toFixed(0)} | ${b.runtimeCpu.toFixed(2)} ms | ` +
        `${kind === 'baseline' ? '-' : `${(b.runtimeCpu - base.cpu).toFixed(2)} ms`} | ${b.proxyCpu === null ? '-' : `${b.proxyCpu.toFixed(2)} ms`} |`,
    );
  }
  const work = await perByteWork(largeBodies[0]!);
  console.log('');
  console.log(
    `per-byte work on the large body alone (Node, this machine): HMAC ${work.hmac.toFixed(2)} ms + UTF-8 decode ${work.decode.toFixed(2)} ms + JSON.parse ${work.parse.toFixed(2)} ms = ${(work.hmac + work.decode + work.parse).toFixed(2)} ms`,
  );
  console.log('');
  for (const kind of ['small', 'large'] as const) {
    const extraCpu = burst[kind].runtimeCpu - base.cpu;
    console.log(`${LABELS[kind]}: intake CPU ${extraCpu.toFixed(2)} ms over the baseline (goal < ${CPU_GOAL_MS} ms): ${verdict(extraCpu < CPU_GOAL_MS)}`);
    const latencyRatio = median(latencies[kind]) / base.median;
    console.log(`${LABELS[kind]}: median latency ${ratio(median(latencies[kind]), base.median)} the baseline's (goal <= ${LATENCY_GOAL}x): ${verdict(latencyRatio <= LATENCY_GOAL)}`);
  }
} finally {
  await edge.stop();
  await rm(dir, { recursive: true, force: true });
}
