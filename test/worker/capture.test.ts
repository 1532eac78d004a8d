// Captures at the edge, in workerd (issue 17): who may ask, what is audited, and that a capture is
// handed to the relay only when it can capture and nothing runs (never beside a job, never two at
// once); the `capture` drift choice captures first and retries keeping the host's files after; a
// deploy that merged host edits asks for a capture; the pull request body says what to do.
import { describe, expect, it } from 'vitest';
import { CAPTURE_CAPABILITY, type CapturedMessage } from '../../shared/drift.ts';
import { findTarget } from '../../worker/config/targets.ts';
import type { CaptureView } from '../../worker/hub/capture-store.ts';
import { pullRequestBody } from '../../worker/outward/capture-pull.ts';
import { fakeSha } from '../support/github-payloads.ts';
import { apiCall, call, TOKENS } from './helpers.ts';
import { connectRelay, drainJobs, type TestRelay } from './relay-socket.ts';
import { csrfIn, post, signIn } from './status-page.ts';

const CAPABLE = ['deploy', 'rollback', CAPTURE_CAPABILITY];

function pushed(captureId: string, extra: Partial<CapturedMessage> = {}): CapturedMessage {
  return {
    type: 'captured',
    captureId,
    outcome: 'pushed',
    branch: 'lanyard/host-edits/home/2026-12-02',
    commit: fakeSha('captured-commit'),
    base: fakeSha('deployed-commit'),
    files: [{ path: 'automations.yaml', change: 'modified' }],
    total: 1,
    reason: null,
    at: Date.now(),
    ...extra,
  };
}

async function captureOf(target: string, id: string): Promise<CaptureView> {
  for (let i = 0; i < 50; i += 1) {
    const found = (await apiCall(`/deployments/${target}/captures`, 'viewer')).body.captures.find((c: CaptureView) => c.id === id);
    if (found && found.status !== 'queued' && found.status !== 'sent') return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`capture ${id} never finished`);
}

async function startJob(relay: TestRelay, seed: string): Promise<string> {
  const { body } = await apiCall('/deployments/home/deploy', 'operator', { body: { sha: fakeSha(seed) } });
  const job = await relay.next('job');
  if (job.type !== 'job') throw new Error('expected a job');
  expect(job.jobId).toBe(body.deployment.id);
  relay.send({ type: 'ack', jobId: job.jobId, attempt: job.attempt });
  return job.jobId;
}

