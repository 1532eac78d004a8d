// End to end with the local transport: a signed push reaches the edge (wrangler dev), the relay
// process deploys it to a Home Assistant folder served by the stand-in, and every failure leaves
// the host byte-identical.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_ONLY_FILES, snapshotTree, startHouseWithRelay, waitForDeployment, type ApiClient, type House, type RunningHouse, type TestEdge } from '../support/house.ts';
import { sendPush } from '../support/push.ts';
import type { RelayProcess } from '../support/relay-process.ts';

let running: RunningHouse;
let edge: TestEdge;
let house: House;
let relay: RelayProcess;
let api: ApiClient;

beforeAll(async () => {
  running = await startHouseWithRelay();
  ({ edge, house, relay, api } = running);
});

afterAll(async () => {
  await running?.stop();
});

const hostOnly = (path: string) => path === '.lanyard' || path.startsWith('.lanyard/');

describe('deploying with the local transport', () => {
  it('a one-file change moves only that file and reloads automations, without a restart', async () => {
    const before = await snapshotTree(house.configRoot);
    const automations = `${await readFile(join(house.work, 'automations.yaml'), 'utf8')}- id: garage_closed_at_night\n  alias: Close the garage at night\n  trigger:\n    - platform: time\n      at: "23:00:00"\n  action: []\n`;
    const sha = await house.commit({ 'automations.yaml': automations }, 'Close the garage at night');
    const id = await sendPush(edge.url, sha, 'Close the garage at night');
    const { deployment, steps } = await waitForDeployment(api, id, ['succeeded', 'failed', 'rolled_back']);
    expect(deployment.status, JSON.stringify({ deployment, steps, log: relay.log.slice(-3000) })).toBe('succeeded');
    expect(deployment.summary).toMatchObject({ filesChanged: ['automations.yaml'], activation: 'reload', reloadedDomains: ['automation'] });
    expect(await readFile(join(house.configRoot, 'automations.yaml'), 'utf8')).toBe(automations);

    const after = await snapshotTree(house.configRoot, hostOnly);
    const changed = Object.keys(after).filter((p) => JSON.stringify(after[p]) !== JSON.stringify(before[p]));
    expect(changed).toEqual(['automations.yaml']);
    expect(house.ha.callsTo('automation', 'reload')).toHaveLength(1);
    expect(house.ha.restarts).toBe(0);
    for (const path of Object.keys(HOST_ONLY_FILES)) expect(after[path]).toEqual(before[path]);
    expect(steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual(
      expect.arrayContaining(['fetch:succeeded', 'plan:succeeded', 'backup:succeeded', 'apply:succeeded', 'check:succeeded', 'activate:succeeded', 'verify:succeeded', 'record:succeeded']),
    );
  });

  it('an invalid configuration is rolled back to byte-identical, with Home Assistant\'s error quoted', async () => {
    const before = await snapshotTree(house.configRoot, hostOnly);
    const sha = await house.commit({ 'configuration.yaml': `${await readFile(join(house.work, 'configuration.yaml'), 'utf8')}\nsensor: !include sensors.yaml\n` }, 'Add sensors (forgot the file)');
    const id = await sendPush(edge.url, sha, 'Add sensors (forgot the file)');
    const { deployment } = await waitForDeployment(api, id, ['succeeded', 'failed', 'rolled_back']);
    expect(deployment.status).toBe('rolled_back');
    expect(deployment.reason).toMatch(/invalid.*sensors\.yaml/s);
    expect(await snapshotTree(house.configRoot, hostOnly)).toEqual(before);
  });
});
