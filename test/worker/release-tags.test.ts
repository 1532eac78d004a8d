// Release tags in workerd (issue 18): a target with `{ type: "tag", pattern: "v*" }` deploys pushed
// tags in semantic-version order, through the real webhook, hub, relay channel and API. A lower or
// non-semver tag is recorded as ignored with the reason (delivery ledger, audit `tag.ignored`); an
// operator may deploy or roll back to any tag seen; GitHub's deployment carries the tag as its ref.
import { afterEach, describe, expect, it } from 'vitest';
import type { DeploymentView } from '../../shared/api.ts';
import type { JobMessage } from '../../shared/protocol.ts';
import { loadTargets } from '../../worker/config/targets.ts';
import { announcementsFor, type Change } from '../../worker/outward/announcements.ts';
import { fakeSha, pushPayload } from '../support/github-payloads.ts';
import { apiCall, call, deliver, ledgerEntry, TOKENS } from './helpers.ts';
import { connectRelay, drainJobs, type TestRelay } from './relay-socket.ts';
import { signIn } from './status-page.ts';

const REPO = 'octo-home/release-config';
let relay: TestRelay | null = null;

afterEach(() => {
  relay?.close();
  relay = null;
});

/** GitHub's push of a tag: for an annotated tag `after` is the tag object, `head_commit` the commit. */
function tagPush(tag: string, commit: string, kind: 'annotated' | 'lightweight' = 'annotated') {
  const payload = pushPayload({ repo: REPO, ref: `refs/tags/${tag}`, after: commit, created: true, before: '0'.repeat(40), message: `Release ${tag}` });
  return kind === 'annotated' ? { ...payload, after: fakeSha(`tag-object-${tag}`) } : payload;
}

async function pushTag(tag: string, commit: string, kind: 'annotated' | 'lightweight' = 'annotated') {
  const deliveryId = crypto.randomUUID();
  const answer = await deliver({ event: 'push', payload: tagPush(tag, commit, kind), deliveryId });
  return { ...answer, deliveryId };
}

async function relayFor(): Promise<TestRelay> {
  relay = await connectRelay('releases', 'relay-token-home', true, ['deploy', 'rollback', 'release-tags']);
  await drainJobs(relay);
  return relay;
}

/** The relay takes the next job and reports it succeeded. */
async function succeedNext(r: TestRelay): Promise<JobMessage> {
  const job = (await r.next('job')) as JobMessage;
  r.send({ type: 'result', jobId: job.jobId, status: 'succeeded', reason: null, summary: {} as never });
  await r.next('recorded');
  return job;
}

