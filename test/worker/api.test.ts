// The REST API: roles, the one error shape, paging, the audit trail, metrics from a known history.
import { describe, expect, it } from 'vitest';
import { computeMetrics } from '../../shared/metrics.ts';
import { fakeSha, pushPayload } from '../support/github-payloads.ts';
import { apiCall, call, deliver } from './helpers.ts';
import { connectRelay } from './relay-socket.ts';

describe('who may do what', () => {
  it('refuses a call without a token with 401 and the error shape', async () => {
    const { status, body } = await apiCall('/deployments/home/status', null);
    expect(status).toBe(401);
    expect(body).toEqual({ error: { code: 'unauthorized', message: expect.stringMatching(/bearer token/) } });
  });

  it('refuses an unknown token with 401', async () => {
    const response = await call('/api/deployments/home/status', { headers: { Authorization: 'Bearer not-a-known-token-at-all' } });
    expect(response.status).toBe(401);
  });

  it('lets a viewer read but not deploy (403 naming the role)', async () => {
    expect((await apiCall('/deployments/home/history', 'viewer')).status).toBe(200);
    const { status, body } = await apiCall('/deployments/home/deploy', 'viewer', { body: { sha: fakeSha('viewer-try') } });
    expect(status).toBe(403);
    expect(body.error.message).toMatch(/vera is a viewer; this needs the operator role/);
  });

  it('lets only an admin read the audit trail, which names who did what and from where', async () => {
    expect((await apiCall('/deployments/home/audit', 'operator')).status).toBe(403);
    const response = await call('/api/deployments/home/deploy', {
      method: 'POST',
      headers: { Authorization: 'Bearer operator-token-lanyard-test', 'Content-Type': 'application/json', 'CF-Connecting-IP': '127.0.0.1' },
      body: JSON.stringify({ sha: fakeSha('audited') }),
    });
    expect(response.status).toBe(202);
    const { status, body } = await apiCall('/deployments/home/audit', 'admin');
    expect(status).toBe(200);
    expect(body.entries[0]).toMatchObject({ actor: 'otto', action: 'deploy.queued', source: '127.0.0.1', detail: { sha: fakeSha('audited'), trigger: 'manual' } });
  });

  it('lets anyone read a public read-only target, and nobody anonymous write to it', async () => {
    expect((await apiCall('/deployments/cabin/status', null)).status).toBe(200);
    expect((await apiCall('/deployments/cabin/deploy', null, { body: {} })).status).toBe(401);
    const { body } = await apiCall('/targets', null);
    expect(body.targets.map((t: any) => t.name)).toEqual(['cabin']);
  });

  it('answers an unknown target with 404', async () => {
    const { status, body } = await apiCall('/deployments/nowhere/status', 'viewer');
    expect(status).toBe(404);
    expect(body.error).toMatchObject({ code: 'unknown_target', message: 'No target named "nowhere" is configured.' });
  });

  it('deploys a commit given by the start of its sha when the target knows it, and says so when it does not', async () => {
    const sha = fakeSha('short-sha-deploy');
    await deliver({ event: 'push', payload: pushPayload({ ref: 'refs/heads/cabin', after: sha, message: 'Short sha please' }) });
    const short = await apiCall('/deployments/cabin/deploy', 'operator', { body: { sha: ` ${sha.slice(0, 9).toUpperCase()} ` } });
    expect(short.status).toBe(202);
    expect(short.body.deployment).toMatchObject({ sha, trigger: 'manual', message: 'Short sha please' });

    const unknown = await apiCall('/deployments/cabin/deploy', 'operator', { body: { sha: '0123abc' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'unknown_commit' });
    expect(unknown.body.error.message).toMatch(/No commit starting with 0123abc was pushed to cabin or deployed here: give the full 40-character sha/);
    // Two known commits that start alike: the answer names both and asks for more of the sha.
    const twins = ['1', '2'].map((d) => `abcdef0${d.repeat(33)}`);
    for (const twin of twins) expect((await apiCall('/deployments/cabin/deploy', 'operator', { body: { sha: twin } })).status).toBe(202);
    const ambiguous = await apiCall('/deployments/cabin/deploy', 'operator', { body: { sha: 'abcdef0' } });
    expect(ambiguous.status).toBe(409);
    expect(ambiguous.body.error.code).toBe('ambiguous_commit');
    expect(ambiguous.body.error.message).toContain('abcdef0 is the start of 2 commits this target knows (abcdef011111, abcdef022222): give more of the sha.');
    expect((await apiCall('/deployments/cabin/deploy', 'operator', { body: { sha: 'abcdef02' } })).body.deployment.sha).toBe(twins[1]);
    // A full sha the edge never saw is the relay's to check against the branch.
    const full = await apiCall('/deployments/cabin/deploy', 'operator', { body: { sha: fakeSha('never-pushed') } });
    expect(full.status).toBe(202);
  });

  it('answers a malformed request body with 400 naming the field', async () => {
    const { status, body } = await apiCall('/deployments/home/deploy', 'operator', { body: { sha: 'main' } });
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/sha: a commit sha: 7 to 40 hex digits/);
    const both = await apiCall('/deployments/home/rollback', 'operator', { body: { deploymentId: 'dep_01m82e4vg06ns08fd0', backupId: 'lanyard-20261122T190500Z-01m82e4vg06ns08fd0' } });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toMatch(/give deploymentId or backupId, not both/);
  });
});

