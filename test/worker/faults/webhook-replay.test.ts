// Faults, class "replay": a signed webhook body sent again by someone who saw it, and deliveries
// for commits the branch has left. In workerd with real Durable Objects, D1 and a relay speaking the
// real protocol. A replay is a captured request sent again byte for byte (its body and its
// `X-Hub-Signature-256`, which @octokit/webhooks-methods confirms is valid) under a new
// `X-GitHub-Delivery`. For each case: what the sender is answered, what the delivery ledger (and
// the status page's deliveries view) says, and what the relay is asked to deploy.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { verify } from '@octokit/webhooks-methods';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HubMessage } from '../../../shared/protocol.ts';
import { app } from '../../../worker/app.ts';
import type { Env } from '../../../worker/env.ts';
import { ZERO, fakeSha, pushPayload, repositoryDispatchPayload, workflowRunPayload } from '../../support/github-payloads.ts';
import { webhookRequestInit, type DeliveryOptions } from '../../support/webhook-delivery.ts';
import { apiCall, BASE, call, TOKENS } from '../helpers.ts';
import { connectRelay, type TestRelay } from '../relay-socket.ts';
import { signIn } from '../status-page.ts';

interface Answer {
  status: number;
  body: Record<string, any>;
}

/** A request as GitHub sent it, kept whole so it can be sent again. */
type Captured = RequestInit & { headers: Record<string, string>; body: string };

/** Sends a delivery through the Worker; returns after the ledger row (written with waitUntil) is there. */
async function send(init: Captured, bindings: Partial<Env> = {}): Promise<Answer> {
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(`${BASE}/webhooks/github`, init), { ...(env as unknown as Env), ...bindings }, ctx);
  await waitOnExecutionContext(ctx);
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function capture(options: DeliveryOptions): Promise<Captured> {
  return (await webhookRequestInit(options)) as Captured;
}

/** The same bytes and signature under another delivery id, as anyone who saw the request could send it. */
function replayed(original: Captured, deliveryId = crypto.randomUUID()): Captured {
  return { ...original, headers: { ...original.headers, 'X-GitHub-Delivery': deliveryId } };
}

async function ledgerRow(deliveryId: string): Promise<Record<string, any>> {
  const { body } = await apiCall(`/deliveries?deliveryId=${deliveryId}`, 'viewer');
  expect(body.deliveries, `ledger row of ${deliveryId}`).toHaveLength(1);
  return body.deliveries[0];
}

async function history(target: string): Promise<Record<string, any>[]> {
  return (await apiCall(`/deployments/${target}/history?limit=200`, 'viewer')).body.deployments;
}

/** The relay takes the next job and reports it done; returns the job. */
async function runNext(relay: TestRelay): Promise<Extract<HubMessage, { type: 'job' }>> {
  const job = await relay.next('job');
  if (job.type !== 'job') throw new Error('not a job');
  relay.send({ type: 'ack', jobId: job.jobId, attempt: job.attempt });
  relay.send({ type: 'result', jobId: job.jobId, status: 'succeeded', reason: null, summary: {} as never });
  await relay.next('recorded');
  return job;
}

/** A push of `before` → `after` to a repository's main branch, as GitHub would send it now. */
function push(repo: string, before: string, after: string, extra: { forced?: boolean; message?: string } = {}): Promise<Captured> {
  return capture({ event: 'push', payload: pushPayload({ repo, before, after, ...extra }) });
}

