// Restart windows in a real TargetHub (issue 18): the hub tells the relay whether it may restart now,
// records a held deploy as waiting_for_window (not final, GitHub not told of a failure), queues it
// again when a window opens (the alarm) or an operator says "restart now", and lets a newer push
// supersede it. Two targets of vitest.config.ts: `windowed`, whose window is shut for hours, and
// `window-open`, whose window is open now.
import { describe, expect, it } from 'vitest';
import type { JobMessage } from '../../shared/protocol.ts';
import { isWithinRestartWindow, localTimeLabel, nextRestartWindowOpening } from '../../shared/restart-window.ts';
import { fakeSha, pushPayload } from '../support/github-payloads.ts';
import { apiCall, deliver } from './helpers.ts';
import { connectRelay, drainJobs, type TestRelay } from './relay-socket.ts';

const KEEPS_WINDOWS = ['deploy', 'rollback', 'restart-window'];
const heldSummary = { filesChanged: ['configuration.yaml'], activation: 'restart', restartHeld: true, backupId: null } as never;

async function push(repo: string, seed: string): Promise<string> {
  const { status, body } = await deliver({ event: 'push', payload: pushPayload({ repo, after: fakeSha(seed), message: `commit ${seed}` }) });
  expect(status).toBe(202);
  return body.deployments[0].deploymentId as string;
}

async function job(relay: TestRelay): Promise<JobMessage> {
  return (await relay.next('job')) as JobMessage;
}

/** The relay's answer to a held restart: written, checked, put back. */
function answerHeld(relay: TestRelay, j: JobMessage): void {
  relay.send({ type: 'ack', jobId: j.jobId, attempt: j.attempt });
  relay.send({ type: 'result', jobId: j.jobId, status: 'waiting_for_window', reason: 'needs a restart (configuration.yaml: sets up integrations at start-up); checked by Home Assistant and put back, waiting for the restart window', summary: heldSummary });
}

async function deployment(target: string, id: string): Promise<Record<string, any>> {
  const { body } = await apiCall(`/deployments/${target}/logs?deploymentId=${id}`, 'viewer');
  return body.deployment;
}

