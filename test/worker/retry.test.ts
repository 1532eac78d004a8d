// Trying a failed deploy again, in workerd: once the owner has changed what stopped it (a line in
// the relay's relay.yaml, a folder's permissions), the same commit goes through the pipeline again
// from the API or the status page. GitHub's "Redeliver" answers `duplicate`, so this is the door.
import { describe, expect, it } from 'vitest';
import { fakeSha } from '../support/github-payloads.ts';
import { apiCall, call, TOKENS } from './helpers.ts';
import { connectRelay, drainJobs, type TestRelay } from './relay-socket.ts';
import { csrfIn, post, signIn } from './status-page.ts';

const TARGET = 'home';
const REFUSED = "plan: www/x is a symlink to ../.storage, which reaches .storage, Home Assistant's own state; fix: add `- 'www/x'` to `exclude:` in lanyard.yaml";

/** Deploys `seed`'s commit through the API and lets the relay end it as `status`. */
async function deployEnding(relay: TestRelay, seed: string, status: 'succeeded' | 'failed' | 'rolled_back', reason: string | null = null): Promise<string> {
  const { body } = await apiCall(`/deployments/${TARGET}/deploy`, 'operator', { body: { sha: fakeSha(seed) } });
  const job = await relay.next('job');
  if (job.type !== 'job') throw new Error('expected a job');
  expect(job.jobId).toBe(body.deployment.id);
  relay.send({ type: 'ack', jobId: job.jobId, attempt: job.attempt });
  relay.send({ type: 'result', jobId: job.jobId, status, reason, summary: {} as never });
  await relay.next('recorded');
  return job.jobId;
}

describe('trying a failed deploy again', () => {
  it('queues the same commit as a new deployment, hands it to the relay, and audits which one it retries', async () => {
    const relay = await connectRelay(TARGET);
    await drainJobs(relay);
    const older = await deployEnding(relay, 'retry-older', 'failed', 'check: Home Assistant says the configuration is invalid');
    const refused = await deployEnding(relay, 'retry-refused', 'failed', REFUSED);

    const retried = await apiCall(`/deployments/${TARGET}/retry`, 'operator', { body: { deploymentId: refused } });
    expect(retried.status).toBe(202);
    expect(retried.body.deployment).toMatchObject({ sha: fakeSha('retry-refused'), kind: 'deploy', trigger: 'retry', actor: 'otto', status: expect.stringMatching(/queued|dispatched/) });
    const job = await relay.next('job');
    expect(job).toMatchObject({ type: 'job', jobId: retried.body.deployment.id, sha: fakeSha('retry-refused') });
    const trail = (await apiCall(`/deployments/${TARGET}/audit?action=deploy.retried`, 'admin')).body.entries;
    expect(trail[0]).toMatchObject({ actor: 'otto', detail: { deploymentId: retried.body.deployment.id, retryOf: refused, sha: fakeSha('retry-refused') } });

    // The older failure is history now: a newer deployment says what the house should run.
    const stale = await apiCall(`/deployments/${TARGET}/retry`, 'operator', { body: { deploymentId: older } });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({ code: 'not_newest' });
    expect(stale.body.error.message).toContain(`came after ${older}`);
    relay.send({ type: 'ack', jobId: retried.body.deployment.id, attempt: 1 });
    relay.send({ type: 'result', jobId: retried.body.deployment.id, status: 'succeeded', reason: null, summary: {} as never });
    await relay.next('recorded');

    // A success needs no second go; a viewer may not ask; an unknown id is not found.
    const again = await apiCall(`/deployments/${TARGET}/retry`, 'operator', { body: { deploymentId: retried.body.deployment.id } });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'not_retryable' });
    expect((await apiCall(`/deployments/${TARGET}/retry`, 'viewer', { body: { deploymentId: refused } })).status).toBe(403);
    expect((await apiCall(`/deployments/${TARGET}/retry`, 'operator', { body: { deploymentId: 'dep_00000000000000000000' } })).status).toBe(404);
    expect((await apiCall(`/deployments/${TARGET}/retry`, 'operator', { body: { deploymentId: '../x' } })).status).toBe(400);
    relay.close();
  });

  it('is offered on the status page for the newest failed deploy only, named before it is done, and queues it', async () => {
    const relay = await connectRelay(TARGET);
    await drainJobs(relay);
    const refused = await deployEnding(relay, 'retry-page', 'rolled_back', REFUSED);
    const otto = await signIn(TOKENS.operator);
    const page = await (await call(`/targets/${TARGET}?deployment=${refused}`, { headers: { Cookie: otto.cookie } })).text();
    const href = `/targets/${TARGET}/retry?deploymentId=${refused}`;
    expect(page).toContain(`href="${href}"`);
    expect(page).toContain(`Try ${fakeSha('retry-page').slice(0, 7)} again`);
    const vera = await signIn(TOKENS.viewer);
    expect(await (await call(`/targets/${TARGET}?deployment=${refused}`, { headers: { Cookie: vera.cookie } })).text()).not.toContain('data-action="retry"');

    const confirm = await (await call(href, { headers: { Cookie: otto.cookie } })).text();
    expect(confirm).toContain(`Deploy ${refused} (${fakeSha('retry-page').slice(0, 7)}) to ${TARGET} again?`);
    expect(confirm).toContain('It ended rolled_back: plan: www/x is a symlink');
    const done = await post(`/targets/${TARGET}/retry`, otto, { deploymentId: refused, csrf: csrfIn(confirm) });
    expect(done.status).toBe(303);
    const job = await relay.next('job');
    expect(job).toMatchObject({ type: 'job', sha: fakeSha('retry-page') });
    if (job.type !== 'job') throw new Error('expected a job');
    expect(done.headers.get('Location')).toBe(`/targets/${TARGET}?deployment=${job.jobId}`);
    // The page of the older one no longer offers it: the retry is the newest now.
    expect(await (await call(`/targets/${TARGET}?deployment=${refused}`, { headers: { Cookie: otto.cookie } })).text()).not.toContain('data-action="retry"');
    relay.send({ type: 'result', jobId: job.jobId, status: 'succeeded', reason: null, summary: {} as never });
    await relay.next('recorded');
    relay.close();
  });
});
