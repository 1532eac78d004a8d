// The edge side of the relay channel in workerd: token check before the upgrade, one live relay,
// ack timeouts, leases, malformed frames and idempotent results.
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { fakeSha } from '../support/github-payloads.ts';
import { apiCall, call } from './helpers.ts';
import { connectRelay, drainJobs, type TestRelay } from './relay-socket.ts';

const hub = (name: string) => env.TARGET_HUB.get(env.TARGET_HUB.idFromName(name));

/** Moves a deployment's deadlines into the past, as if time had passed, then runs the alarm. */
async function expireDeadlines(target: string, id: string) {
  await runInDurableObject(hub(target), async (_instance, state) => {
    state.storage.sql.exec('UPDATE deployments SET dispatched_at = dispatched_at - 3600000, lease_expires_at = lease_expires_at - 3600000 WHERE id = ?', id);
    state.storage.sql.exec("DELETE FROM meta WHERE key = 'alarm_at'");
  });
  await runDurableObjectAlarm(hub(target));
}

async function deployOn(target: string, seed: string): Promise<string> {
  const { body } = await apiCall(`/deployments/${target}/deploy`, 'operator', { body: { sha: fakeSha(seed) } });
  return body.deployment.id;
}

async function closeOf(relay: TestRelay): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => relay.socket.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason })));
}

describe('relay authentication', () => {
  it('refuses a wrong token before the upgrade, in the access log and not in the audit trail', async () => {
    const trail = (await apiCall('/deployments/home/audit', 'admin')).body.entries;
    const response = await call('/relay/connect?target=home', { headers: { Upgrade: 'websocket', Authorization: 'Bearer wrong-token', 'CF-Connecting-IP': '203.0.113.77' } });
    expect(response.status).toBe(401);
    expect(response.webSocket).toBeNull();
    let logged: any[] = [];
    for (let i = 0; i < 50 && !logged.length; i += 1) {
      logged = (await apiCall('/access-log?action=relay.refused&limit=200', 'admin')).body.entries.filter((e: any) => e.source === '203.0.113.77');
      if (!logged.length) await new Promise((r) => setTimeout(r, 20));
    }
    expect(logged).toEqual([expect.objectContaining({ action: 'relay.refused', reason: 'wrong relay token for target home', path: '/relay/connect' })]);
    expect((await apiCall('/deployments/home/audit', 'admin')).body.entries).toEqual(trail);
  });

  it('a leaked relay token opens only its own targets\' relay channel: not the API, not another target, and its jobs name a commit, never content or a command', async () => {
    const asApi = await call('/api/deployments/home/status', { headers: { Authorization: 'Bearer relay-token-home' } });
    expect(asApi.status).toBe(401);
    const elsewhere = await call('/relay/connect?target=gated', { headers: { Upgrade: 'websocket', Authorization: 'Bearer relay-token-home' } });
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.webSocket).toBeNull();

    const relay = await connectRelay('cabin');
    const id = await deployOn('cabin', 'what-a-relay-is-told');
    const job = await relay.next('job');
    // Everything a job carries: ids of strict shapes, a commit, and short text for the house's sensor.
    expect(Object.keys(job).sort()).toEqual(['attempt', 'backupId', 'commitMessage', 'driftPolicy', 'jobId', 'kind', 'ref', 'requestedBy', 'sha', 'target', 'traceparent', 'type']);
    expect(job).toMatchObject({ jobId: id, target: 'cabin', sha: fakeSha('what-a-relay-is-told'), ref: 'refs/heads/cabin' });
    relay.send({ type: 'result', jobId: id, status: 'succeeded', reason: null, summary: {} as never });
    await relay.next('recorded');
    relay.close();
  });

  it('accepts a token stored hashed as sha256:<hex>', async () => {
    const relay = await connectRelay('gated', 'gated-relay-token');
    expect(relay.received[0]).toMatchObject({ type: 'welcome', target: 'gated' });
    relay.close();
  });
});

describe('one live relay per target', () => {
  it('a second connection replaces the first, which is closed with code 4000', async () => {
    const first = await connectRelay('dispatched', 'gated-relay-token');
    const closed = closeOf(first);
    const second = await connectRelay('dispatched', 'gated-relay-token');
    expect(await closed).toMatchObject({ code: 4000, reason: 'replaced by a newer relay connection' });
    const { body } = await apiCall('/deployments/dispatched/status', 'viewer');
    expect(body.relay).toMatchObject({ connected: true, relayId: 'test-relay' });
    const id = await deployOn('dispatched', 'to-the-second');
    expect(await second.next('job')).toMatchObject({ jobId: id });
    second.send({ type: 'result', jobId: id, status: 'succeeded', reason: null, summary: {} as never });
    await second.next('recorded');
    second.close();
  });
});