async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never ${what}`);
}

describe('time zones in workerd', () => {
  it('knows Europe/Amsterdam and America/New_York, summer time included, as Node does', () => {
    const night = ['02:00-05:00'];
    expect(isWithinRestartWindow(night, 'Europe/Amsterdam', Date.parse('2026-12-03T00:59:00Z'))).toBe(false);
    expect(isWithinRestartWindow(night, 'Europe/Amsterdam', Date.parse('2026-12-03T01:00:00Z'))).toBe(true);
    expect(nextRestartWindowOpening(night, 'Europe/Amsterdam', Date.parse('2026-03-28T22:00:00Z'))).toBe(Date.parse('2026-03-29T01:00:00Z'));
    expect(nextRestartWindowOpening(night, 'Europe/Amsterdam', Date.parse('2026-10-24T22:00:00Z'))).toBe(Date.parse('2026-10-25T00:00:00Z'));
    expect(nextRestartWindowOpening(night, 'America/New_York', Date.parse('2026-03-08T05:00:00Z'))).toBe(Date.parse('2026-03-08T07:00:00Z'));
    expect(localTimeLabel('Europe/Amsterdam', Date.parse('2026-12-04T01:00:00Z'))).toBe('Fri 4 Dec, 02:00');
  });
});

describe('restart windows at the hub', () => {
  it('outside the window the job may not restart; the held result waits with the window in its reason', async () => {
    const relay = await connectRelay('windowed', 'relay-token-home', true, KEEPS_WINDOWS);
    await drainJobs(relay);
    const id = await push('octo-home/windowed-config', 'held-1');
    const j = await job(relay);
    expect(j).toMatchObject({ jobId: id, mayRestart: false });
    answerHeld(relay, j);
    await relay.next('recorded');
    const d = await deployment('windowed', id);
    expect(d.status).toBe('waiting_for_window');
    expect(d.finishedAt).toBeNull();
    expect(d.summary).toMatchObject({ restartHeld: true, activation: 'restart' });
    expect(d.reason).toMatch(/^needs a restart \(configuration\.yaml: sets up integrations at start-up\); checked by Home Assistant and put back; waits for the restart window \d\d:\d\d-\d\d:\d\d UTC, opens \w{3} \d{1,2} \w{3}, \d\d:\d\d$/);

    const { body: status } = await apiCall('/deployments/windowed/status', 'viewer');
    expect(status.restartWindow).toMatchObject({ timeZone: 'UTC', open: false, relayKeepsWindows: true });
    expect(status.restartWindow.nextOpening).toBeGreaterThan(Date.now());
    expect(status.restartWindow.waiting.map((w: any) => w.id)).toEqual([id]);
    expect(status.queued).toEqual([]);

    const { body: audit } = await apiCall(`/deployments/windowed/audit?action=deploy.waiting_for_window`, 'admin');
    expect(audit.entries.some((e: any) => e.detail.deploymentId === id)).toBe(true);

    // Restart now: queued again and handed over with the restart allowed; audited.
    const { status: code, body } = await apiCall('/deployments/windowed/restart-now', 'operator', { body: { deploymentId: id } });
    expect(code).toBe(202);
    expect(body.deployment.id).toBe(id);
    const again = await job(relay);
    expect(again).toMatchObject({ jobId: id, mayRestart: true, attempt: j.attempt + 1 });
    relay.send({ type: 'ack', jobId: id, attempt: again.attempt });
    relay.send({ type: 'result', jobId: id, status: 'succeeded', reason: null, summary: { filesChanged: ['configuration.yaml'], activation: 'restart' } as never });
    await relay.next('recorded');
    expect((await deployment('windowed', id)).status).toBe('succeeded');
    const { body: restarts } = await apiCall(`/deployments/windowed/audit?action=deploy.restart_now`, 'admin');
    expect(restarts.entries.find((e: any) => e.detail.deploymentId === id)).toMatchObject({ actor: 'otto' });
    relay.close();
  });

  it('restart now is refused for a deployment that does not wait, and needs an operator', async () => {
    const relay = await connectRelay('windowed', 'relay-token-home', true, KEEPS_WINDOWS);
    await drainJobs(relay);
    const id = await push('octo-home/windowed-config', 'not-waiting');
    const j = await job(relay);
    relay.send({ type: 'ack', jobId: id, attempt: j.attempt });
    relay.send({ type: 'result', jobId: id, status: 'succeeded', reason: null, summary: { activation: 'reload' } as never });
    await relay.next('recorded');
    const refused = await apiCall('/deployments/windowed/restart-now', 'operator', { body: { deploymentId: id } });
    expect(refused.status).toBe(409);
    expect(refused.body.error?.code ?? refused.body.code).toBe('not_waiting_for_window');
    expect((await apiCall('/deployments/windowed/restart-now', 'viewer', { body: { deploymentId: id } })).status).toBe(403);
    relay.close();
  });

  it('a newer push supersedes a deployment waiting for the window (the latest wins)', async () => {
    const relay = await connectRelay('windowed', 'relay-token-home', true, KEEPS_WINDOWS);
    await drainJobs(relay);
    const held = await push('octo-home/windowed-config', 'superseded-held');
    answerHeld(relay, await job(relay));
    await relay.next('recorded');
    const newer = await push('octo-home/windowed-config', 'superseded-newer');
    expect(await deployment('windowed', held)).toMatchObject({ status: 'superseded', supersededBy: newer });
    expect(await job(relay)).toMatchObject({ jobId: newer, mayRestart: false });
    relay.close();
  });

  it('a relay without the capability is told nothing (it restarts as before), and the status says the window is not kept', async () => {
    const relay = await connectRelay('windowed', 'relay-token-home', true, ['deploy', 'rollback']);
    await drainJobs(relay);
    const id = await push('octo-home/windowed-config', 'old-relay');
    const j = await job(relay);
    expect(j.jobId).toBe(id);
    expect('mayRestart' in j).toBe(false);
    const { body: status } = await apiCall('/deployments/windowed/status', 'viewer');
    expect(status.restartWindow.relayKeepsWindows).toBe(false);
    relay.send({ type: 'ack', jobId: id, attempt: j.attempt });
    relay.send({ type: 'result', jobId: id, status: 'succeeded', reason: null, summary: {} as never });
    await relay.next('recorded');
    relay.close();
  });

  it('when the window is open the job may restart, and a held one is queued again by the alarm at the opening', async () => {
    const relay = await connectRelay('window-open', 'relay-token-home', true, KEEPS_WINDOWS);
    await drainJobs(relay);
    const id = await push('octo-home/window-open-config', 'open-1');
    const first = await job(relay);
    expect(first).toMatchObject({ jobId: id, mayRestart: true });
    // As if the window had shut while the job was on its way and the relay held the restart: the
    // window is open now, so its opening is due at once and the alarm queues the deployment again.
    answerHeld(relay, first);
    const again = await job(relay);
    expect(again).toMatchObject({ jobId: id, mayRestart: true, attempt: first.attempt + 1 });
    const { body: audit } = await apiCall(`/deployments/window-open/audit?action=deploy.window_opened`, 'admin');
    expect(audit.entries.some((e: any) => e.detail.deploymentId === id)).toBe(true);
    relay.send({ type: 'ack', jobId: id, attempt: again.attempt });
    relay.send({ type: 'result', jobId: id, status: 'succeeded', reason: null, summary: { activation: 'restart' } as never });
    await relay.next('recorded');
    await until('succeeded', () => deployment('window-open', id), (d) => d.status === 'succeeded');
    relay.close();
  });

  it('a rollback is never held: it restores', async () => {
    const relay = await connectRelay('windowed', 'relay-token-home', true, KEEPS_WINDOWS);
    await drainJobs(relay);
    const id = await push('octo-home/windowed-config', 'before-rollback');
    const j = await job(relay);
    relay.send({ type: 'ack', jobId: id, attempt: j.attempt });
    relay.send({ type: 'result', jobId: id, status: 'succeeded', reason: null, summary: { backupId: 'lanyard-20261203T020000Z-01m82e4vg06ns08fd0' } as never });
    await relay.next('recorded');
    const { status, body } = await apiCall('/deployments/windowed/rollback', 'operator', { body: { deploymentId: id } });
    expect(status, JSON.stringify(body)).toBe(202);
    expect(await job(relay)).toMatchObject({ kind: 'rollback', mayRestart: true });
    relay.close();
  });
});
