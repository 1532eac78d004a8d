// Outward, inside workerd: a hub whose GitHub is down (a port nothing listens on) keeps deploying
// and says what it could not deliver; a CI-gated target says what it waits for, or that its workflow
// failed for that commit; and the pure parts (what each change announces, the Slack text, the
// webhook signature) against published vectors.
import { verify } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import type { DeploymentView } from '../../shared/api.ts';
import { loadTargets, TargetConfig } from '../../worker/config/targets.ts';
import { announcementsFor, githubState, type Change } from '../../worker/outward/announcements.ts';
import { retryDelay } from '../../worker/outward/courier.ts';
import { notificationEvent } from '../../worker/outward/notification.ts';
import { DEFAULT_RETRY, outwardSettings, type OutwardSettings } from '../../worker/outward/settings.ts';
import { slackMessage } from '../../worker/outward/slack.ts';
import { hmacSha256Hex, signedWebhook } from '../../worker/outward/webhook.ts';
import { waitingFor } from '../../worker/outward/waiting.ts';
import { MAX_VERDICTS, parseVerdicts, withVerdict, type StoredVerdict } from '../../worker/hub/workflow-verdicts.ts';
import { fakeSha, pushPayload, workflowRunPayload } from '../support/github-payloads.ts';
import { apiCall, deliver } from './helpers.ts';
import { connectRelay } from './relay-socket.ts';

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a GitHub outage', () => {
  it('holds up nothing: the deployment runs and succeeds, and the status says what is still to be delivered', async () => {
    const relay = await connectRelay('outward', 'relay-token-home');
    const sha = fakeSha('outward-outage');
    const { body } = await deliver({ event: 'push', payload: pushPayload({ repo: 'octo-home/outward-config', after: sha, message: 'Garden lights' }) });
    const id = body.deployments[0].deploymentId as string;
    const job = await relay.next('job');
    expect(job).toMatchObject({ jobId: id, sha });
    relay.send({ type: 'ack', jobId: id, attempt: job.type === 'job' ? job.attempt : 1 });
    // Under load the hub may handle a result sent right behind the ack first (then GitHub hears
    // queued → success, which is right too); this test is about the order of in_progress.
    await until('the deployment to run', async () => (await apiCall(`/deployments/outward/logs?deploymentId=${id}`, 'viewer')).body.deployment.status === 'running');
    relay.send({ type: 'result', jobId: id, status: 'succeeded', reason: null, summary: {} as never });
    await relay.next('recorded');

    const status = await until('the outage to show', async () => {
      const { body: s } = await apiCall('/deployments/outward/status', 'viewer');
      return s.outward.problems.length ? s : null;
    });
    expect(status.lastFinished).toMatchObject({ id, status: 'succeeded' });
    expect(status.outward.problems[0]).toMatchObject({
      channel: 'github',
      deploymentId: id,
      what: 'github deployment',
      state: 'pending',
      attempts: 1,
      lastError: expect.stringMatching(/^127\.0\.0\.1:9: could not connect/),
      nextAttemptAt: expect.any(Number),
    });
    // The statuses wait behind the deployment GitHub has not got yet, in order.
    const { body: logs } = await apiCall(`/deployments/outward/logs?deploymentId=${id}`, 'viewer');
    // Should this ever differ, the trail says what the hub saw (a second dispatch, a refused ack).
    const trail = JSON.stringify((await apiCall('/deployments/outward/audit', 'admin')).body.entries.map((e: any) => [e.action, e.detail]));
    expect(logs.outward.map((o: any) => `${o.what}:${o.state}`), `${trail} ${JSON.stringify(relay.received)}`).toEqual([
      'github deployment:pending',
      'github status queued:pending',
      'github status in_progress:pending',
      'github status success:pending',
    ]);
    expect(status.outward.pending).toBeGreaterThanOrEqual(4);
    const { body: audit } = await apiCall('/deployments/outward/audit', 'admin');
    expect(audit.entries.find((e: any) => e.action === 'outward.retrying')).toMatchObject({ actor: 'edge', detail: { channel: 'github', deploymentId: id, what: 'github deployment' } });
    relay.close();
  });

  it('targets without a GitHub token queue nothing outward', async () => {
    await deliver({ event: 'push', payload: pushPayload({ ref: 'refs/heads/cabin', after: fakeSha('cabin-no-github') }) });
    const { body } = await apiCall('/deployments/cabin/status', 'viewer');
    expect(body.outward).toEqual({ pending: 0, problems: [] });
  });
});