describe('dispatch, leases and timeouts', () => {
  it('re-dispatches a job the relay did not acknowledge in time, with the next attempt number', async () => {
    const relay = await connectRelay('home');
    await drainJobs(relay, 3000);
    const id = await deployOn('home', 'unacked');
    expect(await relay.next('job')).toMatchObject({ jobId: id, attempt: 1 });
    await expireDeadlines('home', id);
    expect(await relay.next('job')).toMatchObject({ jobId: id, attempt: 2 });
    // A late ack of the first attempt is answered with a cancel; the current attempt runs.
    relay.send({ type: 'ack', jobId: id, attempt: 1 });
    expect(await relay.next('cancel')).toMatchObject({ jobId: id });
    relay.send({ type: 'ack', jobId: id, attempt: 2 });
    await new Promise((r) => setTimeout(r, 50));
    expect((await apiCall(`/deployments/home/logs?deploymentId=${id}`, 'viewer')).body.deployment.status).toBe('running');
    relay.send({ type: 'result', jobId: id, status: 'succeeded', reason: null, summary: {} as never });
    await relay.next('recorded');
    relay.close();
  });

  it('marks a running job failed with "relay lost" when its lease runs out, and takes the relay\'s word if it reports later', async () => {
    const relay = await connectRelay('cabin');
    await drainJobs(relay);
    const id = await deployOn('cabin', 'lease');
    await relay.next('job');
    relay.send({ type: 'ack', jobId: id, attempt: 1 });
    relay.send({ type: 'progress', jobId: id, step: 'apply', status: 'started', message: 'apply started', at: Date.now() });
    await new Promise((r) => setTimeout(r, 50));
    relay.close();
    await expireDeadlines('cabin', id);
    const lost = await apiCall(`/deployments/cabin/logs?deploymentId=${id}`, 'viewer');
    expect(lost.body.deployment).toMatchObject({ status: 'failed', reason: 'relay lost' });

    const back = await connectRelay('cabin');
    back.send({ type: 'result', jobId: id, status: 'rolled_back', reason: 'relay was stopped during apply', summary: {} as never });
    await back.next('recorded');
    const truth = await apiCall(`/deployments/cabin/logs?deploymentId=${id}`, 'viewer');
    expect(truth.body.deployment).toMatchObject({ status: 'rolled_back', reason: 'relay was stopped during apply' });
    back.close();
  });

  it('treats a repeated result as already recorded and changes nothing', async () => {
    const relay = await connectRelay('gated', 'gated-relay-token');
    await drainJobs(relay);
    const id = await deployOn('gated', 'twice');
    await relay.next('job');
    relay.send({ type: 'result', jobId: id, status: 'failed', reason: 'first word', summary: {} as never });
    await relay.next('recorded');
    relay.send({ type: 'result', jobId: id, status: 'succeeded', reason: null, summary: {} as never });
    await relay.next('recorded');
    const { body } = await apiCall(`/deployments/gated/logs?deploymentId=${id}`, 'viewer');
    expect(body.deployment).toMatchObject({ status: 'failed', reason: 'first word' });
    relay.close();
  });
});

describe('malformed messages', () => {
  it('answers a frame that is not JSON, or not a message, with an error and stays up', async () => {
    const relay = await connectRelay('dispatched', 'gated-relay-token');
    relay.send('this is not json');
    expect(await relay.next('error')).toMatchObject({ code: 'invalid_message', message: 'invalid message: frame is not JSON' });
    relay.send(JSON.stringify({ type: 'result', jobId: 'x', status: 'exploded' }));
    const error = await relay.next('error');
    expect(error).toMatchObject({ code: 'invalid_message' });
    expect((error as { message: string }).message).toMatch(/status/);
    relay.send(JSON.stringify({ type: 'teleport' }));
    expect(await relay.next('error')).toMatchObject({ code: 'invalid_message' });
    // Still serving: an unknown job is answered as such.
    relay.send({ type: 'ack', jobId: 'dep_00000000000000n0pe', attempt: 1 });
    expect(await relay.next('error')).toMatchObject({ code: 'unknown_job', jobId: 'dep_00000000000000n0pe' });
    relay.close();
  });

  it('wants a hello before anything else, and closes a relay of another protocol version', async () => {
    const silent = await connectRelay('dispatched', 'gated-relay-token', false);
    silent.send({ type: 'ack', jobId: 'dep_00000000000000s1nt', attempt: 1 });
    expect(await silent.next('error')).toMatchObject({ message: 'say hello first' });
    const closed = closeOf(silent);
    silent.send({ type: 'hello', v: 99, relayId: 'future', version: '9', capabilities: [], inFlight: null });
    expect(await closed).toMatchObject({ code: 4002 });
  });
});
