// Home Assistant's own backup before a restart, end to end: a real relay deploying over a real sshd,
// the edge under wrangler dev, Home Assistant and its Supervisor as the stand-in (HA OS: the relay
// has a long-lived token, so it asks through HA's hassio.backup_partial service). A restart-class
// deploy takes one named after the deployment and records its slug, and the page links it on Home
// Assistant's Backups page; a reload-class deploy takes none; a backup HA cannot make stops the
// deploy before anything is written (the host byte-identical, no Lanyard backup, no restart), each
// way it can go wrong; with `onFailure: continue` the deploy goes on with Lanyard's backup alone.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, guardedContext, screenshot, signIn } from '../support/browser.ts';
import { apiClient, createHouse, snapshotTree, sshTransportOf, startTestEdge, TEST_REPO, TEST_SECRETS, waitForDeployment, type ApiClient, type House, type TestEdge } from '../support/house.ts';
import { sendPush } from '../support/push.ts';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';

const FINAL = ['succeeded', 'failed', 'rolled_back'];
const SESSION_SECRET = 'ha-backup-test-session-secret-0123456789';
/** Where the target says its Home Assistant is: only ever a link on the page, never fetched. */
const HOME_ASSISTANT_URL = 'http://127.0.0.1:8123';
const notLanyard = (path: string) => path === '.lanyard' || path.startsWith('.lanyard/');

let dir: string;
let sshd: Sshd;
let edge: TestEdge;
let house: House;
let relay: RelayProcess;
let api: ApiClient;
let browser: Browser;
let baseConfig: string;
let keepDays = 1;