describe('a CI-gated target', () => {
  it('says which workflow it waits for on which commit, until the workflow succeeds', async () => {
    const sha = fakeSha('gated-waiting');
    await deliver({ event: 'push', payload: pushPayload({ repo: 'octo-home/gated-config', after: sha, message: 'Garden package' }) });
    const { body: waiting } = await apiCall('/deployments/gated/status', 'viewer');
    expect(waiting.waiting).toEqual({
      for: 'workflow',
      workflow: 'Config check',
      eventType: null,
      sha,
      message: 'Garden package',
      since: expect.any(Number),
      conclusion: null,
      url: null,
      text: `waiting for workflow "Config check" on ${sha.slice(0, 7)}`,
    });
    await deliver({ event: 'workflow_run', payload: workflowRunPayload({ headSha: sha }) });
    const { body: deployed } = await apiCall('/deployments/gated/status', 'viewer');
    expect(deployed.waiting).toBeNull();
  });

  it('says the workflow failed on the head, with the conclusion and the run, until a successful re-run deploys it', async () => {
    const sha = fakeSha('gated-red-then-green');
    await deliver({ event: 'push', payload: pushPayload({ repo: 'octo-home/gated-config', after: sha, message: 'Broken template' }) });
    const red = await deliver({ event: 'workflow_run', payload: workflowRunPayload({ headSha: sha, conclusion: 'failure' }) });
    expect(red.body.status).toBe('ignored');
    const { body: failed } = await apiCall('/deployments/gated/status', 'viewer');
    expect(failed.waiting).toEqual({
      for: 'workflow',
      workflow: 'Config check',
      eventType: null,
      sha,
      message: 'Broken template',
      since: expect.any(Number),
      conclusion: 'failure',
      url: 'https://github.com/octo-home/gated-config/actions/runs/30433642',
      text: `workflow "Config check" concluded failure on ${sha.slice(0, 7)}: not deployed; push a fix or re-run the workflow`,
    });
    expect(failed.queued.filter((d: DeploymentView) => d.sha === sha)).toEqual([]);

    // A re-run of the same commit that fails differently replaces the verdict.
    await deliver({ event: 'workflow_run', payload: workflowRunPayload({ headSha: sha, conclusion: 'cancelled' }) });
    expect((await apiCall('/deployments/gated/status', 'viewer')).body.waiting).toMatchObject({ sha, conclusion: 'cancelled' });

    // Someone re-runs it: the failure no longer shows, the run under way does, with its link.
    const rerun = await deliver({ event: 'workflow_run', payload: workflowRunPayload({ headSha: sha, action: 'in_progress' }) });
    expect(rerun.body.status).toBe('ignored');
    expect((await apiCall('/deployments/gated/status', 'viewer')).body.waiting).toMatchObject({
      sha,
      conclusion: null,
      url: 'https://github.com/octo-home/gated-config/actions/runs/30433642',
      text: `waiting for workflow "Config check" on ${sha.slice(0, 7)}: it is running`,
    });

    const green = await deliver({ event: 'workflow_run', payload: workflowRunPayload({ headSha: sha }) });
    expect(green.body.status).toBe('enqueued');
    const { body: deployed } = await apiCall('/deployments/gated/status', 'viewer');
    expect(deployed.waiting).toBeNull();
    expect(deployed.queued.map((d: DeploymentView) => d.sha)).toContain(sha);
  });

  it('a verdict for an older commit never shows for a newer head', async () => {
    const old = fakeSha('gated-old-head');
    const head = fakeSha('gated-new-head');
    await deliver({ event: 'push', payload: pushPayload({ repo: 'octo-home/gated-config', after: old }) });
    await deliver({ event: 'push', payload: pushPayload({ repo: 'octo-home/gated-config', after: head, message: 'Newer' }) });
    // The older commit's run finishes after the branch moved on.
    await deliver({ event: 'workflow_run', payload: workflowRunPayload({ headSha: old, conclusion: 'failure' }) });
    const { body: waiting } = await apiCall('/deployments/gated/status', 'viewer');
    expect(waiting.waiting).toMatchObject({ sha: head, conclusion: null, url: null, text: `waiting for workflow "Config check" on ${head.slice(0, 7)}` });

    // The head's own failure shows, and a late verdict for the older commit does not displace it.
    await deliver({ event: 'workflow_run', payload: workflowRunPayload({ headSha: head, conclusion: 'failure' }) });
    await deliver({ event: 'workflow_run', payload: workflowRunPayload({ headSha: old, conclusion: 'cancelled' }) });
    expect((await apiCall('/deployments/gated/status', 'viewer')).body.waiting).toMatchObject({ sha: head, conclusion: 'failure' });
  });

  it('a push target never waits', async () => {
    await deliver({ event: 'push', payload: pushPayload({ ref: 'refs/heads/cabin', after: fakeSha('cabin-never-waits') }) });
    expect((await apiCall('/deployments/cabin/status', 'viewer')).body.waiting).toBeNull();
  });
});

