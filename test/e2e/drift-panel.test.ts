// Drift on the status page, in headless Chromium against the Worker under `wrangler dev`, with a
// real relay deploying to the Home Assistant stand-in. An automation added in Home Assistant's UI
// stops the next deploy on drift; asking to overwrite it is capped by the relay (its relay.yaml does
// not allow the edge to overwrite host edits), so that deploy stops again with nothing written; the
// drift panel shows the file and its diff (folded until opened) with the ways on, and "keep the
// host's versions" from the page deploys the rest of the commit and leaves the UI edit where it is.
// Slack and the signed webhook (receivers on 127.0.0.1) hear of each new drift once.
//
// The drift report itself comes from a connection that speaks the relay protocol as the relay's
// drift watch does (the watch is built alongside this): the page shows what a report carries.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verify } from '@octokit/webhooks-methods';
import WebSocket from 'ws';
import type { DriftReportMessage } from '../../shared/drift.ts';
import { PROTOCOL_VERSION } from '../../shared/protocol.ts';
import { DESKTOP, guardedContext, launchBrowser, screenshot, signIn, type GuardedContext } from '../support/browser.ts';
import { startNotifyReceiver, type NotifyReceiver } from '../support/notify-receiver.ts';
import { apiClient, createHouse, startTestEdge, TEST_SECRETS, waitForDeployment, type ApiClient, type House, type TestEdge } from '../support/house.ts';
import { waitFor } from '../support/ports.ts';
import { sendPush } from '../support/push.ts';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';

const VIEWER_TOKEN = 'drift-viewer-token-0123456789';
const FINAL = ['succeeded', 'failed', 'rolled_back'];
const NOTIFY_SECRET = 'drift-notify-secret-0123456789';
const UI_EDIT = '- id: made_in_the_ui\n  alias: Made in the <UI> & kept\n  trigger: []\n  action: []\n';

let dir: string;
let edge: TestEdge;
let house: House;
let relay: RelayProcess | null = null;
let api: ApiClient;
let admin: ApiClient;
let browser: Browser;
let slack: NotifyReceiver;
let hook: NotifyReceiver;
const contexts: GuardedContext[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lanyard-drift-panel-'));
  slack = await startNotifyReceiver();
  hook = await startNotifyReceiver();
  edge = await startTestEdge(dir, {
    SLACK_WEBHOOK_URL: `${slack.url}/slack`,
    NOTIFY_WEBHOOK_URL: `${hook.url}/hook`,
    NOTIFY_WEBHOOK_SECRET: NOTIFY_SECRET,
    OUTBOX_RETRY_BASE_MS: '300',
    API_TOKENS: JSON.stringify([
      { name: 'otto', role: 'operator', token: TEST_SECRETS.operatorToken },
      { name: 'ada', role: 'admin', token: TEST_SECRETS.adminToken },
      { name: 'vera', role: 'viewer', token: VIEWER_TOKEN },
    ]),
    SESSION_SECRET: 'drift-panel-test-session-secret-0123456789',
  });
  // The UI edit here and the commit's change would merge (docs/drift.md#merging-ui-edits); these
  // tests are about drift that stops a deploy, so this relay merges nothing.
  house = await createHouse({ edgeUrl: edge.url, relayOverrides: { deploy: { mergeFiles: [] } } });
  relay = startRelayProcess(house.relayConfigPath);
  await relay.waitForLog(/edge ready/);
  api = apiClient(edge.url, TEST_SECRETS.operatorToken);
  admin = apiClient(edge.url, TEST_SECRETS.adminToken);
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await relay?.kill('SIGTERM');
  await edge?.stop();
  await house?.close();
  await Promise.all([slack?.close(), hook?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function deploy(files: Record<string, string>, message: string): Promise<Record<string, any>> {
  const sha = await house.commit(files, message);
  const id = await sendPush(edge.url, sha, message);
  return (await waitForDeployment(api, id, FINAL, 90_000)).deployment;
}

/** Speaks the relay protocol for one drift report, as the relay's drift watch does, then hangs up. */
async function reportDrift(report: DriftReportMessage): Promise<void> {
  const socket = new WebSocket(`${edge.url.replace(/^http/, 'ws')}/relay/connect?target=home`, { headers: { Authorization: `Bearer ${TEST_SECRETS.relayToken}` } });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const welcomed = new Promise<void>((resolve) => socket.on('message', (data) => JSON.parse(String(data)).type === 'welcome' && resolve()));
  socket.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, relayId: 'drift-watch-speaker', version: '0.0.0', capabilities: ['deploy'], inFlight: null }));
  await welcomed;
  socket.send(JSON.stringify(report));
  await waitFor('the edge to keep the drift report', async () => (await api.get('/deployments/home/drift')).drift?.at === report.at);
  socket.close(1000, 'report sent');
}

