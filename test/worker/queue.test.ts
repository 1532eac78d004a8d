// The per-target queue in a real TargetHub: one runner, the latest commit wins, concurrency,
// manual deploys and rollbacks through the same queue.
import { describe, expect, it } from 'vitest';
import { fakeSha, pushPayload } from '../support/github-payloads.ts';
import { apiCall, deliver } from './helpers.ts';
import { connectRelay } from './relay-socket.ts';

async function push(seed: string, target: { repo?: string; ref?: string } = {}) {
  const { body } = await deliver({ event: 'push', payload: pushPayload({ after: fakeSha(seed), message: `commit ${seed}`, ...target }) });
  return body.deployments[0].deploymentId as string;
}

describe('the queue of one target', () => {
  it('a newer commit supersedes queued ones and says by which', async () => {
    const first = await push('s1', { ref: 'refs/heads/cabin' });
    const second = await push('s2', { ref: 'refs/heads/cabin' });
    const third = await push('s3', { ref: 'refs/heads/cabin' });
    const { body } = await apiCall('/deployments/cabin/history', 'viewer');
    const byId = Object.fromEntries(body.deployments.map((d: any) => [d.id, d]));
    expect(byId[first]).toMatchObject({ status: 'superseded', supersededBy: second, reason: `superseded by ${second}` });
    expect(byId[second]).toMatchObject({ status: 'superseded', supersededBy: third });
    expect(byId[third]).toMatchObject({ status: 'queued', supersededBy: null });
  });

  it('many deliveries at once for one target keep one runner and lose none', async () => {
    const relay = await connectRelay('home');
    const seeds = Array.from({ length: 25 }, (_, i) => `burst-${i}`);
    const results = await Promise.all(seeds.map((s) => deliver({ event: 'push', payload: pushPayload({ after: fakeSha(s) }) })));
    expect(results.every((r) => r.status === 202)).toBe(true);
    const ids = new Set(results.map((r) => r.body.deployments[0].deploymentId));
    expect(ids.size).toBe(25);

    const { body } = await apiCall('/deployments/home/history?limit=200', 'viewer');
    const mine = body.deployments.filter((d: any) => ids.has(d.id));
    expect(mine).toHaveLength(25);
    const active = mine.filter((d: any) => d.status === 'dispatched' || d.status === 'running');
    const queued = mine.filter((d: any) => d.status === 'queued');
    // One job handed to the relay, at most one waiting (the latest), the rest superseded.
    expect(active.length).toBe(1);
    expect(queued.length).toBeLessThanOrEqual(1);
    expect(mine.filter((d: any) => d.status === 'superseded').length).toBe(25 - active.length - queued.length);
    const jobs = relay.received.filter((m) => m.type === 'job');
    expect(jobs).toHaveLength(1);
    relay.close();
  });

  it('runs the next job only after the relay reports the running one', async () => {
    // Pushed before the relay connects, so it also supersedes what earlier tests left queued.
    const a = await push('one-at-a-time-a', { ref: 'refs/heads/cabin' });
    const relay = await connectRelay('cabin');
    const jobA = await relay.next('job');
    expect(jobA).toMatchObject({ jobId: a, sha: fakeSha('one-at-a-time-a') });
    relay.send({ type: 'ack', jobId: a, attempt: 1 });
    const b = await push('one-at-a-time-b', { ref: 'refs/heads/cabin' });
    await new Promise((r) => setTimeout(r, 100));
    expect(relay.received.filter((m) => m.type === 'job')).toHaveLength(1);
    relay.send({ type: 'result', jobId: a, status: 'succeeded', reason: null, summary: { filesChanged: ['automations.yaml'], activation: 'reload' } as any });
    const jobB = await relay.next('job');
    expect(jobB).toMatchObject({ jobId: b });
    relay.close();
  });
});

describe('manual deploys and rollbacks', () => {
  it('a manual deploy without a sha deploys the branch head most recently pushed', async () => {
    await deliver({ event: 'push', payload: pushPayload({ after: fakeSha('head-for-manual'), ref: 'refs/heads/cabin', message: 'Garden lights' }) });
    const { status, body } = await apiCall('/deployments/cabin/deploy', 'operator', { body: {} });
    expect(status).toBe(202);
    expect(body.deployment).toMatchObject({ sha: fakeSha('head-for-manual'), trigger: 'manual', actor: 'otto', message: 'Garden lights' });
  });

  it('a manual deploy with no known branch head asks for a sha', async () => {
    const { status, body } = await apiCall('/deployments/dispatched/deploy', 'operator', { body: {} });
    expect(status).toBe(409);
    expect(body.error.code).toBe('no_commit');
  });

  it('a rollback with nothing to roll back to is a 409', async () => {
    const { status, body } = await apiCall('/deployments/gated/rollback', 'operator', { body: {} });
    expect(status).toBe(409);
    expect(body.error).toMatchObject({ code: 'nothing_to_roll_back_to' });
  });

  it('a rollback goes to the last good deployment before the current one, through the queue', async () => {
    const relay = await connectRelay('gated', 'gated-relay-token');
    const finish = async (seed: string) => {
      const { body } = await apiCall('/deployments/gated/deploy', 'operator', { body: { sha: fakeSha(seed) } });
      const job = await relay.next('job');
      expect(job).toMatchObject({ jobId: body.deployment.id });
      relay.send({ type: 'result', jobId: body.deployment.id, status: 'succeeded', reason: null, summary: { backupId: `bk-${seed}` } as any });
      return body.deployment.id as string;
    };
    const good = await finish('good-one');
    await finish('newer-one');
    const { status, body } = await apiCall('/deployments/gated/rollback', 'operator', { body: {} });
    expect(status).toBe(202);
    expect(body.deployment).toMatchObject({ kind: 'rollback', trigger: 'rollback', sha: fakeSha('good-one'), rollbackOf: good, status: expect.stringMatching(/queued|dispatched/) });
    const job = await relay.next('job');
    expect(job).toMatchObject({ kind: 'rollback', sha: fakeSha('good-one'), backupId: null });

    const toBackup = await apiCall('/deployments/gated/rollback', 'operator', { body: { backupId: 'bk-newer-one' } });
    expect(toBackup.status).toBe(202);
    expect(toBackup.body.deployment).toMatchObject({ restoreBackupId: 'bk-newer-one', sha: fakeSha('good-one') });
    expect((await apiCall('/deployments/gated/rollback', 'operator', { body: { backupId: 'bk-nope' } })).status).toBe(404);
    relay.close();
  });

  it('cancels a queued deployment and refuses to cancel one that is not queued', async () => {
    const { body } = await apiCall('/deployments/dispatched/deploy', 'operator', { body: { sha: fakeSha('to-cancel') } });
    const cancelled = await apiCall('/deployments/dispatched/cancel', 'operator', { body: { deploymentId: body.deployment.id } });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.deployment).toMatchObject({ status: 'cancelled', reason: 'cancelled by otto' });
    const again = await apiCall('/deployments/dispatched/cancel', 'operator', { body: { deploymentId: body.deployment.id } });
    expect(again.status).toBe(409);
  });
});