// ---- pure parts -------------------------------------------------------------------------------

const config = TargetConfig.parse({ name: 'home', repo: 'octo-home/ha-config', relayTokenSecret: 'RELAY_TOKEN_HOME', environmentUrl: 'https://ha.example.org' });
const everything: OutwardSettings = {
  github: { apiUrl: 'http://127.0.0.1:9', token: 't' },
  slack: { url: 'http://127.0.0.1:9/slack' },
  webhook: { url: 'http://127.0.0.1:9/hook', secret: 's' },
  notifyOnSuccess: false,
  statusPageUrl: 'https://lanyard.example.org/targets/home',
  retry: DEFAULT_RETRY,
};

function deployment(overrides: Partial<DeploymentView> = {}): DeploymentView {
  return {
    id: 'dep_2',
    target: 'home',
    kind: 'deploy',
    status: 'queued',
    sha: fakeSha('two'),
    ref: 'refs/heads/main',
    trigger: 'push',
    actor: 'ada',
    message: 'Porch light <at dusk> & more\n\nbody',
    author: 'Ada',
    reason: null,
    supersededBy: null,
    rollbackOf: null,
    restoreBackupId: null,
    deliveryId: null,
    attempt: 1,
    createdAt: 1_000,
    dispatchedAt: null,
    startedAt: 2_000,
    finishedAt: 14_500,
    summary: null,
    ...overrides,
  };
}

function change(d: DeploymentView, overrides: Partial<Change> = {}): Change {
  return {
    deployment: d,
    announcedStatus: null,
    announcedGithubState: null,
    githubKnown: true,
    relayLost: false,
    replaced: null,
    config,
    settings: everything,
    newDeliveryId: () => 'ntf_1',
    ...overrides,
  };
}

const whats = (c: Change) => announcementsFor(c).messages.map((m) => `${m.channel}:${m.what}`);

