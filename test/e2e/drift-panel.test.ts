// Drift on the status page, in headless Chromium against the Worker under `wrangler dev`, with a
// real relay deploying to the Home Assistant stand-in. An automation saved in Home Assistant's UI
// (the stand-in's automation editor) is seen by the relay's drift watch within one interval and
// held by the edge; it stops the next deploy on drift; asking to overwrite it is capped by the relay
// (its relay.yaml does not allow the edge to overwrite host edits), so that deploy stops again with
// nothing written; the drift panel shows the file and the watch's diff (folded until opened) with
// the ways on, and "keep the host's versions" from the page deploys the rest of the commit and
// leaves the UI edit where it is. secrets.yaml, changed on the host at the same time, is never
// named or shown. Slack and the signed webhook (receivers on 127.0.0.1) hear of each new drift the
// watch reports once, however many looks repeat it.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verify } from '@octokit/webhooks-methods';
import { DESKTOP, guardedContext, launchBrowser, screenshot, signIn, type GuardedContext } from '../support/browser.ts';
import { startNotifyReceiver, type NotifyReceiver } from '../support/notify-receiver.ts';
import { apiClient, createHouse, startTestEdge, TEST_SECRETS, waitForDeployment, type ApiClient, type House, type TestEdge } from '../support/house.ts';
import { waitFor } from '../support/ports.ts';
import { sendPush } from '../support/push.ts';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';
import { saveAutomationInTheUi } from '../support/home-assistant-ui-editor.ts';

const VIEWER_TOKEN = 'drift-viewer-token-0123456789';
const FINAL = ['succeeded', 'failed', 'rolled_back'];
const NOTIFY_SECRET = 'drift-notify-secret-0123456789';
const UI_EDIT = { alias: 'Made in the <UI> & kept', triggers: [], actions: [] };
const MARKER = 'LANYARD-DRIFT-PANEL-SECRET-MARKER-7c2e51';

let dir: string;
let edge: TestEdge;
let house: House;
let relay: RelayProcess;
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
  // tests are about drift that stops a deploy, so this relay merges nothing. Its drift watch looks
  // every second, so a UI edit reaches the edge without waiting for the next job.
  house = await createHouse({ edgeUrl: edge.url, relayOverrides: { deploy: { mergeFiles: [] }, watch: { intervalSeconds: 1 } } });
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

/** Saves an automation through Home Assistant's config API, as its UI does. */
async function saveInTheUi(id: string, config: Record<string, unknown>): Promise<void> {
  const response = await saveAutomationInTheUi({ url: house.ha.url, token: TEST_SECRETS.haToken }, id, config);
  expect(response.status, await response.text()).toBe(200);
}