async function startRelay(backup: Record<string, unknown>): Promise<void> {
  const config = parse(await readFile(house.relayConfigPath, 'utf8')) as { homeAssistant: Record<string, unknown> };
  config.homeAssistant.backup = backup;
  await writeFile(house.relayConfigPath, stringify(config));
  relay = startRelayProcess(house.relayConfigPath);
  await relay.waitForLog(/edge ready/);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lanyard-ha-backup-'));
  sshd = await startSshd();
  edge = await startTestEdge(dir, {
    TARGETS: JSON.stringify([{ name: 'home', repo: TEST_REPO, branch: 'main', relayTokenSecret: 'RELAY_TOKEN_HOME', environmentUrl: HOME_ASSISTANT_URL }]),
    SESSION_SECRET,
  });
  house = await createHouse({ edgeUrl: edge.url, transport: sshTransportOf(sshd) });
  baseConfig = await readFile(join(house.work, 'configuration.yaml'), 'utf8');
  // The shortest wait the relay takes, so "never finishes" ends within the test.
  await startRelay({ enabled: true, timeoutSeconds: 10 });
  api = apiClient(edge.url, TEST_SECRETS.operatorToken);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await relay?.kill('SIGTERM');
  await edge?.stop();
  await house?.close();
  await sshd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A change Home Assistant reads only at start-up (the recorder): the deploy restarts it. */
async function deployRestartClass(message: string): Promise<{ sha: string; id: string; deployment: any; steps: any[] }> {
  keepDays += 1;
  return deploy({ 'configuration.yaml': `${baseConfig}\nrecorder:\n  purge_keep_days: ${keepDays}\n` }, message);
}

async function deploy(files: Record<string, string>, message: string): Promise<{ sha: string; id: string; deployment: any; steps: any[] }> {
  const sha = await house.commit(files, message);
  const id = await sendPush(edge.url, sha, message);
  const { deployment, steps } = await waitForDeployment(api, id, FINAL, 90_000);
  return { sha, id, deployment, steps };
}

const stepsNamed = (steps: any[], name: string) => steps.filter((s: { step: string }) => s.step === name);

describe('Home Assistant backups', () => {
  it('a restart-class deploy takes a Home Assistant backup named after it first, and the page links it', async () => {
    const { sha, id, deployment, steps } = await deployRestartClass('Keep more history');
    expect(deployment.status, JSON.stringify(steps)).toBe('succeeded');
    const name = `Lanyard ${id} before ${sha.slice(0, 7)}`;
    expect(house.ha.supervisor.backupRequests).toEqual([expect.objectContaining({ via: 'hassio.backup_partial', name, homeassistant: true })]);
    const made = house.ha.supervisor.backups[0]!;
    expect(made.name).toBe(name);
    expect(deployment.summary.homeAssistantBackup).toEqual({ slug: made.slug, name });
    // Home Assistant's backup first, then Lanyard's own (still the rollback source), then the restart.
    const order = steps.filter((s: { status: string }) => s.status === 'succeeded').map((s: { step: string }) => s.step);
    expect(order.indexOf('ha_backup')).toBeLessThan(order.indexOf('backup'));
    expect(deployment.summary.backupId).toMatch(/^lanyard-/);
    expect(house.ha.restarts).toBe(1);

    const guarded = await guardedContext(browser);
    const page = await guarded.newPage();
    await signIn(page, edge.url, TEST_SECRETS.operatorToken, `/targets/home?deployment=${id}`);
    const fact = page.locator('[data-fact="home-assistant-backup"]');
    await expect(fact.locator('a').getAttribute('href')).resolves.toBe(`${HOME_ASSISTANT_URL}/config/backup/details/${made.slug}`);
    expect(await fact.innerText()).toContain(name);
    expect(await fact.innerText()).toContain(made.slug);
    await screenshot(page, 'ha-backup-link');
    expect(guarded.offsite).toEqual([]);
    expect(guarded.console).toEqual([]);
    await guarded.close();
  });

  it('a deploy that only reloads takes no Home Assistant backup', async () => {
    const before = house.ha.supervisor.backupRequests.length;
    const automations = `${await readFile(join(house.work, 'automations.yaml'), 'utf8')}- id: hall_light\n  alias: Hall light\n  triggers: []\n  actions: []\n`;
    const { deployment, steps } = await deploy({ 'automations.yaml': automations }, 'Add the hall light');
    expect(deployment.status, JSON.stringify(steps)).toBe('succeeded');
    expect(deployment.summary.activation).toBe('reload');
    expect(stepsNamed(steps, 'ha_backup')).toEqual([]);
    expect(house.ha.supervisor.backupRequests).toHaveLength(before);
    expect(deployment.summary.homeAssistantBackup).toBeUndefined();
  });

  const misbehaviours: Array<[string, (h: House) => void, RegExp]> = [
    ['refuses', (h) => h.ha.supervisor.refuse(), /HTTP 500/],
    ['fails the job', (h) => h.ha.supervisor.failJob(), /HTTP 500/],
    ['answers a slug of the wrong shape', (h) => h.ha.supervisor.answerSlug('../../config/secrets'), /service_response\.backup/],
    ['never finishes', (h) => h.ha.supervisor.neverFinish(), /did not finish the backup within 10 s/],
  ];
  for (const [what, misbehave, why] of misbehaviours) {
    it(`when Home Assistant ${what}, the deploy stops before anything is written`, async () => {
      const host = await snapshotTree(house.configRoot, notLanyard);
      const lanyardBackups = await readdir(house.backupDir);
      const restarts = house.ha.restarts;
      misbehave(house);
      try {
        const { deployment, steps } = await deployRestartClass(`Restart while Home Assistant ${what}`);
        expect(deployment.status).toBe('failed');
        expect(deployment.reason).toMatch(/Home Assistant could not make its backup before this restart, so nothing was written/);
        expect(deployment.reason).toMatch(why);
        expect(stepsNamed(steps, 'ha_backup').at(-1).status).toBe('failed');
        expect(stepsNamed(steps, 'backup')).toEqual([]);
        expect(stepsNamed(steps, 'apply')).toEqual([]);
        expect(await snapshotTree(house.configRoot, notLanyard)).toEqual(host);
        expect(await readdir(house.backupDir)).toEqual(lanyardBackups);
        expect(house.ha.restarts).toBe(restarts);
      } finally {
        house.ha.supervisor.reset();
      }
    });
  }

  it('with onFailure: continue, a failed Home Assistant backup is noted and the deploy goes on', async () => {
    await relay.kill('SIGTERM');
    await startRelay({ enabled: true, onFailure: 'continue', timeoutSeconds: 10 });
    const restarts = house.ha.restarts;
    house.ha.supervisor.failJob();
    try {
      const { deployment, steps } = await deployRestartClass('Restart even without HA\'s backup');
      expect(deployment.status, JSON.stringify(steps)).toBe('succeeded');
      expect(stepsNamed(steps, 'ha_backup').at(-1).message).toMatch(/^not taken: .*Going on with Lanyard's own backup \(homeAssistant\.backup\.onFailure: continue\)/);
      expect(deployment.summary.homeAssistantBackup).toBeUndefined();
      expect(deployment.summary.backupId).toMatch(/^lanyard-/);
      expect(house.ha.restarts).toBe(restarts + 1);
    } finally {
      house.ha.supervisor.reset();
    }
  });
});