describe('capture requests at the edge', () => {
  it('needs an operator to ask and a viewer to list', async () => {
    expect((await apiCall('/deployments/home/capture', null, { body: {} })).status).toBe(401);
    expect((await apiCall('/deployments/home/capture', 'viewer', { body: {} })).status).toBe(403);
    expect((await apiCall('/deployments/nowhere/capture', 'operator', { body: {} })).status).toBe(404);
    expect((await apiCall('/deployments/home/captures', null)).status).toBe(401);
  });

  it('fails a capture with a sentence when the relay cannot capture, and audits both ends', async () => {
    const relay = await connectRelay('cabin');
    const asked = await apiCall('/deployments/cabin/capture', 'operator', { body: {} });
    expect(asked.status).toBe(202);
    const capture = await captureOf('cabin', asked.body.capture.id);
    expect(capture).toMatchObject({ status: 'failed', requestedBy: 'otto', trigger: 'manual' });
    expect(capture.reason).toMatch(/capture:.*relay\.yaml/);
    expect(relay.received.some((m) => m.type === 'capture')).toBe(false);
    const trail = (await apiCall('/deployments/cabin/audit', 'admin')).body.entries.map((e: { action: string }) => e.action);
    expect(trail).toEqual(expect.arrayContaining(['capture.requested', 'capture.failed']));
    relay.close();
  });

  it('waits for the job in flight, holds the next job while it runs, and records what was pushed', async () => {
    const relay = await connectRelay('home', 'relay-token-home', true, CAPABLE);
    await drainJobs(relay);
    const running = await startJob(relay, 'capture-while-running');
    const asked = await apiCall('/deployments/home/capture', 'operator', { body: {} });
    expect(asked.status).toBe(202);
    expect(asked.body.capture).toMatchObject({ status: 'queued', requestedBy: 'otto' });
    // A second request while one waits is the same capture.
    expect((await apiCall('/deployments/home/capture', 'operator', { body: {} })).body.capture.id).toBe(asked.body.capture.id);
    await expect(relay.next('capture', 300)).rejects.toThrow(/no capture/);

    relay.send({ type: 'result', jobId: running, status: 'succeeded', reason: null, summary: {} as never });
    const sent = await relay.next('capture');
    expect(sent).toEqual({ type: 'capture', captureId: asked.body.capture.id, target: 'home', requestedBy: 'otto' });
    // A deploy asked for now waits for the capture's answer.
    const waiting = (await apiCall('/deployments/home/deploy', 'operator', { body: { sha: fakeSha('after-capture') } })).body.deployment.id;
    await expect(relay.next('job', 300)).rejects.toThrow(/no job/);
    relay.send(pushed(asked.body.capture.id));
    const job = await relay.next('job');
    expect(job).toMatchObject({ jobId: waiting });

    const capture = await captureOf('home', asked.body.capture.id);
    expect(capture).toMatchObject({ status: 'pushed', branch: 'lanyard/host-edits/home/2026-12-02', commit: fakeSha('captured-commit'), files: [{ path: 'automations.yaml', change: 'modified' }] });
    const trail = (await apiCall('/deployments/home/audit?action=capture.pushed', 'admin')).body.entries;
    expect(trail[0]).toMatchObject({ actor: 'relay', detail: { captureId: asked.body.capture.id, branch: 'lanyard/host-edits/home/2026-12-02' } });
    // A repeated answer changes nothing.
    relay.send(pushed(asked.body.capture.id, { outcome: 'failed', reason: 'late' }));
    await new Promise((r) => setTimeout(r, 100));
    expect((await captureOf('home', asked.body.capture.id)).status).toBe('pushed');
    relay.send({ type: 'result', jobId: waiting, status: 'succeeded', reason: null, summary: {} as never });
    await relay.next('recorded');
    relay.close();
  });

  it('sends a capture again to a relay that reconnects before answering', async () => {
    const first = await connectRelay('home', 'relay-token-home', true, CAPABLE);
    await drainJobs(first);
    const asked = await apiCall('/deployments/home/capture', 'operator', { body: {} });
    await first.next('capture');
    first.close();
    const second = await connectRelay('home', 'relay-token-home', true, CAPABLE);
    const again = await second.next('capture');
    expect(again).toMatchObject({ captureId: asked.body.capture.id });
    second.send({ ...pushed(asked.body.capture.id), outcome: 'nothing_to_capture', branch: null, commit: null, files: [], total: 0, reason: 'the host matches' });
    expect((await captureOf('home', asked.body.capture.id)).status).toBe('nothing_to_capture');
    second.close();
  });

  it('the capture drift choice: captures first, then retries the deploy keeping the host\'s files', async () => {
    const relay = await connectRelay('home', 'relay-token-home', true, CAPABLE);
    await drainJobs(relay);
    const stopped = await startJob(relay, 'stopped-on-drift');
    relay.send({ type: 'result', jobId: stopped, status: 'failed', reason: 'drift: automations.yaml changed on the host', summary: { drift: ['automations.yaml'] } as never });
    await relay.next('recorded');
    const chosen = await apiCall('/deployments/home/retry', 'operator', { body: { deploymentId: stopped, drift: 'capture' } });
    expect(chosen.status).toBe(202);
    const capture = await relay.next('capture');
    if (capture.type !== 'capture') throw new Error('expected a capture');
    expect(capture.captureId).toBe(chosen.body.capture.id);
    relay.send(pushed(capture.captureId));
    const job = await relay.next('job');
    expect(job).toMatchObject({ type: 'job', sha: fakeSha('stopped-on-drift'), driftPolicy: 'report-only' });
    const trail = (await apiCall('/deployments/home/audit?action=deploy.drift_choice', 'admin')).body.entries;
    expect(trail[0]).toMatchObject({ detail: { retryOf: stopped, drift: 'capture', captureId: capture.captureId, driftPolicy: 'report-only' } });
    if (job.type !== 'job') throw new Error('expected a job');
    relay.send({ type: 'result', jobId: job.jobId, status: 'succeeded', reason: null, summary: {} as never });
    await relay.next('recorded');
    // Only a deploy that can be tried again, and that stopped on drift, may be chosen so.
    expect((await apiCall('/deployments/home/retry', 'operator', { body: { deploymentId: job.jobId, drift: 'capture' } })).status).toBe(409);
    const other = await startJob(relay, 'failed-otherwise');
    relay.send({ type: 'result', jobId: other, status: 'failed', reason: 'check: invalid configuration', summary: {} as never });
    await relay.next('recorded');
    const refusedChoice = await apiCall('/deployments/home/retry', 'operator', { body: { deploymentId: other, drift: 'capture' } });
    expect(refusedChoice.status).toBe(409);
    expect(refusedChoice.body.error).toMatchObject({ code: 'no_drift' });
    relay.close();
  });

  it('a deploy that merged host edits asks for a capture of them', async () => {
    const relay = await connectRelay('home', 'relay-token-home', true, CAPABLE);
    await drainJobs(relay);
    const id = await startJob(relay, 'merged-host-edits');
    relay.send({ type: 'result', jobId: id, status: 'succeeded', reason: null, summary: { merged: ['automations.yaml'] } as never });
    const capture = await relay.next('capture');
    expect(capture).toMatchObject({ type: 'capture', target: 'home', requestedBy: `edge (after ${id} merged host edits)` });
    if (capture.type !== 'capture') throw new Error('expected a capture');
    relay.send({ ...pushed(capture.captureId), outcome: 'failed', branch: null, commit: null, files: [], total: 0, reason: 'push refused' });
    expect(await captureOf('home', capture.captureId)).toMatchObject({ status: 'failed', trigger: 'merged', reason: 'push refused' });
    relay.close();
  });

  it('a relay that cannot capture gets no capture after a merge, and the trail no failed one', async () => {
    const relay = await connectRelay('home', 'relay-token-home', true);
    await drainJobs(relay);
    const before = (await apiCall('/deployments/home/captures', 'viewer')).body.captures.length;
    const id = await startJob(relay, 'merged-without-capture');
    relay.send({ type: 'result', jobId: id, status: 'succeeded', reason: null, summary: { merged: ['automations.yaml'] } as never });
    // The edge says `recorded` once it has handled the result, the capture decision included.
    expect(await relay.next('recorded')).toMatchObject({ type: 'recorded', jobId: id });
    expect((await apiCall(`/deployments/home/logs?deploymentId=${id}`, 'viewer')).body.deployment.status).toBe('succeeded');
    expect((await apiCall('/deployments/home/captures', 'viewer')).body.captures.length).toBe(before);
    relay.close();
  });
});

