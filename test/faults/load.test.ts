// Faults, class "load" (issue 9): 1,000 signed push deliveries in one burst, 10% of them
// redeliveries (same X-GitHub-Delivery, same body, as GitHub's "Redeliver" sends), across 10
// targets, to the edge under wrangler dev on 127.0.0.1, while a relay per target takes the jobs it
// is given over the real protocol (shared/protocol.ts): hello, ack, progress, result.
//
// What must hold: every delivery answered once as new and otherwise as a duplicate of the same
// deployment; every request in the delivery ledger exactly once, with that verdict; one deployment
// per delivery in the hub; no relay ever given a second job while it holds one; no relay ever sent
// back to an older commit once a newer one was queued; and at the end each target has deployed the
// last commit pushed to its branch, which is also its branch head — even though old deliveries were
// redelivered after it.
//
// The pushes of one target go out in branch order, each after the previous one was answered (the
// hub takes arrival order as push order); redeliveries go out meanwhile from other clients, some
// racing their original, and the last few after every push was answered, as someone pressing
// "Redeliver" on old deliveries in GitHub's settings would send them.
//
// Already covered elsewhere, so not repeated: 25 concurrent deliveries and dedup of a sequential
// redelivery inside workerd (test/worker/webhooks.test.ts, test/worker/queue.test.ts).
import { sign } from '@octokit/webhooks-methods';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startLocalEdge, type LocalEdge } from '../../demo/local-edge.ts';
import { DeploymentSummary } from '../../shared/deployment.ts';
import { HubMessage, PROTOCOL_VERSION, type RelayMessage } from '../../shared/protocol.ts';
import { fakeSha, pushPayload, repositoryDispatchPayload } from '../support/github-payloads.ts';
import { freePort, waitFor } from '../support/ports.ts';

const TARGETS = 10;
const PUSHES_PER_TARGET = 90;
/** 10% of the 1,000 requests. */
const REDELIVERIES = 100;
/** Of those, sent after every push was answered, each of a push from the older half of its branch. */
const LATE_REDELIVERIES = 10;
/** One client per target sending its pushes in order, the rest redelivering: 16 requests in flight at most. */
const REDELIVERY_CLIENTS = 6;

const SECRET = 'load-webhook-secret';
const RELAY_TOKEN = 'load-relay-token-0123456789';
const VIEWER_TOKEN = 'load-viewer-token-0123456789';

const DISPATCH_REPO = 'octo-load/dispatch-config';

const targetName = (t: number) => `house-${t}`;
const repoOf = (t: number) => `octo-load/config-${t}`;
const commitOf = (t: number, k: number) => fakeSha(`load-${t}-${k}`);

interface Delivery {
  id: string;
  target: number;
  /** Position on the branch: push k moves it from commit k-1 to commit k. */
  k: number;
  body: string;
  signature: string;
}

interface Answer {
  status: number;
  verdict: string;
  deploymentId: string | null;
}

/** A relay of one target that speaks the real protocol and notes what it was given. */
interface ProtocolRelay {
  target: number;
  /** Commits of the jobs in the order they arrived (a re-sent attempt is not counted twice). */
  jobShas: string[];
  /** Jobs that arrived while another one was still held: must stay empty. */
  overlaps: string[];
  errors: string[];
  close(): void;
}

let dir: string;
let edge: LocalEdge;
const relays: ProtocolRelay[] = [];
const deliveries: Delivery[] = [];
const answers = new Map<string, Answer[]>();
const sentTimes = new Map<string, number>();

