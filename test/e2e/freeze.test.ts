// A freeze end to end (issue 18): the Worker under `wrangler dev`, a real relay deploying to the
// Home Assistant stand-in, and the status page in headless Chromium. An operator freezes the house
// from the page (a reason, a length, a confirmation); everyone sees "frozen until … by … because …"
// and the house's sensor says so too; a push made meanwhile is recorded and queued but nothing on
// the host changes; "Unfreeze" on the page lets the queued commit deploy, and the sensor clears.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESKTOP, guardedContext, launchBrowser, screenshot, signIn, type GuardedContext } from '../support/browser.ts';
import { apiClient, createHouse, startTestEdge, TEST_SECRETS, waitForDeployment, type ApiClient, type House, type TestEdge } from '../support/house.ts';
import { waitFor } from '../support/ports.ts';
import { sendPush } from '../support/push.ts';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';

const FINAL = ['succeeded', 'failed', 'rolled_back'];
const VIEWER_TOKEN = 'freeze-viewer-token-0123456789';
const REASON = 'Family visiting <for the holidays> & no changes';
const SENSOR = 'sensor.lanyard_home';

let dir: string;
let edge: TestEdge;
let house: House;
let relay: RelayProcess;
let api: ApiClient;
let browser: Browser;
const contexts: GuardedContext[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lanyard-freeze-'));
  edge = await startTestEdge(dir, {
    API_TOKENS: JSON.stringify([
      { name: 'otto', role: 'operator', token: TEST_SECRETS.operatorToken },
      { name: 'ada', role: 'admin', token: TEST_SECRETS.adminToken },
      { name: 'vera', role: 'viewer', token: VIEWER_TOKEN },
    ]),
    SESSION_SECRET: 'freeze-test-session-secret-0123456789abcdef',
  });
  house = await createHouse({ edgeUrl: edge.url });
  relay = startRelayProcess(house.relayConfigPath);
  await relay.waitForLog(/edge ready/);
  api = apiClient(edge.url, TEST_SECRETS.operatorToken);
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await relay?.kill('SIGTERM');
  await edge?.stop();
  await house?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function push(files: Record<string, string>, message: string): Promise<string> {
  return sendPush(edge.url, await house.commit(files, message), message);
}

describe('a freeze, from the status page to the house', () => {
  it('frozen from the page: banner and sensor say until when, by whom and why; a push waits; unfreeze deploys it', async () => {
    const first = (await waitForDeployment(api, await push({ 'scenes.yaml': '[]\n' }, 'Adopt the house'), FINAL, 90_000)).deployment;
    expect(first.status).toBe('succeeded');

    const operator = await guardedContext(browser, DESKTOP);
    contexts.push(operator);
    const page = await operator.newPage();
    await signIn(page, edge.url, TEST_SECRETS.operatorToken, '/targets/home');
    expect(await page.locator('#freeze').count()).toBe(0);

    // The form: a reason and a length, then the confirmation that says what a freeze does.
    const form = page.locator('form[data-control="freeze"]');
    await form.locator('input[name="reason"]').fill(REASON);
    await form.locator('select[name="for"]').selectOption('72');
    await Promise.all([page.waitForURL((url) => url.pathname === '/targets/home/freeze'), form.locator('button[type=submit]').click()]);
    const question = await page.locator('[data-question]').textContent();
    expect(question).toMatch(/^Freeze deploys to home until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\?$/);
    expect(await page.locator('[data-confirm]').textContent()).toContain(`Because: ${REASON}`);
    const asked = Date.now();
    await Promise.all([page.waitForURL((url) => url.pathname === '/targets/home'), page.click('[data-confirm-button]')]);

    const banner = page.locator('#freeze');
    await banner.waitFor();
    expect(await banner.locator('[data-frozen-field="by"]').textContent()).toBe('otto');
    expect(await banner.locator('[data-frozen-field="reason"]').textContent()).toBe(REASON);
    expect((await banner.textContent())!.replace(/\s+/g, ' ')).toMatch(/Frozen until .+ by otto because Family visiting <for the holidays> & no changes/);
    const status = await api.get('/deployments/home/status');
    expect(status.freeze).toMatchObject({ by: 'otto', reason: REASON });
    // Three days from when it was asked (the confirmation page fixed the end, to the second).
    expect(Math.abs(status.freeze.until - (asked + 72 * 3_600_000))).toBeLessThan(60_000);
    expect(await banner.getAttribute('data-frozen-until')).toBe(new Date(status.freeze.until).toISOString());

    // The house's sensor shows it too.
    const frozenSensor = await waitFor('the sensor to say frozen', async () => {
      const entity = house.ha.entity(SENSOR);
      return entity?.attributes.frozen === true ? entity : null;
    });
    expect(frozenSensor.attributes).toMatchObject({
      frozen: true,
      frozen_by: 'otto',
      frozen_reason: REASON,
      frozen_until: new Date(status.freeze.until).toISOString(),
      deployment_id: first.id,
    });
    expect(frozenSensor.state).toBe('succeeded');

    // A push while frozen: recorded and queued, the page says it is held; the host keeps its files.
    const heldId = await push({ 'scripts.yaml': 'good_night:\n  sequence: []\n' }, 'Add a good-night script');
    const held = await api.get(`/deployments/home/logs?deploymentId=${heldId}`);
    expect(held.deployment).toMatchObject({ status: 'queued', attempt: 0 });
    await page.locator('#now [data-queued] li[data-deployment="' + heldId + '"]').waitFor();
    expect(await page.locator('[data-fact="state"]').textContent()).toContain('1 queued, held by the freeze');
    expect(await banner.textContent()).toContain('1 deployment waits for it');
    expect(await readFile(join(house.configRoot, 'scripts.yaml'), 'utf8')).not.toContain('good_night');
    await screenshot(page, 'frozen');

    // A viewer sees the banner, never the controls.
    const viewer = await guardedContext(browser, DESKTOP);
    contexts.push(viewer);
    const read = await viewer.newPage();
    await signIn(read, edge.url, VIEWER_TOKEN, '/targets/home');
    expect(await read.locator('#freeze [data-frozen-field="reason"]').textContent()).toBe(REASON);
    expect(await read.locator('[data-action="unfreeze"], form[data-control="freeze"]').count()).toBe(0);

    // Unfreeze from the banner: the queue goes, the held commit deploys, the banner and the sensor clear.
    await Promise.all([page.waitForURL((url) => url.pathname === '/targets/home/unfreeze'), banner.locator('[data-action="unfreeze"]').click()]);
    expect(await page.locator('[data-confirm]').textContent()).toContain(`The queue goes again: ${heldId}`);
    await Promise.all([page.waitForURL((url) => url.pathname === '/targets/home'), page.click('[data-confirm-button]')]);
    const deployed = (await waitForDeployment(api, heldId, FINAL, 90_000)).deployment;
    expect(deployed.status).toBe('succeeded');
    expect(await readFile(join(house.configRoot, 'scripts.yaml'), 'utf8')).toBe('good_night:\n  sequence: []\n');
    await page.locator('#freeze').waitFor({ state: 'detached' });
    const thawed = await waitFor('the sensor to say not frozen', async () => {
      const entity = house.ha.entity(SENSOR);
      return entity?.attributes.frozen === false && entity.attributes.deployment_id === heldId ? entity : null;
    });
    expect(thawed.attributes).toMatchObject({ frozen: false, frozen_until: null, frozen_by: null, frozen_reason: null });

    const trail = (await apiClient(edge.url, TEST_SECRETS.adminToken).get('/deployments/home/audit?limit=50')).entries.map((e: any) => e.action);
    expect(trail.indexOf('freeze.lifted')).toBeLessThan(trail.indexOf('freeze.set'));
    expect(operator.offsite).toEqual([]);
    expect(operator.console.filter((m) => !/WebSocket|Failed to load resource/.test(m))).toEqual([]);
  });
});
