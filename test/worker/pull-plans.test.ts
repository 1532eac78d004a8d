// Pull-request plans at the edge, in workerd (issue 20): which `pull_request` deliveries queue a
// plan, forks recorded and never planned, latest head wins, closed pull requests dropped, and what
// each kind of plan says on GitHub (plan-report.ts). The relay's side and GitHub's are in
// test/e2e/pull-request-plan.test.ts.
import { describe, expect, it } from 'vitest';
import { planReport } from '../../worker/outward/plan-report.ts';
import type { PullPlanView } from '../../worker/hub/pull-plan-store.ts';
import type { PlannedMessage } from '../../shared/pull-plan.ts';
import { pullRequestPayload, type PullRequestDelivery } from '../support/pull-request-payload.ts';
import { apiCall, call, deliver, ledgerEntry, TOKENS } from './helpers.ts';
import { signIn } from './status-page.ts';
import { connectRelay, drainJobs } from './relay-socket.ts';
import { fakeSha, pushPayload } from '../support/github-payloads.ts';

const sha = (n: number) => n.toString(16).padStart(40, 'a');

async function pull(p: PullRequestDelivery) {
  const deliveryId = crypto.randomUUID();
  const answer = await deliver({ event: 'pull_request', payload: pullRequestPayload(p), deliveryId });
  return { ...answer, deliveryId };
}

async function openPlans(): Promise<PullPlanView[]> {
  const { status, body } = await apiCall('/deployments/home/pull-plans', 'viewer');
  expect(status).toBe(200);
  return body.plans;
}

describe('pull_request deliveries', () => {
  it('queue a plan for a same-repository pull request into the target\'s branch, recorded in the ledger', async () => {
    const { status, body, deliveryId } = await pull({ action: 'opened', number: 101, headSha: sha(101) });
    expect(status).toBe(202);
    expect(body.status).toBe('enqueued');
    expect(body.plans).toEqual([{ target: 'home', planId: expect.stringMatching(/^pln_[0-9a-z]{18}$/) }]);
    // `cabin` deploys another branch of the same repository: not planned there.
    expect(body.reason).toMatch(/cabin: pull request #101 merges into main, but cabin deploys cabin/);
    expect(await ledgerEntry(deliveryId)).toMatchObject({ event: 'pull_request', action: 'opened', verdict: 'enqueued', sha: sha(101) });
    expect((await openPlans()).find((p) => p.pullNumber === 101)).toMatchObject({ status: 'queued', headSha: sha(101), baseBranch: 'main' });
    // The same head again is the same plan.
    const again = await pull({ action: 'reopened', number: 101, headSha: sha(101) });
    expect(again.body.status).toBe('duplicate');
  });

  it('record a fork\'s pull request without planning it', async () => {
    const { status, body } = await pull({ action: 'opened', number: 102, headSha: sha(102), headRepo: 'mallory/ha-config' });
    expect(status).toBe(200);
    expect(body.status).toBe('ignored');
    expect(body.reason).toMatch(/comes from a fork \(mallory\/ha-config\): not fetched or planned/);
    expect((await openPlans()).find((p) => p.pullNumber === 102)).toMatchObject({ status: 'fork', headRepo: 'mallory/ha-config' });
    // A deleted fork: GitHub gives no head repository at all.
    const gone = await pull({ action: 'synchronize', number: 103, headSha: sha(103), headRepo: null });
    expect(gone.body.status).toBe('ignored');
    expect((await openPlans()).find((p) => p.pullNumber === 103)).toMatchObject({ status: 'fork', headRepo: null });
  });

  it('keep only the newest head of a pull request, and drop a closed one', async () => {
    await pull({ action: 'opened', number: 104, headSha: sha(1041) });
    await pull({ action: 'synchronize', number: 104, headSha: sha(1042) });
    const plans = (await openPlans()).filter((p) => p.pullNumber === 104);
    expect(plans).toHaveLength(1);
    expect(plans[0]).toMatchObject({ headSha: sha(1042), status: 'queued' });
    const closed = await pull({ action: 'closed', number: 104, headSha: sha(1042) });
    expect(closed.body.status).toBe('ignored');
    expect((await openPlans()).some((p) => p.pullNumber === 104)).toBe(false);
  });

  it('ignore other actions and other branches, and refuse a payload GitHub would not send', async () => {
    expect((await pull({ action: 'edited', number: 105, headSha: sha(105) })).body.reason).toMatch(/only opened, synchronize, reopened and closed/);
    expect((await pull({ action: 'opened', number: 106, headSha: sha(106), baseRef: 'develop' })).body.status).toBe('ignored');
    const bad = await deliver({ event: 'pull_request', payload: pullRequestPayload({ action: 'opened', number: 107, headSha: 'HEAD' }) });
    expect(bad.status).toBe(400);
  });
});

/** Answers the plans earlier tests left queued, so a test starts with the relay free. */
async function drainPlans(relay: Awaited<ReturnType<typeof connectRelay>>): Promise<void> {
  for (let plan = await relay.next('plan', 500).catch(() => null); plan && plan.type === 'plan'; plan = await relay.next('plan', 500).catch(() => null)) {
    relay.send({
      type: 'planned', planId: plan.planId, outcome: 'failed', reason: 'drained by the test', toWrite: [], toWriteCount: 0, toDelete: [], toDeleteCount: 0,
      activation: 'none', activationReasons: [], reloadDomains: [], conflicts: [], conflictsCount: 0, merged: [], refusals: [], refusalsCount: 0, at: Date.now(),
    });
  }
}

describe('turns at the relay', () => {
  it('a deploy waits only for the plan with the relay, and a plan waits for the deploy', async () => {
    const relay = await connectRelay('home', 'relay-token-home', true, ['deploy', 'rollback', 'pull-plans']);
    await drainJobs(relay);
    await drainPlans(relay);
    await pull({ action: 'opened', number: 120, headSha: sha(120) });
    const plan = await relay.next('plan');
    expect(plan).toMatchObject({ type: 'plan', target: 'home', pullNumber: 120, headSha: sha(120), baseBranch: 'main' });
    expect(Object.keys(plan).sort()).toEqual(['baseBranch', 'headSha', 'planId', 'pullNumber', 'target', 'type']);
    // A push while the plan is with the relay: queued, and sent once the plan is answered.
    const pushed = await deliver({ event: 'push', payload: pushPayload({ after: fakeSha('while-planning') }) });
    expect(pushed.status).toBe(202);
    await expect(relay.next('job', 400)).rejects.toThrow(/no job message/);
    const planId = (plan as { planId: string }).planId;
    relay.send({
      type: 'planned', planId, outcome: 'planned', reason: null, toWrite: ['groups.yaml'], toWriteCount: 1, toDelete: [], toDeleteCount: 0,
      activation: 'reload', activationReasons: [], reloadDomains: ['group'], conflicts: [], conflictsCount: 0, merged: [], refusals: [], refusalsCount: 0, at: Date.now(),
    });
    const job = await relay.next('job');
    expect(job).toMatchObject({ sha: fakeSha('while-planning') });
    expect((await openPlans()).find((p) => p.pullNumber === 120)).toMatchObject({ status: 'planned', result: { toWrite: ['groups.yaml'] } });
    // A pull request while the deploy runs: its plan waits for the deploy's result.
    await pull({ action: 'opened', number: 121, headSha: sha(121) });
    await expect(relay.next('plan', 400)).rejects.toThrow(/no plan message/);
    relay.send({ type: 'result', jobId: (job as { jobId: string }).jobId, status: 'succeeded', reason: null, summary: {} as never });
    expect(await relay.next('plan')).toMatchObject({ pullNumber: 121 });
    relay.close();
  });

  it('a relay without pull-plans gets no plan, and the plan says to upgrade it', async () => {
    const relay = await connectRelay('home');
    await drainJobs(relay);
    await pull({ action: 'opened', number: 122, headSha: sha(122) });
    await expect(relay.next('plan', 400)).rejects.toThrow(/no plan message/);
    expect((await openPlans()).find((p) => p.pullNumber === 122)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/does not plan pull requests.*upgrade it/) });
    relay.close();
  });
});

