// Freezes (issue 18) in a real TargetHub: who may freeze, what `until` may be, pushes queued while
// frozen and the newest dispatched on unfreeze, an admin's rollback through the freeze (break
// glass) and an operator's refused, the relay told after its welcome and on every change, and a
// freeze that ends by itself when the hub's own alarm goes off.
import { describe, expect, it } from 'vitest';
import { MAX_FREEZE_MS } from '../../shared/freeze.ts';
import { fakeSha, pushPayload } from '../support/github-payloads.ts';
import { apiCall, call, deliver, TOKENS } from './helpers.ts';
import { connectRelay, drainJobs, type TestRelay } from './relay-socket.ts';
import { post, signIn } from './status-page.ts';

async function push(seed: string, ref = 'refs/heads/main'): Promise<string> {
  const { status, body } = await deliver({ event: 'push', payload: pushPayload({ after: fakeSha(seed), message: `commit ${seed}`, ref }) });
  expect(status).toBe(202);
  return body.deployments[0].deploymentId as string;
}

async function audit(target: string, action: string): Promise<Array<Record<string, any>>> {
  return (await apiCall(`/deployments/${target}/audit?action=${action}`, 'admin')).body.entries;
}

async function status(target: string): Promise<Record<string, any>> {
  return (await apiCall(`/deployments/${target}/status`, 'viewer')).body;
}

/** Lets any job the hub would send arrive; the hub dispatches within the call that queued, so this only covers the socket's delivery. */
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 150));
}

const jobsOf = (relay: TestRelay) => relay.received.filter((m) => m.type === 'job');

describe('who may freeze, and what a freeze request must say', () => {
  it('a viewer cannot freeze or unfreeze, nor can anyone without a token; an operator can', async () => {
    expect((await apiCall('/deployments/dispatched/freeze', null, { body: { reason: 'party' } })).status).toBe(401);
    const viewer = await apiCall('/deployments/dispatched/freeze', 'viewer', { body: { reason: 'party' } });
    expect(viewer.status).toBe(403);
    expect(viewer.body.error.message).toBe('vera is a viewer; this needs the operator role.');
    expect((await status('dispatched')).freeze).toBeNull();

    const frozen = await apiCall('/deployments/dispatched/freeze', 'operator', { body: { reason: 'Birthday party' } });
    expect(frozen.status).toBe(200);
    expect(frozen.body.freeze).toMatchObject({ by: 'otto', reason: 'Birthday party', until: null, at: expect.any(Number) });
    expect((await status('dispatched')).freeze).toEqual(frozen.body.freeze);
    expect((await apiCall('/deployments/dispatched/unfreeze', 'viewer', { body: {} })).status).toBe(403);
    const lifted = await apiCall('/deployments/dispatched/unfreeze', 'operator', { body: {} });
    expect(lifted.status).toBe(200);
    expect(lifted.body).toMatchObject({ lifted: { reason: 'Birthday party' }, dispatched: null });
    expect((await status('dispatched')).freeze).toBeNull();
    const again = await apiCall('/deployments/dispatched/unfreeze', 'operator', { body: {} });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'not_frozen', message: 'dispatched is not frozen.' });
  });

  it('refuses an until in the past, one more than a year ahead, one without its offset, and a freeze without a reason, saying what to send', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ reason: 'holiday', until: new Date(Date.now() - 60_000).toISOString() }, /^body is invalid: until: .* is in the past: give a time still to come, or leave until out/],
      [{ reason: 'holiday', until: new Date(Date.now() + MAX_FREEZE_MS + 86_400_000).toISOString() }, /^body is invalid: until: .* is more than 366 days away: leave until out to freeze until someone unfreezes$/],
      [{ reason: 'holiday', until: '2030-12-27T09:00:00' }, /^body is invalid: until: an ISO 8601 time with its offset, e.g. 2026-12-27T09:00:00\+01:00/],
      [{ reason: 'holiday', until: 'next tuesday' }, /^body is invalid: until: an ISO 8601 time with its offset/],
      [{ reason: '   ' }, /^body is invalid: reason: say why: the page shows it to everyone$/],
      [{}, /^body is invalid: reason: /],
      [{ reason: 'holiday', by: 'someone else' }, /^body is invalid: .*by/],
    ];
    for (const [body, message] of cases) {
      const answer = await apiCall('/deployments/dispatched/freeze', 'operator', { body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe('invalid_request');
      expect(answer.body.error.message, JSON.stringify(body)).toMatch(message);
    }
    expect((await status('dispatched')).freeze).toBeNull();
    expect(await audit('dispatched', 'freeze.set')).toHaveLength(1);
  });

  it('takes an until with any offset, and a newer freeze replaces the one in force', async () => {
    const until = new Date(Date.now() + 3 * 86_400_000);
    const withOffset = `${new Date(until.getTime() + 3_600_000).toISOString().slice(0, 19)}+01:00`;
    const first = await apiCall('/deployments/dispatched/freeze', 'operator', { body: { reason: 'Holiday', until: withOffset } });
    expect(first.status).toBe(200);
    expect(first.body.freeze.until).toBe(Math.floor(until.getTime() / 1000) * 1000);
    const second = await apiCall('/deployments/dispatched/freeze', 'admin', { body: { reason: 'Holiday, one more week' } });
    expect(second.body.freeze).toMatchObject({ by: 'ada', reason: 'Holiday, one more week', until: null });
    expect((await audit('dispatched', 'freeze.set'))[0]).toMatchObject({ actor: 'ada', detail: { reason: 'Holiday, one more week', until: null, replaced: { by: 'otto', reason: 'Holiday' } } });
    expect((await apiCall('/deployments/dispatched/unfreeze', 'operator', { body: {} })).status).toBe(200);
  });
});