describe('drift on the status page', () => {
  it('shows the drifted file with its diff and the ways on, and "keep the host\'s versions" deploys around the UI edit', async () => {
    const first = await deploy({ 'scenes.yaml': '[]\n' }, 'Adopt the house');
    expect(first.status).toBe('succeeded');
    const automations = join(house.configRoot, 'automations.yaml');
    const secrets = join(house.configRoot, 'secrets.yaml');
    await saveInTheUi('made_in_the_ui', UI_EDIT);
    await writeFile(secrets, `weather_api_key: "${MARKER}"\n`);
    const hostVersion = await readFile(automations, 'utf8');
    expect(hostVersion).toContain('- id: made_in_the_ui\n  alias: Made in the <UI> & kept\n');

    // The watch sees the UI edit between deploys and the edge holds its report; secrets.yaml,
    // changed at the same time, is never in it.
    const seen = await waitFor('the edge to hold the watch\'s report of the UI edit', async () => {
      const answer = await api.get('/deployments/home/drift');
      return answer.drift?.files.some((f: any) => f.path === 'automations.yaml' && f.diff?.includes('made_in_the_ui')) ? answer : null;
    });
    expect(seen.drift).toMatchObject({ deployedSha: first.sha, total: 1, files: [{ path: 'automations.yaml', change: 'modified' }] });
    expect(JSON.stringify(seen)).not.toContain('secrets.yaml');
    expect(JSON.stringify(seen)).not.toContain(MARKER);

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
    expect(await panel.locator('a[data-action="drift-capture"]').textContent()).toContain('Capture these edits first…');
    expect(await panel.locator('[data-drift-ways]').getAttribute('data-drift-ways')).toBe(capped.id);
    expect(await panel.locator('li[data-drift-path]').evaluateAll((items) => items.map((li) => li.getAttribute('data-drift-path')))).toEqual(['automations.yaml']);
    expect(await panel.textContent()).not.toContain('secrets.yaml');
    expect(await page.content()).not.toContain(MARKER);
    await screenshot(page, 'drift-panel');

    await panel.locator('a[data-action="drift-keep"]').click();
    await page.waitForURL((url) => url.pathname === '/targets/home/retry');
    expect(await page.locator('[data-question]').textContent()).toContain(`Deploy ${capped.id}`);
    expect(await page.locator('[data-question]').textContent()).toContain("keeping the host's versions of the files changed there");
    await Promise.all([page.waitForURL((url) => url.pathname === '/targets/home' && url.searchParams.has('deployment')), page.click('[data-confirm-button]')]);
    const keptId = new URL(page.url()).searchParams.get('deployment')!;

    const kept = (await waitForDeployment(api, keptId, FINAL, 90_000)).deployment;
    expect(kept).toMatchObject({ status: 'succeeded', trigger: 'retry', driftChoice: 'keep', summary: { drift: ['automations.yaml'] } });
    expect(await readFile(automations, 'utf8')).toBe(hostVersion);
    expect(await readFile(join(house.configRoot, 'scripts.yaml'), 'utf8')).toBe('good_night:\n  sequence: []\n');
    expect(await readFile(secrets, 'utf8')).toBe(`weather_api_key: "${MARKER}"\n`);
    const afterKeep = await api.get('/deployments/home/drift');
    expect(afterKeep.drift.files.map((f: any) => f.path)).toEqual(['automations.yaml']);
    expect(JSON.stringify(afterKeep)).not.toContain(MARKER);
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
    const drifts = () => hook.deliveredTo('/hook').filter((r) => r.headers['x-lanyard-event'] === 'drift.detected');
    const slackDrifts = () => slack.deliveredTo('/slack').filter((r) => JSON.stringify(r.body).includes(':warning:'));
    const settled = async () => waitFor('the outbox to drain', async () => (await api.get('/deployments/home/status')).outward?.pending === 0, 30_000, 200);
    const garden = join(house.configRoot, 'packages/garden.yaml');
    const deployedGarden = await readFile(garden, 'utf8');
    /** Waits for the watch to report exactly these drifted paths, then for the notices to go out. */
    const watchReports = async (paths: string[]) => {
      await waitFor(`the watch to report ${paths.join(', ') || 'no drift but the UI edit'}`, async () => {
        const { drift } = await api.get('/deployments/home/drift');
        return JSON.stringify(drift?.files.map((f: any) => f.path)) === JSON.stringify(paths);
      });
      await settled();
    };
    // The watch of the first test reported automations.yaml at every look since: one notice each, with its files.
    await watchReports(['automations.yaml']);
    expect(drifts()).toHaveLength(1);
    expect(slackDrifts()).toHaveLength(1);
    const first = drifts()[0]!;
    expect(await verify(NOTIFY_SECRET, first.rawBody, String(first.headers['x-lanyard-signature']))).toBe(true);
    expect(first.body).toMatchObject({ event: 'drift.detected', target: 'home', drift: { total: 1, files: [{ path: 'automations.yaml', change: 'modified', new: true }] } });

    await writeFile(garden, `${deployedGarden}  pool_pump:\n    name: Pool pump\n`);
    await watchReports(['automations.yaml', 'packages/garden.yaml']);
    expect(drifts()).toHaveLength(2);
    expect(slackDrifts()).toHaveLength(2);
    expect((drifts()[1]!.body as any).drift.files.map((f: any) => [f.path, f.new])).toEqual([
      ['automations.yaml', false],
      ['packages/garden.yaml', true],
    ]);
    // Put back as deployed, the file's drift clears; edited again, it is new again.
    await writeFile(garden, deployedGarden);
    await watchReports(['automations.yaml']);
    expect(drifts()).toHaveLength(2);
    await writeFile(garden, `${deployedGarden}  pool_heater:\n    name: Pool heater\n`);
    await watchReports(['automations.yaml', 'packages/garden.yaml']);
    expect(drifts()).toHaveLength(3);
    const seen = (await admin.get('/deployments/home/audit?action=drift.seen')).entries;
    expect(seen.map((e: any) => e.detail.new.map((f: any) => f.path))).toEqual([['packages/garden.yaml'], ['packages/garden.yaml'], ['automations.yaml']]);
  });
});