describe('capture: auto', () => {
  it('a drift report naming a file the last one did not queues a capture; the same report again does not', async () => {
    const relay = await connectRelay('cabin');
    const drift = (paths: string[]) =>
      relay.send({ type: 'drift', at: Date.now(), deployedSha: fakeSha('cabin-deployed'), files: paths.map((path) => ({ path, change: 'modified' as const, since: 1, diff: null, diffNote: null })), total: paths.length });
    const autoCaptures = async () => (await apiCall('/deployments/cabin/captures', 'viewer')).body.captures.filter((c: CaptureView) => c.trigger === 'auto');
    const before = (await autoCaptures()).length;
    drift(['automations.yaml']);
    await new Promise((r) => setTimeout(r, 200));
    const first = await autoCaptures();
    expect(first.length).toBe(before + 1);
    expect(first[0]).toMatchObject({ requestedBy: 'edge (capture: auto)' });
    drift(['automations.yaml']);
    await new Promise((r) => setTimeout(r, 200));
    expect((await autoCaptures()).length).toBe(before + 1);
    drift(['automations.yaml', 'scripts.yaml']);
    await new Promise((r) => setTimeout(r, 200));
    expect((await autoCaptures()).length).toBe(before + 2);
    relay.close();
  });
});

describe('capture on the status page', () => {
  it('offers operators "Capture these edits", confirms what it does, queues it, and lists it with its pull request', async () => {
    const relay = await connectRelay('home', 'relay-token-home', true, CAPABLE);
    await drainJobs(relay);
    const otto = await signIn(TOKENS.operator);
    const vera = await signIn(TOKENS.viewer);
    expect(await (await call('/targets/home', { headers: { Cookie: otto.cookie } })).text()).toContain('data-control="capture"');
    expect(await (await call('/targets/home', { headers: { Cookie: vera.cookie } })).text()).not.toContain('data-control="capture"');
    expect((await call('/targets/home/capture', { headers: { Cookie: vera.cookie } })).status).toBe(403);

    const confirm = await (await call('/targets/home/capture', { headers: { Cookie: otto.cookie } })).text();
    expect(confirm).toContain('lanyard/host-edits/home/&lt;today&gt;');
    expect(confirm).toContain('never read or pushed');
    const done = await post('/targets/home/capture', otto, { csrf: csrfIn(confirm) });
    expect(done.status).toBe(303);
    const sent = await relay.next('capture');
    if (sent.type !== 'capture') throw new Error('expected a capture');
    expect(sent.requestedBy).toBe('otto');
    relay.send(pushed(sent.captureId));
    await captureOf('home', sent.captureId);
    const page = await (await call('/targets/home', { headers: { Cookie: vera.cookie } })).text();
    expect(page).toContain(`data-capture="${sent.captureId}"`);
    expect(page).toContain('lanyard/host-edits/home/2026-12-02');
    expect(page).toContain('modified <code>automations.yaml</code>');
    relay.close();
  });
});