describe('pushed release tags', () => {
  it('an annotated tag deploys its commit (not the tag object) with the tag as the ref; a lower one is ignored with the reason', async () => {
    const r = await relayFor();
    const commit = fakeSha('release-1.0.0');
    const pushed = await pushTag('v1.0.0', commit);
    expect(pushed.status).toBe(202);
    expect(pushed.body.status).toBe('enqueued');
    const job = await succeedNext(r);
    expect(job).toMatchObject({ sha: commit, ref: 'refs/tags/v1.0.0', kind: 'deploy' });
    expect(JSON.stringify(job)).not.toContain(fakeSha('tag-object-v1.0.0'));

    const lower = await pushTag('v0.9.0', fakeSha('release-0.9.0'));
    expect(lower.status).toBe(202);
    expect(lower.body.status).toBe('ignored');
    expect(lower.body.reason).toMatch(/tag v0\.9\.0 \(0\.9\.0\) is lower than v1\.0\.0, deployed as dep_\w+; not deployed on push/);
    // Where ignored deliveries are shown: the ledger (and the deliveries page reading it).
    expect(await ledgerEntry(lower.deliveryId)).toMatchObject({ verdict: 'ignored', ref: 'refs/tags/v0.9.0', sha: fakeSha('release-0.9.0') });
    const { body: audit } = await apiCall('/deployments/releases/audit?action=tag.ignored', 'admin');
    expect(audit.entries[0]).toMatchObject({ action: 'tag.ignored', detail: { tag: 'v0.9.0', sha: fakeSha('release-0.9.0'), deliveryId: lower.deliveryId } });
    expect(audit.entries[0].detail.reason).toMatch(/lower than v1\.0\.0/);
    const { body: history } = await apiCall('/deployments/releases/history', 'viewer');
    expect(history.deployments.some((d: DeploymentView) => d.ref === 'refs/tags/v0.9.0')).toBe(false);
  });

  it('orders by semantic version: v2.10.0 deploys after v2.9.0, v2.10.0-rc.1 and a non-semver tag do not', async () => {
    const r = await relayFor();
    expect((await pushTag('v2.9.0', fakeSha('2.9.0'), 'lightweight')).body.status).toBe('enqueued');
    expect((await succeedNext(r)).ref).toBe('refs/tags/v2.9.0');
    expect((await pushTag('v2.10.0', fakeSha('2.10.0'))).body.status).toBe('enqueued');
    expect((await succeedNext(r)).sha).toBe(fakeSha('2.10.0'));
    const rc = await pushTag('v2.10.0-rc.1', fakeSha('2.10.0-rc.1'));
    expect(rc.body).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/v2\.10\.0-rc\.1 \(2\.10\.0-rc\.1\) is lower than v2\.10\.0/) });
    const notSemver = await pushTag('v2024-06-01', fakeSha('dated'));
    expect(notSemver.body).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/tag "v2024-06-01" is not a semantic version.*an operator may still deploy it/) });
  });

  it('a lower tag pushed while a higher one is queued never supersedes it', async () => {
    // No relay: both stay queued.
    expect((await pushTag('v3.1.0', fakeSha('3.1.0'))).body.status).toBe('enqueued');
    const lower = await pushTag('v3.0.5', fakeSha('3.0.5'));
    expect(lower.body).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/lower than v3\.1\.0, queued as dep_/) });
    const { body } = await apiCall('/deployments/releases/history?status=queued', 'viewer');
    expect(body.deployments.map((d: DeploymentView) => d.ref)).toContain('refs/tags/v3.1.0');
  });

  it('tag deletions, tags not matching v*, and pushes to the branch deploy nothing, each saying why', async () => {
    const deleted = await deliver({ event: 'push', payload: pushPayload({ repo: REPO, ref: 'refs/tags/v9.0.0', deleted: true }) });
    expect(deleted.body).toMatchObject({ status: 'ignored', reason: 'tag v9.0.0 was deleted; a deletion deploys nothing (releases stays as it is)' });
    const other = await deliver({ event: 'push', payload: tagPush('release-9', fakeSha('r9')) });
    expect(other.body).toMatchObject({ status: 'ignored', reason: 'tag release-9 does not match "v*", the tags releases deploys' });
    const branch = await deliver({ event: 'push', payload: pushPayload({ repo: REPO, ref: 'refs/heads/main', after: fakeSha('main-head') }) });
    expect(branch.body).toMatchObject({ status: 'ignored', reason: 'releases deploys tags v*, not pushes to main: push a matching tag to deploy this commit' });
  });

  it('a tag push to a repository whose targets deploy branches is still ignored as before', async () => {
    const { body } = await deliver({ event: 'push', payload: pushPayload({ ref: 'refs/tags/v1.0' }) });
    expect(body).toMatchObject({ status: 'ignored', reason: 'tag push (v1.0); only branch pushes deploy' });
  });
});

