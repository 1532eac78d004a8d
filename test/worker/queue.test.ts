// The per-target queue in a real TargetHub: one runner, the latest commit wins, concurrency,
// manual deploys and rollbacks through the same queue.
import { describe, expect, it } from 'vitest';
import { ZERO, fakeSha, pushPayload, type PushOptions } from '../support/github-payloads.ts';
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
      relay.send({ type: 'result', jobId: body.deployment.id, status: 'succeeded', reason: null, summary: { backupId: `lanyard-20261122T190500Z-${seed}` } as any });
      return body.deployment.id as string;
    };
    const good = await finish('good-one');
    await finish('newer-one');
    const { status, body } = await apiCall('/deployments/gated/rollback', 'operator', { body: {} });
    expect(status).toBe(202);
    expect(body.deployment).toMatchObject({ kind: 'rollback', trigger: 'rollback', sha: fakeSha('good-one'), rollbackOf: good, status: expect.stringMatching(/queued|dispatched/) });
    const job = await relay.next('job');
    expect(job).toMatchObject({ kind: 'rollback', sha: fakeSha('good-one'), backupId: null });

    const toBackup = await apiCall('/deployments/gated/rollback', 'operator', { body: { backupId: 'lanyard-20261122T190500Z-newer-one' } });
    expect(toBackup.status).toBe(202);
    expect(toBackup.body.deployment).toMatchObject({ restoreBackupId: 'lanyard-20261122T190500Z-newer-one', sha: fakeSha('good-one') });
    expect((await apiCall('/deployments/gated/rollback', 'operator', { body: { backupId: 'lanyard-20261122T190500Z-nope' } })).status).toBe(404);
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

