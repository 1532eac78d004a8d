// How long GitHub waits for an answer: a signed push that is verified, routed and durably queued
// in the Durable Object, against the Worker's cheapest request (GET /healthz) as the baseline, in
// the same run under `wrangler dev` on 127.0.0.1. Reports the ratio and the absolute medians.
//
//   npm run bench:webhook            (BENCH_REQUESTS=200 for more)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalEdge } from '../demo/local-edge.ts';
import { fakeSha, pushPayload } from '../test/support/github-payloads.ts';
import { freePort } from '../test/support/ports.ts';
import { webhookRequestInit } from '../test/support/webhook-delivery.ts';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100);
const dir = await mkdtemp(join(tmpdir(), 'lanyard-bench-edge-'));
const edge = await startLocalEdge({
  port: await freePort(),
  persistDir: join(dir, 'state'),
  logFile: join(dir, 'edge.log'),
  vars: {
    TARGETS: JSON.stringify([{ name: 'home', repo: 'octo-home/ha-config', relayTokenSecret: 'RELAY_TOKEN_HOME' }]),
    WEBHOOK_SECRET: 'bench-secret',
    RELAY_TOKEN_HOME: 'bench-relay-token-0123456789',
  },
});

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

try {
  const health: number[] = [];
  const pushes: number[] = [];
  for (let i = 0; i < REQUESTS; i += 1) {
    let started = performance.now();
    await (await fetch(`${edge.url}/healthz`)).text();
    health.push(performance.now() - started);
    const init = await webhookRequestInit({ event: 'push', payload: pushPayload({ after: fakeSha(`bench-${i}`) }), secret: 'bench-secret' });
    started = performance.now();
    const response = await fetch(`${edge.url}/webhooks/github`, init);
    await response.text();
    pushes.push(performance.now() - started);
    if (response.status !== 202) throw new Error(`push ${i} answered ${response.status}`);
  }
  const h = percentile(health, 50);
  const p = percentile(pushes, 50);
  console.log(`requests: ${REQUESTS} each, wrangler dev (workerd) on 127.0.0.1`);
  console.log(`GET /healthz (baseline): median ${h.toFixed(1)} ms, p95 ${percentile(health, 95).toFixed(1)} ms`);
  console.log(`signed push, verified and queued: median ${p.toFixed(1)} ms, p95 ${percentile(pushes, 95).toFixed(1)} ms`);
  console.log(`a push costs ${(p / h).toFixed(1)}x the cheapest request`);
} finally {
  await edge.stop();
  await rm(dir, { recursive: true, force: true });
}
