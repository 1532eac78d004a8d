// What the homeowner sees outside the status page, end to end: the edge under wrangler dev talks
// to a GitHub stand-in, a Slack stand-in and a webhook receiver on 127.0.0.1; a real relay deploys
// to a Home Assistant stand-in that records the deployment sensor and its notifications.
import { verify as verifyGithubStyle } from '@octokit/webhooks-methods';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGithubStandIn, type GithubStandIn } from '../support/github-standin.ts';
import { apiClient, createHouse, startTestEdge, TEST_REPO, TEST_SECRETS, waitForDeployment, type ApiClient, type House, type TestEdge } from '../support/house.ts';
import { startNotifyReceiver, type NotifyReceiver, type ReceivedNotification } from '../support/notify-receiver.ts';
import { waitFor } from '../support/ports.ts';
import { sendPush } from '../support/push.ts';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';

const GITHUB_TOKEN = 'github_pat_lanyard_test_0123456789';
const WEBHOOK_SECRET = 'notify-webhook-secret-0123456789';
const ENVIRONMENT_URL = 'https://ha.example.org';
/** Only ever written into links; nothing fetches it. */
const PUBLIC_URL = 'https://lanyard.example.org';
const FINAL = ['succeeded', 'failed', 'rolled_back'];

let github: GithubStandIn;
let slack: NotifyReceiver;
let hook: NotifyReceiver;
let edge: TestEdge;
let house: House;
let relay: RelayProcess;
let api: ApiClient;
let admin: ApiClient;

beforeAll(async () => {
  github = await startGithubStandIn({ token: GITHUB_TOKEN });
  slack = await startNotifyReceiver();
  hook = await startNotifyReceiver();
  edge = await startTestEdge(await mkdtemp(join(tmpdir(), 'lanyard-outward-')), {
    TARGETS: JSON.stringify([{ name: 'home', repo: TEST_REPO, branch: 'main', relayTokenSecret: 'RELAY_TOKEN_HOME', environmentUrl: ENVIRONMENT_URL }]),
    PUBLIC_URL,
    GITHUB_API_URL: github.url,
    GITHUB_TOKEN,
    SLACK_WEBHOOK_URL: `${slack.url}/services/T000/B000/slack-test`,
    NOTIFY_WEBHOOK_URL: `${hook.url}/lanyard`,
    NOTIFY_WEBHOOK_SECRET: WEBHOOK_SECRET,
    OUTBOX_RETRY_BASE_MS: '300',
  });
  house = await createHouse({ edgeUrl: edge.url });
  relay = startRelayProcess(house.relayConfigPath);
  await relay.waitForLog(/edge ready/);
  api = apiClient(edge.url, TEST_SECRETS.operatorToken);
  admin = apiClient(edge.url, TEST_SECRETS.adminToken);
});

afterAll(async () => {
  await relay?.kill('SIGTERM');
  await edge?.stop();
  await house?.close();
  await Promise.all([github?.close(), slack?.close(), hook?.close()]);
});

const pageOf = (id: string) => `${PUBLIC_URL}/targets/home?deployment=${id}`;

async function deploy(files: Record<string, string>, message: string) {
  const sha = await house.commit(files, message);
  const id = await sendPush(edge.url, sha, message);
  const { deployment } = await waitForDeployment(api, id, FINAL);
  return { sha, id, deployment };
}

/** Waits until the edge's outbox is empty: everything it had to say was said (or given up on). */
async function outboxDrained(): Promise<void> {
  await waitFor('the outbox to drain', async () => (await api.get('/deployments/home/status')).outward?.pending === 0, 30_000, 200);
}

async function githubStates(id: string, expected: string[]): Promise<string[]> {
  return waitFor(`GitHub statuses ${expected.join(', ')} for ${id}`, async () => {
    const states = github.statesOf(id);
    return states.length >= expected.length ? states : null;
  }, 30_000, 100);
}

