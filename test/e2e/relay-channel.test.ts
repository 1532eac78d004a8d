// The relay channel end to end: a real relay process against wrangler dev. Wrong token, a kill
// in the middle of a job, an edge restart, and a second relay for the same target.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, createHouse, snapshotTree, startTestEdge, TEST_SECRETS, waitForDeployment, type ApiClient, type House, type TestEdge } from '../support/house.ts';
import { sendPush } from '../support/push.ts';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';

let edge: TestEdge;
let house: House;
let api: ApiClient;
let admin: ApiClient;
const relays: RelayProcess[] = [];

function relay(configPath = house.relayConfigPath): RelayProcess {
  const r = startRelayProcess(configPath);
  relays.push(r);
  return r;
}

async function variantConfig(name: string, change: (config: Record<string, any>) => void): Promise<string> {
  const config = parse(await readFile(house.relayConfigPath, 'utf8')) as Record<string, any>;
  change(config);
  const path = join(house.dir, `${name}.yaml`);
  await writeFile(path, stringify(config));
  return path;
}

const notLanyard = (path: string) => path === '.lanyard' || path.startsWith('.lanyard/');

beforeAll(async () => {
  edge = await startTestEdge(await mkdtemp(join(tmpdir(), 'lanyard-edge-')));
  house = await createHouse({ edgeUrl: edge.url });
  api = apiClient(edge.url, TEST_SECRETS.operatorToken);
  admin = apiClient(edge.url, TEST_SECRETS.adminToken);
});

afterAll(async () => {
  await Promise.all(relays.map((r) => r.kill('SIGKILL')));
  await edge?.stop();
  await house?.close();
});

describe('the relay channel', () => {
  it('a relay with a wrong token is refused before the upgrade, says why, and the edge logs it in the access log, not the audit trail', async () => {
    const wrong = relay(await variantConfig('wrong-token', (c) => (c.edge.token = 'not-the-relay-token')));
    await wrong.waitForLog(/edge refused the connection: HTTP 401 \(check edge\.token/);
    await wrong.kill();
    const { entries } = await admin.get('/access-log?action=relay.refused');
    expect(entries.some((e: { reason: string }) => e.reason === 'wrong relay token for target home')).toBe(true);
    const trail = await admin.get('/deployments/home/audit');
    expect(trail.entries.some((e: { action: string }) => e.action === 'relay.refused')).toBe(false);
  });

  it('a relay killed between apply and check rolls back on restart; the edge learns the truth and nothing runs twice', async () => {
    const first = relay();
    await first.waitForLog(/edge ready/);
    const before = await snapshotTree(house.configRoot, notLanyard);
    house.ha.hang(/check_config/);
    const sha = await house.commit({ 'scripts.yaml': 'goodnight:\n  alias: Goodnight, gently\n  sequence: []\n' }, 'Gentler goodnight');
    const id = await sendPush(edge.url, sha, 'Gentler goodnight');
    await first.waitForLog(new RegExp(`${id} check: started`));
    expect(await readFile(join(house.configRoot, 'scripts.yaml'), 'utf8')).toContain('gently');
    await first.kill('SIGKILL');
    house.ha.reset();

    const second = relay();
    await second.waitForLog(new RegExp(`journal: job ${id} was interrupted at step check`));
    const { deployment } = await waitForDeployment(api, id, ['rolled_back', 'failed', 'succeeded']);
    expect(deployment.status).toBe('rolled_back');
    expect(deployment.reason).toMatch(/relay was stopped during check/);
    expect(await snapshotTree(house.configRoot, notLanyard)).toEqual(before);
    // Recovery restored; it did not apply the commit a second time.
    expect(second.log).not.toMatch(new RegExp(`${id} apply: started`));
    await second.kill('SIGTERM');
  });

  it('reconnects by itself when the edge restarts, and deploys afterwards', async () => {
    const r = relay();
    await r.waitForLog(/edge ready/);
    const readyLines = () => r.log.split('\n').filter((l) => /edge ready/.test(l)).length;
    await edge.restart();
    await r.waitForLog(/edge waiting: closed/);
    const deadline = Date.now() + 30_000;
    while (readyLines() < 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    expect(readyLines()).toBe(2);
    const sha = await house.commit({ 'groups.yaml': 'downstairs:\n  name: Downstairs\n  entities:\n    - light.porch\n' }, 'Smaller group');
    const id = await sendPush(edge.url, sha, 'Smaller group');
    const { deployment } = await waitForDeployment(api, id, ['succeeded', 'failed', 'rolled_back']);
    expect(deployment.status).toBe('succeeded');
    await r.kill('SIGTERM');
  });

  it('a second relay for the same target replaces the first, which says so and backs off', async () => {
    const first = relay();
    await first.waitForLog(/edge ready/);
    const second = relay(await variantConfig('second-relay', (c) => ((c.relayId = 'second-relay'), (c.stateDir = join(house.dir, 'second-state')))));
    await second.waitForLog(/edge ready/);
    await first.waitForLog(/another relay connected for target home and replaced this one/);
    const status = await api.get('/deployments/home/status');
    expect(status.relay).toMatchObject({ connected: true, relayId: 'second-relay' });
    await first.kill();
    await second.kill('SIGTERM');
  });
});