describe('deploy {tag} and rollback {tag}', () => {
  it('an operator deploys a tag lower than the one deployed; the relay gets the tag as the ref', async () => {
    const r = await relayFor();
    expect((await pushTag('v4.0.0', fakeSha('4.0.0'))).body.status).toBe('enqueued');
    await succeedNext(r);
    expect((await pushTag('v3.9.0', fakeSha('3.9.0'))).body.status).toBe('ignored');
    const { status, body } = await apiCall('/deployments/releases/deploy', 'operator', { body: { tag: 'v3.9.0' } });
    expect(status).toBe(202);
    expect(body.deployment).toMatchObject({ kind: 'deploy', sha: fakeSha('3.9.0'), ref: 'refs/tags/v3.9.0', trigger: 'manual', actor: 'otto', message: 'Release v3.9.0' });
    expect(await succeedNext(r)).toMatchObject({ sha: fakeSha('3.9.0'), ref: 'refs/tags/v3.9.0', kind: 'deploy' });
    // v3.9.0 is the deployed tag now: v3.9.1 is higher than it, and deploys on push.
    expect((await pushTag('v3.9.1', fakeSha('3.9.1'))).body.status).toBe('enqueued');
    await succeedNext(r);
  });

  it('rollback {tag} deploys that tag\'s commit through the pipeline as a rollback', async () => {
    const r = await relayFor();
    expect((await pushTag('v5.0.0', fakeSha('5.0.0'))).body.status).toBe('enqueued');
    await succeedNext(r);
    expect((await pushTag('v5.1.0', fakeSha('5.1.0'))).body.status).toBe('enqueued');
    await succeedNext(r);
    const { status, body } = await apiCall('/deployments/releases/rollback', 'operator', { body: { tag: 'v5.0.0' } });
    expect(status).toBe(202);
    expect(body.deployment).toMatchObject({ kind: 'rollback', trigger: 'rollback', sha: fakeSha('5.0.0'), ref: 'refs/tags/v5.0.0' });
    expect(body.deployment.message).toMatch(/^Roll back to tag v5\.0\.0 \(/);
    const job = (await r.next('job')) as JobMessage;
    expect(job).toMatchObject({ kind: 'rollback', sha: fakeSha('5.0.0'), ref: 'refs/tags/v5.0.0', backupId: null });
    r.send({ type: 'result', jobId: job.jobId, status: 'succeeded', reason: null, summary: {} as never });
    await r.next('recorded');
    // A rollback to a tag deployment by its id (the history's "Roll back to this") keeps the tag as the ref.
    const tagged = (await apiCall('/deployments/releases/history?limit=50', 'viewer')).body.deployments.find((d: DeploymentView) => d.ref === 'refs/tags/v5.1.0' && d.status === 'succeeded');
    const byId = await apiCall('/deployments/releases/rollback', 'operator', { body: { deploymentId: tagged.id } });
    expect(byId.body.deployment).toMatchObject({ kind: 'rollback', sha: fakeSha('5.1.0'), ref: 'refs/tags/v5.1.0', rollbackOf: tagged.id });
  });

  it('an unknown tag is a 404 that says so; a viewer may not; sha and tag together are refused', async () => {
    const unknown = await apiCall('/deployments/releases/deploy', 'operator', { body: { tag: 'v99.0.0' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'unknown_tag' });
    expect(unknown.body.error.message).toMatch(/No tag "v99\.0\.0" was pushed to octo-home\/release-config/);
    expect((await apiCall('/deployments/releases/rollback', 'operator', { body: { tag: 'v99.0.0' } })).status).toBe(404);
    expect((await apiCall('/deployments/releases/deploy', 'viewer', { body: { tag: 'v1.0.0' } })).status).toBe(403);
    expect((await apiCall('/deployments/releases/deploy', 'operator', { body: { tag: 'v1.0.0', sha: fakeSha('x') } })).status).toBe(400);
    expect((await apiCall('/deployments/releases/deploy', 'operator', { body: { tag: 'v1..0' } })).status).toBe(400);
  });
});

describe('what people see', () => {
  it('GitHub\'s deployment of a tag deployment carries the tag as its ref; a branch deployment keeps the commit', () => {
    const config = loadTargets(JSON.stringify([{ name: 'releases', repo: REPO, branch: 'main', trigger: { type: 'tag', pattern: 'v*' }, relayTokenSecret: 'RELAY_TOKEN_HOME' }]))[0]!;
    const d = (ref: string): DeploymentView => ({
      id: 'dep_1', target: 'releases', kind: 'deploy', status: 'queued', sha: fakeSha('c'), ref, trigger: 'tag', actor: 'ada', message: 'Release', author: null, reason: null,
      supersededBy: null, rollbackOf: null, restoreBackupId: null, deliveryId: null, attempt: 0, createdAt: 1, dispatchedAt: null, startedAt: null, finishedAt: null, summary: null,
    });
    const change = (deployment: DeploymentView): Change => ({
      deployment, announcedStatus: null, announcedGithubState: null, githubKnown: true, relayLost: false, replaced: null, config,
      settings: { github: { apiUrl: 'http://127.0.0.1:9', token: 't' }, slack: null, webhook: null, statusPageUrl: null } as never, newDeliveryId: () => 'ntf_1',
    });
    const refOf = (deployment: DeploymentView) => (announcementsFor(change(deployment)).messages.find((m) => m.kind === 'github.deployment')!.payload as { request: { ref: string } }).request.ref;
    expect(refOf(d('refs/tags/v1.2.0'))).toBe('v1.2.0');
    expect(refOf(d('refs/heads/main'))).toBe(fakeSha('c'));
  });

  it('the status page says the target deploys tags v* and shows each deployment\'s tag', async () => {
    const r = await relayFor();
    expect((await pushTag('v6.0.0', fakeSha('6.0.0'))).body.status).toBe('enqueued');
    await succeedNext(r);
    const { cookie } = await signIn(TOKENS.viewer);
    const page = await (await call('/targets/releases', { headers: { Cookie: cookie } })).text();
    expect(page).toContain('deploys tags v*');
    expect(page).toMatch(/data-tag="v6\.0\.0"/);
  });
});
