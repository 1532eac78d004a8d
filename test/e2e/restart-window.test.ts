// Restart windows end to end (issue 18): the edge under wrangler dev with a window shut now in
// Europe/Amsterdam, a real relay over real sshd, and Home Assistant's stand-in. A reload-only change
// goes through at once; a restart-class change is checked, put back byte for byte and waits, with
// the reason on the status page (Chromium); "restart now" then deploys it; a bad config with the
// restart held is rolled back at once, not at the window.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESKTOP, guardedContext, launchBrowser, signIn } from '../support/browser.ts';
import { snapshotTree, TEST_REPO, TEST_SECRETS, waitForDeployment, type ApiClient, type House, type TestEdge } from '../support/house.ts';
import { sendPush } from '../support/push.ts';
import type { RelayProcess } from '../support/relay-process.ts';
import type { Sshd } from '../support/sshd.ts';
import { startSshHouse, stopSshHouse } from '../support/ssh-house.ts';

const ZONE = 'Europe/Amsterdam';
const SETTLED = ['succeeded', 'failed', 'rolled_back', 'waiting_for_window'];

/** `HH:MM` on the house's clock, `hours` from now. */
function localHhmm(hours: number): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(Date.now() + hours * 3_600_000);
  return `${parts.find((p) => p.type === 'hour')!.value}:${parts.find((p) => p.type === 'minute')!.value}`;
}

/** A window that opens six hours from now on the house's clock: shut for the whole test. */
const SHUT_WINDOW = `${localHhmm(6)}-${localHhmm(7)}`;

let sshd: Sshd;
let edge: TestEdge;
let house: House;
let relay: RelayProcess;
let api: ApiClient;
let browser: Browser | undefined;

const notLanyard = (path: string) => path === '.lanyard' || path.startsWith('.lanyard/');

async function push(files: Record<string, string | null>, message: string): Promise<{ id: string; deployment: any; steps: any[] }> {
  const sha = await house.commit(files, message);
  const id = await sendPush(edge.url, sha, message);
  const { deployment, steps } = await waitForDeployment(api, id, SETTLED, 90_000);
  return { id, deployment, steps };
}

beforeAll(async () => {
  ({ sshd, edge, house, relay, api } = await startSshHouse({
    edgeVars: { TARGETS: JSON.stringify([{ name: 'home', repo: TEST_REPO, branch: 'main', relayTokenSecret: 'RELAY_TOKEN_HOME', restartWindows: [SHUT_WINDOW], timeZone: ZONE }]) },
  }));
});

afterAll(async () => {
  await browser?.close();
  await stopSshHouse({ relay, edge, house, sshd });
});

describe('a restart window shut now', () => {
  it('lets a reload-only change through at once', async () => {
    const automations = `${await readFile(join(house.work, 'automations.yaml'), 'utf8')}- id: window_reload\n  alias: Reload only\n  trigger: []\n  action: []\n`;
    const { deployment, steps } = await push({ 'automations.yaml': automations }, 'An automation: a reload is enough');
    expect(deployment.status, JSON.stringify(steps)).toBe('succeeded');
    expect(deployment.summary).toMatchObject({ activation: 'reload', filesChanged: ['automations.yaml'] });
    expect(house.ha.restarts).toBe(0);
    expect(await readFile(join(house.configRoot, 'automations.yaml'), 'utf8')).toBe(automations);
  });

  it('checks a restart-class change, puts the host back byte for byte, and waits with the reason', async () => {
    const before = await snapshotTree(house.configRoot, notLanyard);
    const config = `${await readFile(join(house.work, 'configuration.yaml'), 'utf8')}\nrecorder:\n  purge_keep_days: 5\n`;
    const { id, deployment, steps } = await push({ 'configuration.yaml': config }, 'Keep five days of history');
    expect(deployment.status, JSON.stringify(steps)).toBe('waiting_for_window');
    expect(deployment.summary).toMatchObject({ restartHeld: true, activation: 'restart', filesChanged: ['configuration.yaml'] });
    expect(deployment.reason).toMatch(/^needs a restart \(configuration\.yaml: .*\); checked by Home Assistant and put back; waits for the restart window \d\d:\d\d-\d\d:\d\d Europe\/Amsterdam, opens /);
    expect(deployment.reason).toContain(SHUT_WINDOW);
    // Said before anything was written, and checked by Home Assistant before it was put back.
    const said = steps.find((s: any) => s.step === 'drift' && s.status === 'succeeded');
    expect(said.message).toMatch(/needs restart \(configuration\.yaml/);
    expect(said.detail).toMatchObject({ activation: 'restart', restartHeld: true });
    const order = steps.filter((s: any) => s.status === 'succeeded').map((s: any) => s.step);
    expect(order).toEqual(['fetch', 'plan', 'drift', 'backup', 'apply', 'check', 'rollback']);
    expect(house.ha.restarts).toBe(0);
    expect(await snapshotTree(house.configRoot, notLanyard)).toEqual(before);

    // The page says it waits, why, and offers "restart now" behind a confirmation.
    browser = await launchBrowser();
    const guarded = await guardedContext(browser, DESKTOP);
    const page = await guarded.newPage();
    await signIn(page, edge.url, TEST_SECRETS.operatorToken, '/targets/home');
    const row = page.locator(`#restart-window li[data-deployment="${id}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.locator('[data-badge="waiting_for_window"]').count()).toBe(1);
    expect(await row.locator('[data-reason]').innerText()).toContain('waits for the restart window');
    await row.locator('a[data-action="restart-now"]').click();
    await page.waitForURL((url) => url.pathname === '/targets/home/restart-now');
    expect(await page.locator('body').innerText()).toMatch(/restarting Home Assistant outside its restart window/);
    await Promise.all([page.waitForURL((url) => url.pathname === '/targets/home'), page.click('[data-confirm-button]')]);
    const done = await waitForDeployment(api, id, ['succeeded', 'failed', 'rolled_back'], 90_000);
    expect(done.deployment.status, JSON.stringify(done.steps)).toBe('succeeded');
    expect(done.deployment.summary).toMatchObject({ activation: 'restart' });
    expect(house.ha.restarts).toBe(1);
    expect(await readFile(join(house.configRoot, 'configuration.yaml'), 'utf8')).toBe(config);
    expect(guarded.offsite).toEqual([]);
    await guarded.close();
  });

  it('rolls a bad restart-class config back now, not at the window', async () => {
    const before = await snapshotTree(house.configRoot, notLanyard);
    const restartsBefore = house.ha.restarts;
    house.ha.failCheckConfig('Invalid config for [recorder]: expected int for dictionary value @ data[\'recorder\'][\'purge_keep_days\']');
    try {
      const config = `${await readFile(join(house.work, 'configuration.yaml'), 'utf8')}\nhttp:\n  server_port: 8124\n`;
      const { deployment, steps } = await push({ 'configuration.yaml': config }, 'A broken recorder setting');
      expect(deployment.status, JSON.stringify(steps)).toBe('rolled_back');
      expect(deployment.reason).toMatch(/configuration is invalid/);
    } finally {
      house.ha.reset();
    }
    expect(house.ha.restarts).toBe(restartsBefore);
    expect(await snapshotTree(house.configRoot, notLanyard)).toEqual(before);
  });
});