describe('while frozen', () => {
  it('pushes are recorded and queued (the latest wins), nothing is dispatched; unfreeze dispatches the newest, and the relay hears each change', async () => {
    const relay = await connectRelay('cabin');
    // After the welcome: the target's state, no freeze.
    expect(await relay.next('target_state')).toEqual({ type: 'target_state', freeze: null });
    await drainJobs(relay);

    const frozen = (await apiCall('/deployments/cabin/freeze', 'operator', { body: { reason: 'Family visiting' } })).body.freeze;
    expect(await relay.next('target_state')).toEqual({ type: 'target_state', freeze: frozen });

    const first = await push('frozen-1', 'refs/heads/cabin');
    const second = await push('frozen-2', 'refs/heads/cabin');
    const manual = await apiCall('/deployments/cabin/deploy', 'operator', { body: { sha: fakeSha('frozen-2') } });
    expect(manual.status).toBe(202);
    await settle();
    expect(jobsOf(relay).map((j) => j.type === 'job' && j.jobId)).not.toContain(first);
    expect(jobsOf(relay).map((j) => j.type === 'job' && j.jobId)).not.toContain(second);
    const during = await status('cabin');
    expect(during.current).toBeNull();
    expect(during.queued.map((d: any) => d.id)).toEqual([manual.body.deployment.id]);
    expect(during.freeze).toEqual(frozen);
    const history = (await apiCall('/deployments/cabin/history', 'viewer')).body.deployments;
    expect(history.find((d: any) => d.id === first)).toMatchObject({ status: 'superseded', supersededBy: second });
    expect(history.find((d: any) => d.id === second)).toMatchObject({ status: 'superseded', supersededBy: manual.body.deployment.id });

    const lifted = await apiCall('/deployments/cabin/unfreeze', 'operator', { body: {} });
    expect(lifted.status).toBe(200);
    expect(lifted.body).toMatchObject({ lifted: frozen, dispatched: manual.body.deployment.id });
    expect(await relay.next('target_state')).toEqual({ type: 'target_state', freeze: null });
    expect(await relay.next('job')).toMatchObject({ jobId: manual.body.deployment.id, sha: fakeSha('frozen-2') });
    expect(await audit('cabin', 'freeze.lifted')).toEqual([expect.objectContaining({ actor: 'otto', detail: { freeze: frozen } })]);
    relay.close();
  });

  it('a relay that connects while frozen hears of the freeze right after its welcome', async () => {
    const frozen = (await apiCall('/deployments/gated/freeze', 'operator', { body: { reason: 'Moving house' } })).body.freeze;
    const relay = await connectRelay('gated', 'gated-relay-token');
    try {
      expect(await relay.next('target_state')).toEqual({ type: 'target_state', freeze: frozen });
      expect(relay.received.slice(0, 2)).toEqual([expect.objectContaining({ type: 'welcome' }), { type: 'target_state', freeze: frozen }]);
    } finally {
      relay.close();
      await apiCall('/deployments/gated/unfreeze', 'operator', { body: {} });
    }
  });

  it('an admin can still roll back (break glass, audited); an operator\'s rollback is refused with a 409 that says how; the queued deploy waits', async () => {
    const relay = await connectRelay('gated', 'gated-relay-token');
    await relay.next('target_state');
    await drainJobs(relay);
    for (const seed of ['glass-good', 'glass-bad']) {
      const { body } = await apiCall('/deployments/gated/deploy', 'operator', { body: { sha: fakeSha(seed) } });
      const job = await relay.next('job');
      expect(job).toMatchObject({ jobId: body.deployment.id });
      relay.send({ type: 'result', jobId: body.deployment.id, status: 'succeeded', reason: null, summary: {} as never });
      await relay.next('recorded');
    }
    const frozen = (await apiCall('/deployments/gated/freeze', 'operator', { body: { reason: 'Guests', until: new Date(Date.now() + 86_400_000).toISOString() } })).body.freeze;
    const waiting = (await apiCall('/deployments/gated/deploy', 'operator', { body: { sha: fakeSha('glass-next') } })).body.deployment.id;

    const refused = await apiCall('/deployments/gated/rollback', 'operator', { body: {} });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('frozen');
    expect(refused.body.error.message).toMatch(/^gated is frozen until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC by otto because Guests: a rollback during a freeze needs an admin/);
    expect(refused.body.error.message).toContain('or unfreeze it first (POST /api/deployments/gated/unfreeze');
    expect((await status('gated')).queued.map((d: any) => d.id)).toEqual([waiting]);

    const forced = await apiCall('/deployments/gated/rollback', 'admin', { body: {} });
    expect(forced.status).toBe(202);
    const rollbackJob = await relay.next('job');
    expect(rollbackJob).toMatchObject({ jobId: forced.body.deployment.id, kind: 'rollback', sha: fakeSha('glass-good'), requestedBy: 'ada' });
    expect(await audit('gated', 'rollback.break_glass')).toEqual([
      expect.objectContaining({ actor: 'ada', detail: { deploymentId: forced.body.deployment.id, freeze: frozen } }),
    ]);
    relay.send({ type: 'result', jobId: forced.body.deployment.id, status: 'succeeded', reason: null, summary: {} as never });
    await relay.next('recorded');
    await settle();
    // The freeze still holds for everything else.
    expect(jobsOf(relay).map((j) => j.type === 'job' && j.jobId)).not.toContain(waiting);
    const after = await status('gated');
    expect(after).toMatchObject({ freeze: frozen, current: null });
    expect(after.queued.map((d: any) => d.id)).toEqual([waiting]);
    relay.close();
    await apiCall('/deployments/gated/unfreeze', 'operator', { body: {} });
  });
});