describe('what each change announces', () => {
  it('a new deployment: a GitHub deployment of the commit, then queued', () => {
    const [created, queued] = announcementsFor(change(deployment())).messages;
    expect(created).toMatchObject({
      kind: 'github.deployment',
      payload: {
        repo: 'octo-home/ha-config',
        request: { ref: fakeSha('two'), auto_merge: false, required_contexts: [], environment: 'production', payload: { lanyard: { deploymentId: 'dep_2' } } },
      },
    });
    expect(queued).toMatchObject({
      kind: 'github.status',
      payload: { request: { state: 'queued', log_url: 'https://lanyard.example.org/targets/home?deployment=dep_2', environment_url: 'https://ha.example.org' } },
    });
  });

  it('maps every Lanyard status to a GitHub state', () => {
    expect(['queued', 'dispatched', 'running', 'succeeded', 'rolled_back', 'failed', 'superseded', 'cancelled'].map((s) => githubState(s as never, false))).toEqual([
      'queued', 'queued', 'in_progress', 'success', 'failure', 'failure', 'inactive', 'inactive',
    ]);
    expect(githubState('failed', true)).toBe('error');
  });

  it('says nothing when the GitHub state does not change (queued → dispatched)', () => {
    expect(whats(change(deployment({ status: 'dispatched' }), { announcedStatus: 'queued', announcedGithubState: 'queued' }))).toEqual([]);
  });

  it('a rolled-back deploy is a failure and always notifies', () => {
    const c = change(deployment({ status: 'rolled_back', reason: 'check_config said invalid' }), { announcedStatus: 'running', announcedGithubState: 'in_progress' });
    expect(whats(c)).toEqual(['github:github status failure', 'slack:slack rolled_back', 'webhook:webhook deployment.rolled_back']);
    expect(announcementsFor(c).messages[0]!.payload).toMatchObject({ request: { description: 'Rolled back: check_config said invalid' } });
  });

  it('a success notifies only when asked, and retires the deployment it replaced after its own success', () => {
    const replaced = deployment({ id: 'dep_1', status: 'succeeded' });
    const done = deployment({ status: 'succeeded' });
    expect(whats(change(done, { announcedStatus: 'running', announcedGithubState: 'in_progress', replaced }))).toEqual(['github:github status success', 'github:github status inactive for dep_1']);
    const asked = change(done, { announcedStatus: 'running', announcedGithubState: 'in_progress', settings: { ...everything, notifyOnSuccess: true } });
    expect(whats(asked)).toEqual(['github:github status success', 'slack:slack succeeded', 'webhook:webhook deployment.succeeded']);
    const inactive = announcementsFor(change(done, { announcedStatus: 'running', announcedGithubState: 'in_progress', replaced })).messages[1]!;
    expect(inactive).toMatchObject({ deploymentId: 'dep_2', payload: { githubOf: 'dep_1', request: { state: 'inactive', description: `Replaced by dep_2 (${fakeSha('two').slice(0, 7)})` } } });
  });

  it('a rollback job that succeeds always notifies, and the deployment it undid becomes inactive', () => {
    const rollback = deployment({ id: 'dep_3', kind: 'rollback', trigger: 'rollback', status: 'succeeded', message: 'Roll back to dep_1' });
    const c = change(rollback, { announcedStatus: 'running', announcedGithubState: 'in_progress', replaced: deployment({ id: 'dep_2', status: 'succeeded' }) });
    expect(whats(c)).toEqual(['github:github status success', 'github:github status inactive for dep_2', 'slack:slack succeeded', 'webhook:webhook deployment.succeeded']);
    expect(announcementsFor(c).messages[1]!.payload).toMatchObject({ request: { description: 'Rolled back by dep_3' } });
  });

  it('a deployment superseded before GitHub heard of it stays unknown to GitHub; one it knew becomes inactive', () => {
    expect(whats(change(deployment({ status: 'superseded', supersededBy: 'dep_9' })))).toEqual([]);
    const known = change(deployment({ status: 'superseded', supersededBy: 'dep_9' }), { announcedStatus: 'queued', announcedGithubState: 'queued' });
    expect(announcementsFor(known).messages).toMatchObject([{ payload: { request: { state: 'inactive', description: 'Superseded by dep_9' } } }]);
  });

  it('"relay lost" is an error; the relay\'s own later word corrects it and notifies again', () => {
    const lost = change(deployment({ status: 'failed', reason: 'relay lost' }), { announcedStatus: 'running', announcedGithubState: 'in_progress', relayLost: true });
    expect(whats(lost)).toEqual(['github:github status error', 'slack:slack failed', 'webhook:webhook deployment.failed']);
    const corrected = change(deployment({ status: 'succeeded' }), { announcedStatus: 'failed', announcedGithubState: 'error' });
    expect(whats(corrected)).toEqual(['github:github status success', 'slack:slack succeeded', 'webhook:webhook deployment.succeeded']);
    expect(announcementsFor(corrected).messages[2]!.payload).toMatchObject({ event: { corrected: true } });
  });

  it('deployments GitHub never knew (from before outward messages) get no statuses', () => {
    expect(whats(change(deployment({ status: 'succeeded' }), { announcedStatus: 'running', announcedGithubState: null, githubKnown: false, settings: { ...everything, slack: null, webhook: null } }))).toEqual([]);
  });
});