describe('a signed push sent again', () => {
  it('replayed under a new delivery id after a rollback, is a duplicate: the commit rolled back from is not deployed again', async () => {
    const relay = await connectRelay('home');
    const [a, b] = [fakeSha('replay-home-a'), fakeSha('replay-home-b')];
    expect((await send(await push('octo-home/ha-config', ZERO, a))).status).toBe(202);
    expect(await runNext(relay)).toMatchObject({ kind: 'deploy', sha: a });
    const pushB = await push('octo-home/ha-config', a, b, { message: 'Heating schedule that turned out wrong' });
    const first = await send(pushB);
    expect(first.body.status).toBe('enqueued');
    expect(await runNext(relay)).toMatchObject({ kind: 'deploy', sha: b });
    // The operator rolls back from b to a.
    expect((await apiCall('/deployments/home/rollback', 'operator', { body: {} })).status).toBe(202);
    expect(await runNext(relay)).toMatchObject({ kind: 'rollback', sha: a });
    const before = await history('home');
    const trail = (await apiCall('/deployments/home/audit', 'admin')).body.entries;

    const replay = replayed(pushB);
    expect(await verify('test-webhook-secret', replay.body, replay.headers['X-Hub-Signature-256']!)).toBe(true);
    const answer = await send(replay);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'duplicate', deployments: first.body.deployments });
    expect(answer.body.reason).toMatch(new RegExp(`^the same body as delivery ${pushB.headers['X-GitHub-Delivery']} of .*: a replay; nothing was queued$`));
    expect(await history('home')).toEqual(before);
    expect((await apiCall('/deployments/home/status', 'viewer')).body.deployed).toMatchObject({ kind: 'rollback', sha: a });
    const row = await ledgerRow(replay.headers['X-GitHub-Delivery']!);
    expect(row).toMatchObject({ verified: true, verdict: 'duplicate', status: 200, sha: b, reason: answer.body.reason });
    expect(row.bodySha256).toBe((await ledgerRow(pushB.headers['X-GitHub-Delivery']!)).bodySha256);

    // Replayed again and again, under ids of its own or the replay's: still nothing.
    expect((await send(replayed(pushB))).body.status).toBe('duplicate');
    expect((await send(replay)).body.status).toBe('duplicate');
    // GitHub's own Redeliver keeps the delivery id: the hub answers it with what it queued the first time.
    const redelivered = await send(pushB);
    expect(redelivered).toMatchObject({ status: 200, body: { status: 'duplicate', deployments: first.body.deployments } });
    expect(await history('home')).toEqual(before);
    // Nothing the replayer sent reached the audit trail either.
    expect((await apiCall('/deployments/home/audit', 'admin')).body.entries).toEqual(trail);
    await expect(relay.next('job', 300)).rejects.toThrow(/no job message/);
    relay.close();
  });

  it('a force push back to an old commit is a new push and deploys it, and so is a force push forward again and a revert', async () => {
    const relay = await connectRelay('cabin');
    const [a, b, revert] = [fakeSha('force-cabin-a'), fakeSha('force-cabin-b'), fakeSha('force-cabin-revert-of-b')];
    const onCabin = (before: string, after: string, forced = false) =>
      capture({ event: 'push', payload: pushPayload({ ref: 'refs/heads/cabin', before, after, forced }) });
    expect((await send(await onCabin(ZERO, a))).body.status).toBe('enqueued');
    expect(await runNext(relay)).toMatchObject({ sha: a });
    expect((await send(await onCabin(a, b))).body.status).toBe('enqueued');
    expect(await runNext(relay)).toMatchObject({ sha: b });
    // Reset to a and force-pushed: the same commit as before, in a body GitHub never sent before.
    expect((await send(await onCabin(b, a, true))).body.status).toBe('enqueued');
    expect(await runNext(relay)).toMatchObject({ sha: a });
    // And forward to b again: the same move as the second push, a new push all the same.
    expect((await send(await onCabin(a, b, true))).body.status).toBe('enqueued');
    expect(await runNext(relay)).toMatchObject({ sha: b });
    // A revert is a new commit.
    expect((await send(await onCabin(b, revert))).body.status).toBe('enqueued');
    expect(await runNext(relay)).toMatchObject({ sha: revert });
    relay.close();
  });
});