describe('the status page', () => {
  it('lists the open pull requests\' plans, a fork\'s as not planned', async () => {
    await pull({ action: 'opened', number: 110, headSha: sha(110), title: 'Porch lights' });
    await pull({ action: 'opened', number: 111, headSha: sha(111), headRepo: 'mallory/ha-config', title: 'Free lights' });
    const signed = await signIn(TOKENS.viewer);
    const page = await (await call('/targets/home', { headers: { Cookie: signed.cookie } })).text();
    expect(page).toContain('Pull request plans');
    expect(page).toMatch(/data-pull="110" data-status="queued"/);
    expect(page).toContain('#110 Porch lights');
    expect(page).toMatch(/data-pull="111" data-status="fork"/);
    expect(page).toContain('fork: not planned');
  });
});

describe('what a plan says on GitHub', () => {
  const base: PullPlanView = {
    id: 'pln_0000000000000000000a', pullNumber: 9, headSha: sha(9), baseBranch: 'main', headRepo: 'octo-home/ha-config', title: 't', author: 'ada',
    status: 'planned', requestedAt: 0, sentAt: 0, finishedAt: 0, result: null, reason: null, open: true,
  };
  const result = (over: Partial<PlannedMessage>): PlannedMessage => ({
    type: 'planned', planId: base.id, outcome: 'planned', reason: null, toWrite: ['groups.yaml'], toWriteCount: 1, toDelete: [], toDeleteCount: 0,
    activation: 'reload', activationReasons: [{ path: 'groups.yaml', need: 'reload:group', why: 'groups reload without a restart' }], reloadDomains: ['group'],
    conflicts: [], conflictsCount: 0, merged: [], refusals: [], refusalsCount: 0, at: 0, ...over,
  });

  it('gives each outcome its conclusion and its commit status', () => {
    const cases: [Partial<PlannedMessage>, string, string][] = [
      [{}, 'success', 'success'],
      [{ activation: 'none', reloadDomains: [], activationReasons: [] }, 'success', 'success'],
      [{ activation: 'restart', reloadDomains: [], activationReasons: [{ path: 'packages/a.yaml', need: 'restart', why: 'a package' }] }, 'neutral', 'success'],
      [{ conflicts: [{ path: 'groups.yaml', why: 'edited on the host' }], conflictsCount: 1 }, 'failure', 'failure'],
      [{ outcome: 'refused', reason: 'unsafe', refusals: [{ path: 'x', problem: 'x leaves the folder; fix: remove it' }], refusalsCount: 1 }, 'failure', 'failure'],
      [{ outcome: 'failed', reason: 'git failed' }, 'neutral', 'error'],
    ];
    for (const [over, conclusion, state] of cases) {
      const report = planReport('home', { ...base, status: over.outcome ?? 'planned', result: result(over) });
      expect([report.conclusion, report.statusState]).toEqual([conclusion, state]);
      expect(report.statusLine.length).toBeGreaterThan(0);
    }
    expect(planReport('home', { ...base, status: 'fork' })).toMatchObject({ conclusion: 'neutral', statusState: 'error', title: 'Not planned: the pull request comes from a fork' });
    expect(planReport('home', { ...base, status: 'queued' })).toMatchObject({ status: 'queued', conclusion: null, statusState: 'pending' });
  });
});