describe('pushes GitHub delivers out of order', () => {
  // A chain of pushes to the cabin branch: push k moves it from commit k-1 to commit k.
  const chain = (name: string, count: number) => {
    const sha = (k: number) => fakeSha(`${name}-${k}`);
    return Array.from({ length: count }, (_, i) => ({
      sha: sha(i + 1),
      deliveryId: crypto.randomUUID(),
      payload: pushPayload({ ref: 'refs/heads/cabin', before: sha(i), after: sha(i + 1), message: `${name} change ${i + 1}` }),
    }));
  };
  const send = (p: { deliveryId: string; payload: ReturnType<typeof pushPayload> }) => deliver({ event: 'push', deliveryId: p.deliveryId, payload: p.payload });
  const sendPush = async (options: PushOptions) => (await deliver({ event: 'push', payload: pushPayload({ ref: 'refs/heads/cabin', ...options }) })).body.deployments[0].deploymentId as string;
  const cabin = async () => {
    const { body: status } = await apiCall('/deployments/cabin/status', 'viewer');
    const { body: history } = await apiCall('/deployments/cabin/history?limit=200', 'viewer');
    const byId: Record<string, any> = Object.fromEntries(history.deployments.map((d: any) => [d.id, d]));
    return { status, byId };
  };

  it('two pushes delivered in reverse: the newer commit is queued and the branch head, the older is recorded superseded', async () => {
    const [older, newer] = chain('reverse-two', 2);
    const first = await send(newer!);
    const late = await send(older!);
    // GitHub hears that both were received.
    expect(first.status).toBe(202);
    expect(late.status).toBe(202);
    expect(late.body.reason).toContain(`a later push (${newer!.sha.slice(0, 7)}) was delivered first`);
    const newerId = first.body.deployments[0].deploymentId;
    const olderId = late.body.deployments[0].deploymentId;
    const { status, byId } = await cabin();
    expect(byId[newerId]).toMatchObject({ sha: newer!.sha, status: 'queued', supersededBy: null });
    expect(byId[olderId]).toMatchObject({
      sha: older!.sha,
      status: 'superseded',
      supersededBy: newerId,
      reason: `a later push (${newer!.sha.slice(0, 7)}) was delivered first`,
      deliveryId: older!.deliveryId,
    });
    expect(status.branchHead).toMatchObject({ sha: newer!.sha, message: 'reverse-two change 2' });
    expect(status.queued.map((d: any) => d.sha)).toEqual([newer!.sha]);

    // The relay is handed the newer commit.
    const relay = await connectRelay('cabin');
    expect(await relay.next('job')).toMatchObject({ jobId: newerId, sha: newer!.sha });
    expect(relay.received.filter((m) => m.type === 'job' && m.sha === older!.sha)).toEqual([]);
    relay.close();

    const { body: audit } = await apiCall('/deployments/cabin/audit?limit=50', 'admin');
    expect(audit.entries.find((e: any) => e.action === 'push.delivered_late' && e.detail.deploymentId === olderId)).toMatchObject({
      detail: { sha: older!.sha, laterPush: newer!.sha, supersededBy: newerId },
    });
  });

  it('three pushes delivered fully in reverse end with the newest commit queued and as the branch head', async () => {
    const pushes = chain('reverse-three', 3);
    const ids: string[] = [];
    for (const p of [...pushes].reverse()) {
      const { status, body } = await send(p);
      expect(status).toBe(202);
      ids.unshift(body.deployments[0].deploymentId);
    }
    const { status, byId } = await cabin();
    expect(byId[ids[2]!]).toMatchObject({ sha: pushes[2]!.sha, status: 'queued' });
    expect(byId[ids[1]!]).toMatchObject({ status: 'superseded', supersededBy: ids[2], reason: `a later push (${pushes[2]!.sha.slice(0, 7)}) was delivered first` });
    expect(byId[ids[0]!]).toMatchObject({ status: 'superseded', supersededBy: ids[1], reason: `a later push (${pushes[1]!.sha.slice(0, 7)}) was delivered first` });
    expect(status.branchHead.sha).toBe(pushes[2]!.sha);
    expect(status.queued.map((d: any) => d.sha)).toEqual([pushes[2]!.sha]);
  });

  it('a redelivery of either push is still a duplicate of its own deployment and changes nothing', async () => {
    const [older, newer] = chain('reverse-redelivered', 2);
    const newerId = (await send(newer!)).body.deployments[0].deploymentId;
    const olderId = (await send(older!)).body.deployments[0].deploymentId;
    for (const [p, id] of [[older!, olderId], [newer!, newerId]] as const) {
      const again = await send(p);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ status: 'duplicate', deployments: [{ target: 'cabin', deploymentId: id }] });
    }
    const { status, byId } = await cabin();
    expect(byId[newerId]).toMatchObject({ status: 'queued' });
    expect(byId[olderId]).toMatchObject({ status: 'superseded', supersededBy: newerId });
    expect(status.branchHead.sha).toBe(newer!.sha);
  });

  it('pushes delivered in order behave as before: each supersedes the queued one and moves the head', async () => {
    const pushes = chain('in-order', 3);
    const ids: string[] = [];
    for (const p of pushes) ids.push((await send(p)).body.deployments[0].deploymentId);
    const { status, byId } = await cabin();
    expect(byId[ids[0]!]).toMatchObject({ status: 'superseded', supersededBy: ids[1], reason: `superseded by ${ids[1]}` });
    expect(byId[ids[1]!]).toMatchObject({ status: 'superseded', supersededBy: ids[2], reason: `superseded by ${ids[2]}` });
    expect(byId[ids[2]!]).toMatchObject({ status: 'queued', supersededBy: null, reason: null });
    expect(status.branchHead.sha).toBe(pushes[2]!.sha);
  });

  it('a force push back to an older commit, delivered in order, deploys that commit', async () => {
    const a = fakeSha('reset-a');
    const b = fakeSha('reset-b');
    await sendPush({ before: fakeSha('reset-base'), after: a });
    await sendPush({ before: a, after: b });
    // `git reset --hard a && git push --force`: the branch was at a before, and moved on from it.
    const reset = await sendPush({ before: b, after: a, forced: true });
    const { status, byId } = await cabin();
    expect(byId[reset]).toMatchObject({ sha: a, status: 'queued' });
    expect(status.branchHead.sha).toBe(a);
    // And pushing b again from there, in order, deploys b again.
    const again = await sendPush({ before: a, after: b });
    const after = await cabin();
    expect(after.byId[again]).toMatchObject({ sha: b, status: 'queued' });
    expect(after.byId[reset]).toMatchObject({ status: 'superseded', supersededBy: again });
    expect(after.status.branchHead.sha).toBe(b);
  });

  it('a force push or a branch creation delivered after the push that followed it is stale', async () => {
    const created = fakeSha('created-x');
    const next = fakeSha('created-y');
    const nextId = await sendPush({ before: created, after: next });
    const createdId = await sendPush({ before: ZERO, after: created, created: true });
    const forced = fakeSha('forced-z');
    const onForced = fakeSha('forced-w');
    const onForcedId = await sendPush({ before: forced, after: onForced });
    const forcedId = await sendPush({ before: next, after: forced, forced: true });
    const { status, byId } = await cabin();
    expect(byId[createdId]).toMatchObject({ status: 'superseded', supersededBy: nextId, reason: `a later push (${next.slice(0, 7)}) was delivered first` });
    expect(byId[forcedId]).toMatchObject({ status: 'superseded', supersededBy: onForcedId });
    expect(byId[onForcedId]).toMatchObject({ status: 'queued' });
    expect(status.branchHead.sha).toBe(onForced);
  });

  // Pushes 1 (A→B), 2 (B→C), 3 (C→D) delivered 3, 1, 2: push 1 looks new when it arrives (nothing
  // seen leaves B yet) and moves the branch back to B; push 2 links B to D, and D deploys.
  const linkedLate = async (name: string) => {
    const pushes = chain(name, 4).slice(1); // moves A→B, B→C, C→D
    const [p1, p2, p3] = pushes as [(typeof pushes)[number], (typeof pushes)[number], (typeof pushes)[number]];
    const id3 = (await send(p3)).body.deployments[0].deploymentId as string;
    const id1 = (await send(p1)).body.deployments[0].deploymentId as string;
    return { p1, p2, p3, id1, id3 };
  };
  const linkAudit = async (to: string) => {
    const { body: audit } = await apiCall('/deployments/cabin/audit?limit=100', 'admin');
    return audit.entries.find((e: any) => e.action === 'push.linked' && e.detail.to === to);
  };

  it('pushes delivered 3, 1, 2 end with the newest commit queued and as the branch head, and the audit says why', async () => {
    const { p1, p2, p3, id1, id3 } = await linkedLate('linked-late');
    const linking = await send(p2);
    expect(linking.status).toBe(202);
    const id2 = linking.body.deployments[0].deploymentId as string;
    const { status, byId } = await cabin();
    expect(status.branchHead).toMatchObject({ sha: p3.sha, message: 'linked-late change 4' });
    expect(status.queued).toHaveLength(1);
    const deployD = status.queued[0];
    expect(deployD).toMatchObject({ sha: p3.sha, trigger: 'push', message: 'linked-late change 4', deliveryId: null });
    expect(deployD.id).not.toBe(id3);
    expect(byId[id1]).toMatchObject({ sha: p1.sha, status: 'superseded', supersededBy: id2 });
    expect(byId[id2]).toMatchObject({ sha: p2.sha, status: 'superseded', supersededBy: deployD.id });
    expect(byId[id3]).toMatchObject({ sha: p3.sha, status: 'superseded', supersededBy: id1 });
    expect(linking.body.reason).toContain(`${p3.sha.slice(0, 7)} deploys instead`);
    expect(await linkAudit(p3.sha)).toMatchObject({
      actor: 'lanyard (late push linked the branch)',
      detail: {
        deploymentId: deployD.id,
        message: `push ${p1.sha.slice(0, 7)}→${p2.sha.slice(0, 7)} linked ${p1.sha.slice(0, 7)} to ${p3.sha.slice(0, 7)}: deploying ${p3.sha.slice(0, 7)}`,
      },
    });
    // The relay is handed D, the newest commit.
    const relay = await connectRelay('cabin');
    expect(await relay.next('job')).toMatchObject({ jobId: deployD.id, sha: p3.sha });
    relay.close();
  });

  it('when the relay already runs the older commit, the newest is queued after it and the older one is not cancelled', async () => {
    const { p1, p2, p3, id1 } = await linkedLate('linked-running');
    const relay = await connectRelay('cabin');
    expect(await relay.next('job')).toMatchObject({ jobId: id1, sha: p1.sha });
    relay.send({ type: 'ack', jobId: id1, attempt: 1 });
    const id2 = (await send(p2)).body.deployments[0].deploymentId as string;
    const { status, byId } = await cabin();
    expect(status.current).toMatchObject({ id: id1, sha: p1.sha, status: 'running' });
    expect(status.queued.map((d: any) => d.sha)).toEqual([p3.sha]);
    expect(byId[id2]).toMatchObject({ status: 'superseded', supersededBy: status.queued[0].id });
    expect(status.branchHead.sha).toBe(p3.sha);
    relay.send({ type: 'result', jobId: id1, status: 'succeeded', reason: null, summary: { filesChanged: [], activation: 'none' } as any });
    expect(await relay.next('job')).toMatchObject({ jobId: status.queued[0].id, sha: p3.sha });
    relay.close();
  });

  it('when the relay already runs the newest commit, the push that links to it deploys nothing again', async () => {
    const [, p1, p2, p3] = chain('linked-newest-running', 4) as [unknown, ReturnType<typeof chain>[number], ReturnType<typeof chain>[number], ReturnType<typeof chain>[number]];
    const id3 = (await send(p3)).body.deployments[0].deploymentId as string;
    const relay = await connectRelay('cabin');
    expect(await relay.next('job')).toMatchObject({ jobId: id3, sha: p3.sha });
    relay.send({ type: 'ack', jobId: id3, attempt: 1 });
    const id1 = (await send(p1)).body.deployments[0].deploymentId as string;
    const id2 = (await send(p2)).body.deployments[0].deploymentId as string;
    const { status, byId } = await cabin();
    expect(status.current).toMatchObject({ id: id3, sha: p3.sha, status: 'running' });
    expect(status.queued).toEqual([]);
    expect(byId[id1]).toMatchObject({ status: 'superseded', supersededBy: id2 });
    expect(byId[id2]).toMatchObject({ status: 'superseded', supersededBy: id3 });
    expect(status.branchHead.sha).toBe(p3.sha);
    expect((await linkAudit(p3.sha)).detail).toMatchObject({ deploymentId: id3, message: expect.stringContaining(`is running as ${id3}`) });
    relay.send({ type: 'result', jobId: id3, status: 'succeeded', reason: null, summary: { filesChanged: [], activation: 'none' } as any });
    relay.close();
  });

  it('a force push cycle delivered out of order repairs nothing and ends', async () => {
    const a = fakeSha('cycle-a');
    const b = fakeSha('cycle-b');
    // Pushed a→b, then reset b→a, then a→b again; delivered reset first.
    const resetId = await sendPush({ before: b, after: a, forced: true });
    const firstId = await sendPush({ before: a, after: b });
    const againId = await sendPush({ before: a, after: b });
    const { status, byId } = await cabin();
    expect(byId[resetId]).toMatchObject({ status: 'superseded', supersededBy: firstId });
    expect(byId[firstId]).toMatchObject({ sha: b, status: 'queued' });
    expect(byId[againId]).toMatchObject({ sha: b, status: 'superseded' });
    expect(status.branchHead.sha).toBe(b);
    expect(await linkAudit(a)).toBeUndefined();
    expect(await linkAudit(b)).toBeUndefined();
    // The next push in order deploys as always.
    const c = fakeSha('cycle-c');
    const nextId = await sendPush({ before: b, after: c });
    const after = await cabin();
    expect(after.byId[nextId]).toMatchObject({ sha: c, status: 'queued' });
    expect(after.status.branchHead.sha).toBe(c);
  });

  it('a target that waits for CI moves its branch head to the newest commit when pushes arrive 3, 1, 2', async () => {
    const sha = (k: number) => fakeSha(`gated-linked-${k}`);
    const push = (k: number) => deliver({ event: 'push', payload: pushPayload({ repo: 'octo-home/gated-config', before: sha(k - 1), after: sha(k), message: `gated linked ${k}` }) });
    for (const k of [3, 1, 2]) expect((await push(k)).status).toBe(202);
    const { body: status } = await apiCall('/deployments/gated/status', 'viewer');
    expect(status.branchHead).toMatchObject({ sha: sha(3), message: 'gated linked 3' });
    // Only the head moves: nothing is queued for these commits.
    expect(status.queued.filter((d: any) => [1, 2, 3].some((k) => d.sha === sha(k)))).toEqual([]);
  });

  it('a target that waits for CI keeps the newer branch head when pushes arrive in reverse', async () => {
    const sha = (k: number) => fakeSha(`gated-reverse-${k}`);
    const push = (k: number) => deliver({ event: 'push', payload: pushPayload({ repo: 'octo-home/gated-config', before: sha(k - 1), after: sha(k), message: `gated ${k}` }) });
    expect((await push(2)).status).toBe(202);
    expect((await push(1)).status).toBe(202);
    const { body: status } = await apiCall('/deployments/gated/status', 'viewer');
    expect(status.branchHead).toMatchObject({ sha: sha(2), message: 'gated 2' });
  });
});