describe('the pull request body', () => {
  it('lists the files, the target, the deployed commit, when and who asked, and what to do', () => {
    const target = findTarget(JSON.stringify([{ name: 'home', repo: 'octo-home/ha-config', branch: 'main', relayTokenSecret: 'RELAY_TOKEN_HOME' }]), 'home');
    const body = pullRequestBody(target, {
      id: 'cap_0000000000000000000a',
      status: 'pushed',
      trigger: 'manual',
      requestedBy: 'otto',
      requestedAt: Date.UTC(2026, 11, 2, 21, 0),
      sentAt: null,
      finishedAt: Date.UTC(2026, 11, 2, 21, 1),
      reason: null,
      branch: 'lanyard/host-edits/home/2026-12-02',
      commit: fakeSha('c'),
      base: fakeSha('b'),
      files: [
        { path: 'automations.yaml', change: 'modified' },
        { path: 'www/`odd`.txt', change: 'added' },
        { path: 'www/old.txt', change: 'deleted' },
      ],
      total: 4,
      retryOf: null,
      pullRequestUrl: null,
    });
    expect(body).toContain('target **home**');
    expect(body).toContain(`Deployed commit they sit on: ${fakeSha('b')}`);
    expect(body).toContain('Captured: 2026-12-02T21:01:00.000Z, asked by `otto` (by hand)');
    expect(body).toContain('- modified: `automations.yaml`');
    expect(body).toContain('- added: ``www/`odd`.txt``');
    expect(body).toContain('- deleted: `www/old.txt`');
    expect(body).toContain('… and 1 more');
    expect(body).toContain('merge this pull request into `main`');
    expect(body).toContain('finds the host and the commit equal');
  });
});