describe('history and metrics', () => {
  it('pages history newest first and filters by status', async () => {
    for (const seed of ['page-1', 'page-2', 'page-3']) {
      await deliver({ event: 'push', payload: pushPayload({ after: fakeSha(seed), ref: 'refs/heads/cabin' }) });
    }
    const first = await apiCall('/deployments/cabin/history?limit=2', 'viewer');
    expect(first.body.deployments.map((d: any) => d.sha)).toEqual([fakeSha('page-3'), fakeSha('page-2')]);
    const second = await apiCall(`/deployments/cabin/history?limit=2&before=${first.body.next}`, 'viewer');
    expect(second.body.deployments[0].sha).toBe(fakeSha('page-1'));
    const superseded = await apiCall('/deployments/cabin/history?status=superseded', 'viewer');
    expect(superseded.body.deployments.every((d: any) => d.status === 'superseded')).toBe(true);
    expect(superseded.body.deployments.length).toBeGreaterThanOrEqual(2);
  });

  it('computes metrics from the history the relay reported', async () => {
    const relay = await connectRelay('gated', 'gated-relay-token');
    const outcomes = ['succeeded', 'failed', 'rolled_back', 'succeeded', 'succeeded'] as const;
    for (const [i, outcome] of outcomes.entries()) {
      const { body } = await apiCall('/deployments/gated/deploy', 'operator', { body: { sha: fakeSha(`metrics-${i}`) } });
      const job = await relay.next('job');
      expect(job).toMatchObject({ jobId: body.deployment.id });
      relay.send({ type: 'ack', jobId: body.deployment.id, attempt: 1 });
      relay.send({ type: 'progress', jobId: body.deployment.id, step: 'apply', status: 'succeeded', message: 'wrote 1 file', at: Date.now(), durationMs: 12 });
      await new Promise((r) => setTimeout(r, 5 + i * 3));
      relay.send({ type: 'result', jobId: body.deployment.id, status: outcome, reason: outcome === 'succeeded' ? null : 'check_config said invalid', summary: {} as any });
    }
    await new Promise((r) => setTimeout(r, 100));
    const history = await apiCall('/deployments/gated/history?limit=200', 'viewer');
    const { status, body: metrics } = await apiCall('/deployments/gated/metrics', 'viewer');
    expect(status).toBe(200);
    expect(metrics).toEqual(computeMetrics(history.body.deployments, Date.now(), 7));
    expect(metrics.failed).toBeGreaterThanOrEqual(1);
    expect(metrics.rolledBack).toBeGreaterThanOrEqual(1);
    expect(metrics.meanTimeToRecoveryMs).toBeGreaterThan(0);
    expect(metrics.perDay).toHaveLength(7);
    const logs = await apiCall(`/deployments/gated/logs?deploymentId=${history.body.deployments[0].id}`, 'viewer');
    expect(logs.body.steps).toEqual([expect.objectContaining({ step: 'apply', status: 'succeeded', message: 'wrote 1 file', durationMs: 12 })]);
    relay.close();
  });
});