async function connectRelay(target: number): Promise<ProtocolRelay> {
  const socket = new WebSocket(`${edge.url.replace('http', 'ws')}/relay/connect?target=${targetName(target)}`, {
    headers: { Authorization: `Bearer ${RELAY_TOKEN}` },
  });
  const relay: ProtocolRelay = { target, jobShas: [], overlaps: [], errors: [], close: () => socket.close(1000, 'test done') };
  const held = new Set<string>();
  const seen = new Set<string>();
  const send = (message: RelayMessage) => socket.send(JSON.stringify(message));
  const welcomed = new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('message', (data) => {
      const parsed = HubMessage.safeParse(JSON.parse(String(data)));
      if (!parsed.success) return relay.errors.push(`unparseable hub message: ${String(data)}`);
      const message = parsed.data;
      if (message.type === 'welcome') resolve();
      if (message.type === 'error') relay.errors.push(`${message.code}: ${message.message}`);
      if (message.type === 'cancel') held.delete(message.jobId);
      if (message.type !== 'job') return;
      if (held.size && !held.has(message.jobId)) relay.overlaps.push(`${message.jobId} while holding ${[...held].join(', ')}`);
      held.add(message.jobId);
      if (!seen.has(message.jobId)) relay.jobShas.push(message.sha);
      seen.add(message.jobId);
      send({ type: 'ack', jobId: message.jobId, attempt: message.attempt });
      send({ type: 'progress', jobId: message.jobId, step: 'fetch', status: 'started', message: `fetching ${message.sha.slice(0, 7)}`, at: Date.now() });
      // A short deploy, so jobs run while the burst is still arriving.
      setTimeout(() => {
        held.delete(message.jobId);
        send({ type: 'result', jobId: message.jobId, status: 'succeeded', reason: null, summary: DeploymentSummary.parse({}) });
      }, 5 + Math.floor(Math.random() * 30));
    });
    socket.once('open', () => {
      send({ type: 'hello', v: PROTOCOL_VERSION, relayId: `load-relay-${target}`, version: '0.0.0', capabilities: ['deploy', 'rollback'], inFlight: null });
    });
  });
  await welcomed;
  return relay;
}

async function deliver(d: Delivery): Promise<void> {
  sentTimes.set(d.id, (sentTimes.get(d.id) ?? 0) + 1);
  const response = await fetch(`${edge.url}/webhooks/github`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'User-Agent': 'GitHub-Hookshot/7d3c5e1',
      'X-GitHub-Event': 'push',
      'X-GitHub-Delivery': d.id,
      'X-Hub-Signature-256': d.signature,
    },
    body: d.body,
  });
  const body = (await response.json()) as { status?: string; deployments?: { deploymentId: string }[] };
  const list = answers.get(d.id) ?? [];
  list.push({ status: response.status, verdict: body.status ?? 'error', deploymentId: body.deployments?.[0]?.deploymentId ?? null });
  answers.set(d.id, list);
}