describe('deliveries for a commit the branch has moved on from', () => {
  it('a workflow_run for such a commit is refused with the reason, in the ledger and on the status page; one for the head deploys', async () => {
    const [x, y] = [fakeSha('gated-behind-x'), fakeSha('gated-behind-y')];
    await send(await push('octo-home/gated-config', ZERO, x));
    await send(await push('octo-home/gated-config', x, y));
    const before = await history('gated');

    // A re-run of x's workflow, finishing after y was pushed: a body GitHub never sent before.
    const late = await capture({ event: 'workflow_run', payload: workflowRunPayload({ headSha: x, runAttempt: 2 }) });
    const answer = await send(late);
    expect(answer.status).toBe(202);
    expect(answer.body.status).toBe('refused');
    const reason = `gated: workflow run for ${x.slice(0, 7)} refused: a push moved the branch on from it (to ${y.slice(0, 7)}) and its head is ${y.slice(0, 7)}, so deploying it would take the house back behind the branch. Deploy it by hand if that is what you want.`;
    expect(answer.body.reason).toBe(reason);
    expect(await history('gated')).toEqual(before);
    expect(await ledgerRow(late.headers['X-GitHub-Delivery']!)).toMatchObject({ verified: true, verdict: 'refused', status: 202, sha: x, reason, deployments: [] });
    const vera = await signIn(TOKENS.viewer);
    const page = await (await call('/targets/gated', { headers: { Cookie: vera.cookie } })).text();
    const row = new RegExp(`data-delivery="${late.headers['X-GitHub-Delivery']}" data-verdict="refused">[\\s\\S]*?data-reason="true">([^<]*)<`).exec(page);
    expect(row?.[1]).toBe(reason.replace(/'/g, '&#39;'));

    const current = await capture({ event: 'workflow_run', payload: workflowRunPayload({ headSha: y }) });
    const deployed = await send(current);
    expect(deployed.body.status).toBe('enqueued');
    expect((await history('gated'))[0]).toMatchObject({ sha: y, trigger: 'workflow_run' });

    // The branch moves on again; GitHub's redelivery of y's run is still the duplicate it was.
    await send(await push('octo-home/gated-config', y, fakeSha('gated-behind-z')));
    expect((await send(current)).body).toMatchObject({ status: 'duplicate', deployments: deployed.body.deployments });
  });

  it('a repository_dispatch for such a commit is refused; one for the head, or without a sha, deploys; one sent again is a duplicate', async () => {
    const [p, q] = [fakeSha('dispatch-behind-p'), fakeSha('dispatch-behind-q')];
    await send(await push('octo-home/dispatch-config', ZERO, p));
    await send(await push('octo-home/dispatch-config', p, q));
    const before = await history('dispatched');

    const old = await send(await capture({ event: 'repository_dispatch', payload: repositoryDispatchPayload('deploy-home', { sha: p }) }));
    expect(old.body).toMatchObject({ status: 'refused', reason: expect.stringMatching(new RegExp(`^dispatched: repository_dispatch for ${p.slice(0, 7)} refused: a push moved the branch on from it`)) });
    expect(await history('dispatched')).toEqual(before);

    const head = await capture({ event: 'repository_dispatch', payload: repositoryDispatchPayload('deploy-home', { sha: q }) });
    expect((await send(head)).body.status).toBe('enqueued');
    expect((await send(await capture({ event: 'repository_dispatch', payload: repositoryDispatchPayload('deploy-home', { note: 'no sha: the head' }) }))).body.status).toBe('enqueued');
    const deployed = await history('dispatched');
    expect(deployed.slice(0, 2).map((d) => d.sha)).toEqual([q, q]);

    expect((await send(replayed(head))).body.status).toBe('duplicate');
    expect(await history('dispatched')).toEqual(deployed);
  });
});

describe('when the ledger cannot tell', () => {
  it('a delivery that cannot be checked against the ledger is refused with 503 and queues nothing', async () => {
    const down = new Error('D1_ERROR: no such column: body_sha256');
    const statement = { bind: () => statement, first: () => Promise.reject(down), all: () => Promise.reject(down), run: () => Promise.reject(down) };
    const broken = { prepare: () => statement, batch: () => Promise.reject(down) } as unknown as D1Database;
    const before = await history('home');
    const answer = await send(await push('octo-home/ha-config', fakeSha('ledger-down-a'), fakeSha('ledger-down-b')), { LEDGER: broken });
    expect(answer.status).toBe(503);
    expect(answer.body.error.message).toMatch(/could not be read to tell a replay from a new delivery, so nothing was queued: redeliver it from GitHub/);
    expect(answer.body.error.message).toMatch(/npx wrangler d1 migrations apply LEDGER --remote/);
    expect(await history('home')).toEqual(before);
  });
});

describe('replays, generated', () => {
  it('for any signed push body: sent again under a new id it is a duplicate that queues nothing; one byte more and it is a new delivery', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.constantFrom(undefined, 1, 2, '\t'), async (text, indent) => {
        n += 1;
        const payload = pushPayload({ ref: 'refs/heads/cabin', before: fakeSha(`generated-before-${n}`), after: fakeSha(`generated-${n}`), message: text });
        const original = await capture({ event: 'push', payload: null, rawBody: JSON.stringify(payload, null, indent) });
        const first = await send(original);
        expect(first.status, JSON.stringify(first.body)).toBe(202);
        const before = await history('cabin');
        const again = await send(replayed(original));
        expect(again.body).toMatchObject({ status: 'duplicate', deployments: first.body.deployments });
        expect(await history('cabin')).toEqual(before);
        const other = await send(await capture({ event: 'push', payload: null, rawBody: `${original.body} ` }));
        expect(other.body.status).not.toBe('duplicate');
      }),
      { numRuns: 25 },
    );
  });
});