describe('a freeze with an end', () => {
  it('ends by itself when the hub\'s alarm goes off: audited freeze.expired, the relay told, the queued push dispatched', async () => {
    const relay = await connectRelay('home');
    await relay.next('target_state');
    await drainJobs(relay);
    // A second and a half ahead: the hub's own alarm, set for `until`, really fires.
    const until = new Date(Date.now() + 1500).toISOString();
    const frozen = (await apiCall('/deployments/home/freeze', 'operator', { body: { reason: 'Short test freeze', until } })).body.freeze;
    expect(frozen.until).toBe(Date.parse(until));
    expect(await relay.next('target_state')).toEqual({ type: 'target_state', freeze: frozen });
    const id = await push('pushed-while-briefly-frozen');
    expect((await status('home')).queued.map((d: any) => d.id)).toEqual([id]);

    const job = await relay.next('job', 15_000);
    expect(job).toMatchObject({ jobId: id, sha: fakeSha('pushed-while-briefly-frozen') });
    expect((await status('home')).freeze).toBeNull();
    expect(relay.received.filter((m) => m.type === 'target_state').at(-1)).toEqual({ type: 'target_state', freeze: null });
    // The relay heard the freeze end before it was handed the job.
    const order = relay.received.map((m) => (m.type === 'target_state' ? `state:${m.freeze ? 'frozen' : 'none'}` : m.type === 'job' ? `job:${m.jobId}` : null)).filter(Boolean);
    expect(order.slice(-2)).toEqual(['state:none', `job:${id}`]);
    expect(await audit('home', 'freeze.expired')).toEqual([expect.objectContaining({ actor: 'lanyard', detail: { freeze: frozen } })]);
    relay.send({ type: 'result', jobId: id, status: 'succeeded', reason: null, summary: {} as never });
    await relay.next('recorded');
    relay.close();
  });
});

describe('on the status page', () => {
  it('a rollback while frozen: an operator is told before confirming that it needs an admin; an admin is told what the break glass does', async () => {
    const [operator, admin] = [await signIn(TOKENS.operator), await signIn(TOKENS.admin)];
    const form = await post('/targets/gated/freeze', operator, { csrf: operator.csrf, reason: 'Guests <again>' });
    expect(form.status, await form.clone().text()).toBe(303);
    expect((await status('gated')).freeze).toMatchObject({ by: 'otto', reason: 'Guests <again>', until: null });

    const refusedPage = await call('/targets/gated/rollback', { headers: { Cookie: operator.cookie } });
    expect(refusedPage.status).toBe(409);
    const refusedHtml = await refusedPage.text();
    expect(refusedHtml).toContain('data-refusal="frozen"');
    expect(refusedHtml).toContain('by otto because Guests &lt;again&gt;: a rollback during a freeze needs an admin');
    expect(refusedHtml).not.toContain('data-confirm-button');

    const confirmHtml = await (await call('/targets/gated/rollback', { headers: { Cookie: admin.cookie } })).text();
    expect(confirmHtml).toContain("data-confirm-button");
    expect(confirmHtml).toMatch(/<li data-break-glass[^>]*>Break glass: gated is frozen until someone unfreezes it by otto because Guests &lt;again&gt;\./);

    // The overview says which target is frozen, and why.
    const overview = await (await call('/', { headers: { Cookie: operator.cookie } })).text();
    expect(overview).toMatch(/data-target="gated"[\s\S]*data-frozen[\s\S]*by otto because Guests &lt;again&gt;/);

    // A bad until from the page's form is refused with the same words as the API.
    const bad = await post('/targets/gated/freeze', operator, { csrf: operator.csrf, reason: 'Later', until: '2030-01-01T09:00:00' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('form is invalid: until: an ISO 8601 time with its offset');
    const lifted = await post('/targets/gated/unfreeze', operator, { csrf: operator.csrf });
    expect(lifted.status).toBe(303);
    expect((await status('gated')).freeze).toBeNull();
  });
});