/** How docs/outward.md tells receivers to check a Lanyard webhook: signature, timestamp, replay. */
function verifyLanyardWebhook(secret: string, rawBody: string, headers: Record<string, string | string[] | undefined>, seen: Set<string>, now = Date.now()): { ok: true; body: any } | { ok: false; why: string } {
  const expected = `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
  const given = String(headers['x-lanyard-signature'] ?? '');
  if (given.length !== expected.length || !timingSafeEqual(Buffer.from(given), Buffer.from(expected))) return { ok: false, why: 'bad signature' };
  const body = JSON.parse(rawBody);
  if (String(body.timestamp) !== headers['x-lanyard-timestamp']) return { ok: false, why: 'timestamp header does not match the signed body' };
  if (Math.abs(now / 1000 - body.timestamp) > 300) return { ok: false, why: 'too old' };
  if (seen.has(body.deliveryId)) return { ok: false, why: 'replayed' };
  seen.add(body.deliveryId);
  return { ok: true, body };
}

function sensorStates(): string[] {
  return house.ha.stateHistory('sensor.lanyard_home').map((w) => w.state);
}

let firstSuccess: { sha: string; id: string };
let originalConfiguration: string;
let rollbackId: string;

describe('outward: GitHub, notifications, sensors', () => {
  it('a successful deploy becomes a GitHub deployment with queued, in_progress, success, and the sensor follows it', async () => {
    const automations = `${await readFile(join(house.work, 'automations.yaml'), 'utf8')}- id: porch_light\n  alias: Porch light at dusk\n  trigger: []\n  action: []\n`;
    const { sha, id, deployment } = await deploy({ 'automations.yaml': automations }, 'Porch light at dusk');
    expect(deployment.status).toBe('succeeded');
    firstSuccess = { sha, id };

    expect(await githubStates(id, ['queued', 'in_progress', 'success'])).toEqual(['queued', 'in_progress', 'success']);
    const made = github.deploymentFor(id)!;
    expect(made).toMatchObject({
      owner: 'octo-home',
      repo: 'ha-config',
      ref: sha,
      task: 'deploy',
      auto_merge: false,
      required_contexts: [],
      environment: 'production',
      payload: { lanyard: { deploymentId: id, target: 'home', kind: 'deploy', trigger: 'push' } },
    });
    expect(made.description).toContain('Porch light at dusk');
    for (const status of made.statuses) {
      expect(status.log_url).toBe(pageOf(id));
      expect(status.environment_url).toBe(ENVIRONMENT_URL);
    }
    expect(made.statuses.at(-1)).toMatchObject({ state: 'success', auto_inactive: false });
    for (const request of github.requests) {
      expect(request.headers).toMatchObject({
        authorization: `Bearer ${GITHUB_TOKEN}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        'user-agent': expect.stringMatching(/^lanyard/),
      });
    }
    expect(github.refusals).toEqual([]);

    // The sensor: idle when the relay connected, deploying during the job, succeeded after verify.
    await waitFor('the sensor to say succeeded', async () => sensorStates().at(-1) === 'succeeded');
    const states = sensorStates();
    expect(states[0]).toBe('idle');
    expect(states.slice(states.lastIndexOf('deploying'))).toEqual(['deploying', 'succeeded']);
    const final = house.ha.entity('sensor.lanyard_home')!;
    expect(final.attributes).toMatchObject({
      friendly_name: 'Lanyard home',
      icon: 'mdi:check-circle',
      deployment_id: id,
      sha,
      kind: 'deploy',
      drift: [],
      files_changed: 1,
      // The commit's subject travels from the push, through the edge's job, to the dashboard.
      commit_message: 'Porch light at dusk',
      message: expect.stringMatching(/^Deployed .* 1 file changed/),
      finished_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      duration: expect.any(Number),
    });

    // Successes notify only when asked: this target did not ask.
    await outboxDrained();
    expect(slack.received).toEqual([]);
    expect(hook.received).toEqual([]);
    expect(house.ha.notifications).toEqual([]);
  });

  it('a deploy that is rolled back is a failure on GitHub, a Slack message, a signed webhook, a notice in HA and a sensor that says rolled_back', async () => {
    hook.fail(1);
    originalConfiguration = await readFile(join(house.work, 'configuration.yaml'), 'utf8');
    const configuration = `${originalConfiguration}\nsensor: !include sensors.yaml\n`;
    const { sha, id, deployment } = await deploy({ 'configuration.yaml': configuration }, 'Add sensors (forgot the file)');
    expect(deployment.status).toBe('rolled_back');

    expect(await githubStates(id, ['queued', 'in_progress', 'failure'])).toEqual(['queued', 'in_progress', 'failure']);
    expect(github.deploymentFor(id)!.statuses.at(-1)!.description).toMatch(/^Rolled back: .*invalid/);

    await outboxDrained();
    const [message, ...moreMessages] = slack.deliveredTo('/services/T000/B000/slack-test');
    expect(moreMessages).toEqual([]);
    const text = (message!.body as { text: string; blocks: unknown[] });
    expect(text.text).toMatch(new RegExp(`^home: deploy of ${sha.slice(0, 7)} rolled back — Add sensors \\(forgot the file\\): .*invalid`));
    expect(JSON.stringify(text.blocks)).toContain(`<${pageOf(id)}|${id}>`);
    expect(message!.headers['content-type']).toBe('application/json');

    // The webhook: the first attempt met a 500 and was retried with the same delivery id.
    const attempts = hook.received;
    expect(attempts.map((a) => a.status)).toEqual([500, 200]);
    expect(new Set(attempts.map((a) => a.headers['x-lanyard-delivery'])).size).toBe(1);
    const seen = new Set<string>();
    const delivered = attempts[1]!;
    const verified = verifyLanyardWebhook(WEBHOOK_SECRET, delivered.rawBody, delivered.headers, seen);
    expect(verified.ok).toBe(true);
    expect(await verifyGithubStyle(WEBHOOK_SECRET, delivered.rawBody, String(delivered.headers['x-lanyard-signature']))).toBe(true);
    expect(delivered.headers['x-lanyard-event']).toBe('deployment.rolled_back');
    expect(delivered.body).toMatchObject({
      event: 'deployment.rolled_back',
      target: 'home',
      repo: TEST_REPO,
      environment: 'production',
      url: pageOf(id),
      corrected: false,
      deliveryId: delivered.headers['x-lanyard-delivery'],
      deployment: { id, sha, status: 'rolled_back', kind: 'deploy', reason: expect.stringMatching(/invalid/) },
    });
    // What a receiver must refuse: the same body again, a changed body, another secret, an old one.
    expect(verifyLanyardWebhook(WEBHOOK_SECRET, delivered.rawBody, delivered.headers, seen)).toEqual({ ok: false, why: 'replayed' });
    expect(verifyLanyardWebhook(WEBHOOK_SECRET, delivered.rawBody.replace('rolled_back', 'succeeded'), delivered.headers, new Set())).toEqual({ ok: false, why: 'bad signature' });
    expect(verifyLanyardWebhook('another-secret', delivered.rawBody, delivered.headers, new Set())).toEqual({ ok: false, why: 'bad signature' });
    expect(verifyLanyardWebhook(WEBHOOK_SECRET, delivered.rawBody, delivered.headers, new Set(), Date.now() + 10 * 60_000)).toEqual({ ok: false, why: 'too old' });
    expect(verifyLanyardWebhook(WEBHOOK_SECRET, attempts[0]!.rawBody, attempts[0]!.headers, new Set()).ok).toBe(true);

    // In Home Assistant: a notice (replacing any earlier one), and the sensor after the rollback.
    await waitFor('the sensor to say rolled_back', async () => sensorStates().at(-1) === 'rolled_back');
    expect(house.ha.entity('sensor.lanyard_home')!.attributes).toMatchObject({ deployment_id: id, sha, icon: 'mdi:backup-restore', reason: expect.stringMatching(/invalid/) });
    const notices = house.ha.notifications.filter((n) => n.notificationId === 'lanyard_home');
    expect(notices).toHaveLength(1);
    expect(notices[0]!.title).toBe(`Lanyard: Deploy of ${sha.slice(0, 7)} rolled back`);
    expect(notices[0]!.message).toContain(`/targets/home?deployment=${id}`);
  });

  it('an operator\'s rollback is a GitHub deployment of the earlier commit, and the deployment it replaced becomes inactive', async () => {
    const second = await deploy({ 'configuration.yaml': originalConfiguration, 'scripts.yaml': 'goodnight:\n  alias: Goodnight\n  sequence: []\n' }, 'Goodnight script');
    expect(second.deployment.status).toBe('succeeded');
    // The first deployment was replaced by the second.
    await waitFor('the first deployment to become inactive', async () => github.statesOf(firstSuccess.id).at(-1) === 'inactive');
    expect(github.deploymentFor(firstSuccess.id)!.statuses.at(-1)!.description).toBe(`Replaced by ${second.id} (${second.sha.slice(0, 7)})`);

    const { status, body } = await api.post('/deployments/home/rollback', {});
    expect(status).toBe(202);
    rollbackId = body.deployment.id as string;
    expect((await waitForDeployment(api, rollbackId, FINAL)).deployment.status).toBe('succeeded');

    expect(await githubStates(rollbackId, ['queued', 'in_progress', 'success'])).toEqual(['queued', 'in_progress', 'success']);
    expect(github.deploymentFor(rollbackId)).toMatchObject({ ref: firstSuccess.sha, payload: { lanyard: { kind: 'rollback', trigger: 'rollback' } } });
    await waitFor('the rolled-back deployment to become inactive', async () => github.statesOf(second.id).at(-1) === 'inactive');
    expect(github.statesOf(second.id)).toEqual(['queued', 'in_progress', 'success', 'inactive']);
    expect(github.deploymentFor(second.id)!.statuses.at(-1)!.description).toBe(`Rolled back by ${rollbackId}`);

    // Rollbacks always notify, even though successes are not asked for.
    await outboxDrained();
    expect(slack.deliveredTo('/services/T000/B000/slack-test').at(-1)!.body).toMatchObject({ text: expect.stringMatching(new RegExp(`^home: rollback to ${firstSuccess.sha.slice(0, 7)} succeeded`)) });
    expect(hook.deliveredTo('/lanyard').at(-1)!.body).toMatchObject({ event: 'deployment.succeeded', deployment: { id: rollbackId, kind: 'rollback' } });
    await waitFor('the sensor to say rolled_back', async () => house.ha.entity('sensor.lanyard_home')?.attributes.deployment_id === rollbackId);
    expect(house.ha.entity('sensor.lanyard_home')!.state).toBe('rolled_back');
    expect(house.ha.notifications.at(-1)).toMatchObject({ notificationId: 'lanyard_home', title: `Lanyard: rolled back to ${firstSuccess.sha.slice(0, 7)}` });
  });

  it('GitHub answering 500 holds up nothing: the deploy runs, the statuses arrive later and in order, and the outage is on record', async () => {
    github.fail(2, 500);
    const before = github.requests.length;
    const { id, deployment } = await deploy({ 'scenes.yaml': '- id: evening\n  name: Evening\n  entities: {}\n' }, 'Evening scene');
    expect(deployment.status).toBe('succeeded');

    expect(await githubStates(id, ['queued', 'in_progress', 'success'])).toEqual(['queued', 'in_progress', 'success']);
    const mine = github.requests.slice(before);
    expect(mine.slice(0, 2).map((r) => r.status)).toEqual([500, 500]);
    // The deployment this one replaced hears so only after GitHub heard of the success.
    await waitFor('the rollback deployment to become inactive', async () => github.statesOf(rollbackId).at(-1) === 'inactive');
    const states = github.requests.slice(before).flatMap((r) => ((r.body as { state?: string } | null)?.state ? [(r.body as { state: string }).state] : []));
    expect(states).toEqual(['queued', 'in_progress', 'success', 'inactive']);
    // One GitHub deployment only: the retry looked for one made by a lost answer before creating it.
    expect(github.deployments.filter((d) => (d.payload as any).lanyard.deploymentId === id)).toHaveLength(1);
    const created = mine.find((r) => r.method === 'POST' && r.path.endsWith('/deployments') && r.status === 201)!;
    // The relay had the job long before GitHub heard of it.
    expect(deployment.startedAt).toBeLessThan(created.at.getTime());

    await outboxDrained();
    const logs = await api.get(`/deployments/home/logs?deploymentId=${id}`);
    expect(logs.outward[0]).toMatchObject({ channel: 'github', what: 'github deployment', state: 'delivered', attempts: 3, lastError: expect.stringMatching(/answered 500/) });
    const { entries } = await admin.get('/deployments/home/audit');
    const actions = entries.filter((e: any) => e.detail.deploymentId === id).map((e: any) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['outward.retrying', 'outward.delivered']));
    expect(github.refusals).toEqual([]);
  });

  it('what GitHub has not heard yet survives a restart of the edge, and arrives afterwards in order', async () => {
    github.fail(10_000, 503);
    const { id, deployment } = await deploy({ 'groups.yaml': 'downstairs:\n  name: Downstairs\n  entities: []\n' }, 'Downstairs group');
    expect(deployment.status).toBe('succeeded');
    await waitFor('a failed attempt', async () => github.requests.some((r) => r.status === 503 && (r.body as any)?.payload?.lanyard?.deploymentId === id));
    expect(github.deploymentFor(id)).toBeUndefined();

    await edge.restart();
    github.heal();
    expect(await githubStates(id, ['queued', 'in_progress', 'success'])).toEqual(['queued', 'in_progress', 'success']);
    await outboxDrained();
    expect(github.deployments.filter((d) => (d.payload as any).lanyard.deploymentId === id)).toHaveLength(1);
    expect(github.refusals).toEqual([]);
  });
});