async function post(event: string, payload: unknown, deliveryId = crypto.randomUUID()): Promise<{ status: number; body: Record<string, any> }> {
  const body = JSON.stringify(payload);
  const response = await fetch(`${edge.url}/webhooks/github`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': event, 'X-GitHub-Delivery': deliveryId, 'X-Hub-Signature-256': await sign(SECRET, body) },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function api(path: string): Promise<Record<string, any>> {
  const response = await fetch(`${edge.url}/api${path}`, { headers: { Authorization: `Bearer ${VIEWER_TOKEN}` } });
  if (!response.ok) throw new Error(`GET /api${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Record<string, any>;
}

/** The whole burst: one ordered client per target and the redelivery clients, 16 in flight at most. */
async function burst(): Promise<void> {
  const started: Delivery[] = [];
  const waiting: (() => void)[] = [];
  const pushClient = async (target: number) => {
    for (const d of deliveries.filter((x) => x.target === target)) {
      started.push(d);
      for (const wake of waiting.splice(0)) wake();
      await deliver(d);
    }
  };
  const during = REDELIVERIES - LATE_REDELIVERIES;
  let next = 0;
  const redeliveryClient = async () => {
    while (next < during) {
      const j = next;
      next += 1;
      // Spread over the burst: redelivery j waits until its share of pushes has gone out.
      while (started.length < ((j + 1) * deliveries.length) / (during + 1)) await new Promise<void>((r) => waiting.push(r));
      // Any push already sent, maybe still in flight: a redelivery can race its original.
      await deliver(started[Math.floor(Math.random() * started.length)]!);
    }
  };
  await Promise.all([...Array.from({ length: TARGETS }, (_, t) => pushClient(t)), ...Array.from({ length: REDELIVERY_CLIENTS }, redeliveryClient)]);
  // After every push was answered: old deliveries redelivered, one per target.
  await Promise.all(
    Array.from({ length: LATE_REDELIVERIES }, (_, i) => {
      const target = i % TARGETS;
      const old = deliveries.filter((d) => d.target === target && d.k < PUSHES_PER_TARGET / 2);
      return deliver(old[Math.floor(Math.random() * old.length)]!);
    }),
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lanyard-load-'));
  edge = await startLocalEdge({
    port: await freePort(),
    persistDir: join(dir, 'edge-state'),
    logFile: join(dir, 'edge.log'),
    vars: {
      TARGETS: JSON.stringify([
        ...Array.from({ length: TARGETS }, (_, t) => ({ name: targetName(t), repo: repoOf(t), branch: 'main', relayTokenSecret: 'RELAY_TOKEN' })),
        // Outside the burst: a target that deploys the branch head when a dispatch says so.
        { name: 'house-dispatch', repo: DISPATCH_REPO, branch: 'main', trigger: { type: 'dispatch', eventType: 'deploy-home' }, relayTokenSecret: 'RELAY_TOKEN' },
      ]),
      WEBHOOK_SECRET: SECRET,
      RELAY_TOKEN,
      API_TOKENS: JSON.stringify([{ name: 'load', role: 'viewer', token: VIEWER_TOKEN }]),
    },
  });
  for (let t = 0; t < TARGETS; t += 1) {
    for (let k = 1; k <= PUSHES_PER_TARGET; k += 1) {
      const body = JSON.stringify(pushPayload({ repo: repoOf(t), before: commitOf(t, k - 1), after: commitOf(t, k), message: `Change ${k} of ${targetName(t)}` }));
      deliveries.push({ id: crypto.randomUUID(), target: t, k, body, signature: await sign(SECRET, body) });
    }
  }
  for (let t = 0; t < TARGETS; t += 1) relays.push(await connectRelay(t));
  await burst();
  // The ledger rows are written after the answers; the relays finish the last jobs.
  await waitFor('every request in the ledger', async () => {
    let rows = 0;
    for (let t = 0; t < TARGETS; t += 1) rows += (await api(`/deliveries?repo=${repoOf(t)}&limit=200`)).deliveries.length;
    return rows >= 1000;
  }, 60_000, 250);
  await waitFor('every target idle', async () => {
    const { targets } = await api('/targets');
    return targets.every((t: any) => t.status.current === null && t.status.queued.length === 0);
  }, 60_000, 250);
}, 240_000);

afterAll(async () => {
  for (const r of relays) r.close();
  await edge?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a burst of 1,000 deliveries with 10% redeliveries across 10 targets', () => {
  it('sent 1,000 requests: 900 pushes and 100 redeliveries', () => {
    expect([...sentTimes.values()].reduce((a, b) => a + b, 0)).toBe(PUSHES_PER_TARGET * TARGETS + REDELIVERIES);
    expect([...sentTimes.values()].filter((n) => n > 1).length).toBeGreaterThan(0);
  });

  it('answers each delivery once as queued and every redelivery as a duplicate of the same deployment', () => {
    const wrong: string[] = [];
    for (const d of deliveries) {
      const list = answers.get(d.id) ?? [];
      const queued = list.filter((a) => a.status === 202 && a.verdict === 'enqueued');
      const duplicates = list.filter((a) => a.status === 200 && a.verdict === 'duplicate');
      const ids = new Set(list.map((a) => a.deploymentId));
      if (list.length !== sentTimes.get(d.id) || queued.length !== 1 || duplicates.length !== list.length - 1 || ids.size !== 1 || ids.has(null)) {
        wrong.push(`${d.id}: ${JSON.stringify(list)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('has every request in the ledger exactly once, with the verdict it was answered', async () => {
    const wrong: string[] = [];
    let total = 0;
    for (let t = 0; t < TARGETS; t += 1) {
      const { deliveries: rows } = await api(`/deliveries?repo=${repoOf(t)}&limit=200`);
      total += rows.length;
      // A page of 200 holds a target's 90 pushes and its redeliveries: nothing was cut off.
      expect(rows.length).toBeLessThan(200);
      for (const d of deliveries.filter((x) => x.target === t)) {
        const mine = rows.filter((r: any) => r.deliveryId === d.id);
        const answered = answers.get(d.id) ?? [];
        const verdicts = mine.map((r: any) => r.verdict).sort();
        const expected = answered.map((a) => a.verdict).sort();
        if (mine.length !== sentTimes.get(d.id) || JSON.stringify(verdicts) !== JSON.stringify(expected) || !mine.every((r: any) => r.verified && r.sha === commitOf(t, d.k))) {
          wrong.push(`${d.id}: ledger ${JSON.stringify(mine.map((r: any) => [r.verdict, r.status]))}, answered ${JSON.stringify(expected)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(total).toBe(1000);
  });

  it('made exactly one deployment per delivery in each hub', async () => {
    for (let t = 0; t < TARGETS; t += 1) {
      const all: any[] = [];
      let before = '';
      for (;;) {
        const { deployments } = await api(`/deployments/${targetName(t)}/history?limit=200${before ? `&before=${before}` : ''}`);
        all.push(...deployments);
        if (deployments.length < 200) break;
        before = deployments[deployments.length - 1].id;
      }
      const byDelivery = new Map<string, number>();
      for (const d of all) byDelivery.set(d.deliveryId, (byDelivery.get(d.deliveryId) ?? 0) + 1);
      const mine = deliveries.filter((x) => x.target === t);
      expect(all).toHaveLength(mine.length);
      expect(mine.filter((d) => byDelivery.get(d.id) !== 1)).toEqual([]);
      // Each finished or was skipped for a newer commit; none is left waiting or half-done.
      expect(all.filter((d) => !['succeeded', 'superseded'].includes(d.status))).toEqual([]);
    }
  });

  it('never gave a relay a second job while it held one, nor an older commit after a newer one', () => {
    for (const relay of relays) {
      expect(relay.overlaps, `target ${targetName(relay.target)}`).toEqual([]);
      expect(relay.errors, `target ${targetName(relay.target)}`).toEqual([]);
      const positions = relay.jobShas.map((sha) => deliveries.find((d) => d.target === relay.target && commitOf(relay.target, d.k) === sha)!.k);
      expect(positions.length).toBeGreaterThan(0);
      expect(positions, `target ${targetName(relay.target)} was sent commits in this branch order`).toEqual([...positions].sort((a, b) => a - b));
      expect(new Set(positions).size).toBe(positions.length);
    }
  });

  it('deployed the last commit pushed to each branch, and keeps it as the branch head despite the late redeliveries', async () => {
    const { targets } = await api('/targets');
    for (let t = 0; t < TARGETS; t += 1) {
      const { status } = targets.find((x: any) => x.name === targetName(t));
      const last = commitOf(t, PUSHES_PER_TARGET);
      expect(status.deployed?.sha, targetName(t)).toBe(last);
      expect(status.branchHead?.sha, targetName(t)).toBe(last);
      expect(relays[t]!.jobShas.at(-1)).toBe(last);
    }
  });

  it('keeps the branch head of a dispatch-triggered target when an old push is redelivered, so a dispatch deploys the newest commit', async () => {
    const sha = (k: number) => fakeSha(`dispatch-${k}`);
    const pushes = [1, 2, 3, 4, 5].map((k) => ({ id: crypto.randomUUID(), payload: pushPayload({ repo: DISPATCH_REPO, before: sha(k - 1), after: sha(k), message: `Dispatch change ${k}` }) }));
    for (const p of pushes) expect((await post('push', p.payload, p.id)).body.status).toBe('ignored');
    // GitHub's "Redeliver" on the second push, after the fifth.
    expect((await post('push', pushes[1]!.payload, pushes[1]!.id)).status).toBe(202);
    expect((await api('/deployments/house-dispatch/status')).branchHead?.sha).toBe(sha(5));
    const dispatched = await post('repository_dispatch', repositoryDispatchPayload('deploy-home', {}, DISPATCH_REPO));
    expect(dispatched.status).toBe(202);
    const { deployment } = await api(`/deployments/house-dispatch/logs?deploymentId=${dispatched.body.deployments[0].deploymentId}`);
    expect(deployment.sha).toBe(sha(5));
  });
});