describe('settings', () => {
  it('a channel without its secret is off; the webhook needs its signing secret', () => {
    const env = { TARGETS: '[]', SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x', NOTIFY_WEBHOOK_URL: 'https://example.org/hook' } as never;
    const s = outwardSettings(env, config);
    expect(s.github).toBeNull();
    expect(s.slack).toEqual({ url: 'https://hooks.slack.com/services/T/B/x' });
    expect(s.webhook).toBeNull();
    expect(outwardSettings({ GITHUB_TOKEN: 'x' } as never, config).github).toEqual({ apiUrl: 'https://api.github.com', token: 'x' });
  });

  it('new target fields are validated with a message naming the field', () => {
    expect(() => loadTargets(JSON.stringify([{ name: 'x', repo: 'a/b', relayTokenSecret: 'R', environmentUrl: 'not a url' }]))).toThrow(/\[0\]\.environmentUrl/);
  });

  it('retries double from the base delay up to the cap', () => {
    const policy = { baseDelayMs: 1000, maxDelayMs: 8000, giveUpAfterMs: 0 };
    const delays = [1, 2, 3, 4, 5, 6].map((n) => retryDelay(policy, n));
    delays.forEach((d, i) => expect(d).toBeGreaterThanOrEqual(Math.min(8000, 1000 * 2 ** i)));
    delays.forEach((d, i) => expect(d).toBeLessThanOrEqual(Math.min(8000, 1000 * 2 ** i) * 1.1));
  });
});

describe('notifications', () => {
  const rolledBack = deployment({ status: 'rolled_back', reason: 'Home Assistant says the configuration is invalid: <sensor>' });
  const event = notificationEvent(rolledBack, { repo: 'octo-home/ha-config', environment: 'production', url: 'https://lanyard.example.org/targets/home?deployment=dep_2', corrected: false, deliveryId: 'ntf_1' });

  it('Slack gets a readable message with target, commit, verdict, reason and a link, with its control characters escaped', () => {
    const message = slackMessage(event);
    expect(message.text).toBe(`home: deploy of ${fakeSha('two').slice(0, 7)} rolled back — Porch light <at dusk> & more: Home Assistant says the configuration is invalid: <sensor>`);
    const blocks = JSON.stringify(message.blocks);
    expect(blocks).toContain('Porch light &lt;at dusk&gt; &amp; more');
    expect(blocks).toContain('&lt;sensor&gt;');
    expect(blocks).toContain('<https://lanyard.example.org/targets/home?deployment=dep_2|dep_2>');
    expect(event.deployment.durationMs).toBe(12_500);
  });

  it('HMAC-SHA256 matches RFC 4231 test case 2', async () => {
    expect(await hmacSha256Hex('Jefe', 'what do ya want for nothing?')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('the webhook is signed like GitHub signs its own, with the timestamp inside the signed body', async () => {
    const signed = await signedWebhook('It\'s a Secret to Everybody', event, 1_700_000_000_123);
    expect(signed.headers).toMatchObject({ 'X-Lanyard-Event': 'deployment.rolled_back', 'X-Lanyard-Delivery': 'ntf_1', 'X-Lanyard-Timestamp': '1700000000' });
    expect(JSON.parse(signed.body)).toMatchObject({ timestamp: 1_700_000_000, deliveryId: 'ntf_1', event: 'deployment.rolled_back' });
    expect(await verify('It\'s a Secret to Everybody', signed.body, signed.headers['X-Lanyard-Signature']!)).toBe(true);
    expect(await verify('It\'s a Secret to Everybody', signed.body.replace('1700000000', '1800000000'), signed.headers['X-Lanyard-Signature']!)).toBe(false);
  });
});

describe('waiting', () => {
  const head = { sha: fakeSha('w'), message: 'm', author: null, seenAt: 5 };
  it('is null for a push target, without a head, and once the commit is queued', () => {
    expect(waitingFor(config, head, () => false)).toBeNull();
    const gated = TargetConfig.parse({ ...config, trigger: { type: 'workflow_run', workflow: 'Config check' } });
    expect(waitingFor(gated, null, () => false)).toBeNull();
    expect(waitingFor(gated, head, () => true)).toBeNull();
    expect(waitingFor(TargetConfig.parse({ ...config, trigger: { type: 'dispatch', eventType: 'deploy-home' } }), head, () => false)?.text).toBe(
      `waiting for a repository_dispatch "deploy-home" to deploy ${fakeSha('w').slice(0, 7)}`,
    );
  });

  it('names a failed run only for the head\'s commit and the workflow the target waits for now', () => {
    const gated = TargetConfig.parse({ ...config, trigger: { type: 'workflow_run', workflow: 'Config check' } });
    const verdict = { sha: head.sha, workflow: 'Config check', conclusion: 'timed_out', url: 'https://github.com/o/r/actions/runs/1', at: 9 };
    expect(waitingFor(gated, head, () => false, (sha) => (sha === head.sha ? verdict : null))).toMatchObject({
      conclusion: 'timed_out',
      url: 'https://github.com/o/r/actions/runs/1',
      text: `workflow "Config check" concluded timed_out on ${head.sha.slice(0, 7)}: not deployed; push a fix or re-run the workflow`,
    });
    // Once the commit is queued (a later run succeeded), nothing waits.
    expect(waitingFor(gated, head, () => true, () => verdict)).toBeNull();
    // The trigger now names another workflow: the old verdict says nothing about it.
    expect(waitingFor(gated, head, () => false, () => ({ ...verdict, workflow: 'Lint' }))).toMatchObject({ conclusion: null, url: null });
  });

  it('keeps one verdict per commit, the latest, for the last few commits; unreadable meta is none', () => {
    const v = (seed: string, conclusion = 'failure'): StoredVerdict => ({ sha: fakeSha(seed), workflow: 'Config check', conclusion, url: null, at: 1 });
    let list: StoredVerdict[] = [];
    for (let i = 0; i < MAX_VERDICTS + 3; i += 1) list = withVerdict(list, v(`c${i}`));
    expect(list).toHaveLength(MAX_VERDICTS);
    expect(list[0]!.sha).toBe(fakeSha('c3'));
    list = withVerdict(list, v('c5', 'cancelled'));
    expect(list.filter((x) => x.sha === fakeSha('c5'))).toEqual([v('c5', 'cancelled')]);
    expect(list.at(-1)!.sha).toBe(fakeSha('c5'));
    expect(parseVerdicts(JSON.stringify(list))).toEqual(list);
    expect(parseVerdicts('{not json')).toEqual([]);
    expect(parseVerdicts(JSON.stringify([{ sha: 1 }]))).toEqual([]);
  });
});