describe('drift on the status page', () => {
  it('shows the drifted file with its diff and the ways on, and "keep the host\'s versions" deploys around the UI edit', async () => {
    const first = await deploy({ 'scenes.yaml': '[]\n' }, 'Adopt the house');
    expect(first.status).toBe('succeeded');
    const automations = join(house.configRoot, 'automations.yaml');
    const deployedAutomations = await readFile(automations, 'utf8');
    const hostVersion = `${deployedAutomations}${UI_EDIT}`;
    await writeFile(automations, hostVersion);

    const stopped = await deploy({ 'automations.yaml': '[]\n', 'scripts.yaml': 'good_night:\n  sequence: []\n' }, 'Tidy automations, add a script');
    expect(stopped).toMatchObject({ status: 'failed', summary: { drift: ['automations.yaml'] } });
    expect(stopped.reason).toContain('keep the host\'s versions of these files for this deployment');

    // Overwrite, asked from the edge, is capped by the relay: it stops again, nothing written.
    const overwrite = await api.post('/deployments/home/retry', { deploymentId: stopped.id, drift: 'overwrite' });
    expect(overwrite.status).toBe(202);
    const capped = (await waitForDeployment(api, overwrite.body.deployment.id, FINAL, 90_000)).deployment;
    expect(capped.status).toBe('failed');
    expect(capped.reason).toContain('The edge asked to overwrite them, but this relay does not let the edge overwrite changes made on the host');
    expect(await readFile(automations, 'utf8')).toBe(hostVersion);
    expect((await api.get('/deployments/home/status')).stoppedOnDrift).toBe(capped.id);

    // The drift watch's report, as the relay would send it between deploys.
    await relay!.kill('SIGTERM');
    relay = null;
    const diff = `--- automations.yaml\n+++ automations.yaml\n@@ -9,0 +10,4 @@\n${UI_EDIT.trimEnd().split('\n').map((l) => `+${l}`).join('\n')}\n`;
    const since = Date.now() - 60_000;
    await reportDrift({ type: 'drift', at: Date.now(), deployedSha: first.sha, files: [{ path: 'automations.yaml', change: 'modified', since, diff, diffNote: null }], total: 1 });

    const operator = await guardedContext(browser, DESKTOP);
    contexts.push(operator);
    const page = await operator.newPage();
    await signIn(page, edge.url, TEST_SECRETS.operatorToken, '/targets/home');
    const panel = page.locator('#drift');
    await expect(panel.locator('li[data-drift-path="automations.yaml"]').textContent()).resolves.toContain('edited on the host');
    const diffBox = panel.locator('details[data-diff]');
    expect(await diffBox.getAttribute('open')).toBeNull();
    expect(await panel.locator('pre.diff').isVisible()).toBe(false);
    await diffBox.locator('summary').click();
    expect(await panel.locator('pre.diff').isVisible()).toBe(true);
    // The UI edit as text: its angle brackets and ampersand are shown, not parsed.
    expect(await panel.locator('pre.diff .add').allTextContents()).toContain('+  alias: Made in the <UI> & kept\n');
    expect(await panel.locator('a[data-action="drift-overwrite"]').textContent()).toContain('Overwrite them (after backup)');
    expect(await panel.locator('a[data-action="drift-keep"]').textContent()).toContain("Keep the host's versions");
    await screenshot(page, 'drift-panel');

    await panel.locator('a[data-action="drift-keep"]').click();
    await page.waitForURL((url) => url.pathname === '/targets/home/retry');
    expect(await page.locator('[data-question]').textContent()).toContain(`Deploy ${capped.id}`);
    expect(await page.locator('[data-question]').textContent()).toContain("keeping the host's versions of the files changed there");
    await Promise.all([page.waitForURL((url) => url.pathname === '/targets/home' && url.searchParams.has('deployment')), page.click('[data-confirm-button]')]);
    const keptId = new URL(page.url()).searchParams.get('deployment')!;

    relay = startRelayProcess(house.relayConfigPath);
    const kept = (await waitForDeployment(api, keptId, FINAL, 90_000)).deployment;
    expect(kept).toMatchObject({ status: 'succeeded', trigger: 'retry', driftChoice: 'keep', summary: { drift: ['automations.yaml'] } });
    expect(await readFile(automations, 'utf8')).toBe(hostVersion);
    expect(await readFile(join(house.configRoot, 'scripts.yaml'), 'utf8')).toBe('good_night:\n  sequence: []\n');
    const trail = (await admin.get('/deployments/home/audit?action=deploy.retried')).entries;
    expect(trail.map((e: any) => [e.actor, e.detail.drift, e.detail.retryOf])).toEqual([
      ['otto', 'keep', capped.id],
      ['otto', 'overwrite', stopped.id],
    ]);

    // A viewer sees the drift, never the buttons.
    const viewer = await guardedContext(browser, DESKTOP);
    contexts.push(viewer);
    const read = await viewer.newPage();
    await signIn(read, edge.url, VIEWER_TOKEN, '/targets/home');
    expect(await read.locator('#drift li[data-drift-path="automations.yaml"]').count()).toBe(1);
    expect(await read.locator('[data-action^="drift-"]').count()).toBe(0);
    expect(operator.offsite).toEqual([]);
    expect(operator.console.filter((m) => !/WebSocket|Failed to load resource/.test(m))).toEqual([]);
  });

  it('tells Slack and the signed webhook of each new drift once, not of every look at the host', async () => {
    await relay?.kill('SIGTERM');
    relay = null;
    const drifts = () => hook.deliveredTo('/hook').filter((r) => r.headers['x-lanyard-event'] === 'drift.detected');
    const slackDrifts = () => slack.deliveredTo('/slack').filter((r) => JSON.stringify(r.body).includes(':warning:'));
    const settled = async () => waitFor('the outbox to drain', async () => (await api.get('/deployments/home/status')).outward?.pending === 0, 30_000, 200);
    const deployedSha = (await api.get('/deployments/home/status')).deployed.sha as string;
    const file = (path: string, change: 'modified' | 'added') => ({ path, change, since: Date.now(), diff: null, diffNote: 'no diff in this test' });
    const look = async (files: ReturnType<typeof file>[]) => {
      await reportDrift({ type: 'drift', at: Date.now(), deployedSha, files, total: files.length });
      await settled();
    };
    // The report of the first test named automations.yaml: one notice each, with its files.
    await settled();
    expect(drifts()).toHaveLength(1);
    expect(slackDrifts()).toHaveLength(1);
    const first = drifts()[0]!;
    expect(await verify(NOTIFY_SECRET, first.rawBody, String(first.headers['x-lanyard-signature']))).toBe(true);
    expect(first.body).toMatchObject({ event: 'drift.detected', target: 'home', drift: { total: 1, files: [{ path: 'automations.yaml', change: 'modified', new: true }] } });

    await look([file('automations.yaml', 'modified')]);
    expect(drifts()).toHaveLength(1);
    await look([file('automations.yaml', 'modified'), file('scenes.yaml', 'added')]);
    expect(drifts()).toHaveLength(2);
    expect(slackDrifts()).toHaveLength(2);
    expect((drifts()[1]!.body as any).drift.files.map((f: any) => [f.path, f.new])).toEqual([
      ['automations.yaml', false],
      ['scenes.yaml', true],
    ]);
    await look([]);
    await look([file('scenes.yaml', 'added')]);
    expect(drifts()).toHaveLength(3);
    const seen = (await admin.get('/deployments/home/audit?action=drift.seen')).entries;
    expect(seen.map((e: any) => e.detail.new.map((f: any) => f.path))).toEqual([['scenes.yaml'], ['scenes.yaml'], ['automations.yaml']]);
  });
});
