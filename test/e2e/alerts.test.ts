// Alerts on the phone, end to end: the edge under wrangler dev, a real relay process whose config
// names `notify.mobile_app_pixel_8`, and the Home Assistant stand-in recording the notify call. A
// deploy that is rolled back becomes a notification whose tap opens the deployment's status page; a
// notify service that fails keeps the alert in the edge's outbox, and a relay started again later
// delivers it.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, createHouse, startTestEdge, TEST_SECRETS, waitForDeployment, type ApiClient, type House, type TestEdge } from '../support/house.ts';
import { waitFor } from '../support/ports.ts';
import { sendPush } from '../support/push.ts';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';

/** Only ever written into links; nothing fetches it. */
const PUBLIC_URL = 'https://lanyard.example.org';
const PHONE = 'mobile_app_pixel_8';
const FINAL = ['succeeded', 'failed', 'rolled_back'];

let edge: TestEdge;
let house: House;
let relay: RelayProcess;
let api: ApiClient;

beforeAll(async () => {
  edge = await startTestEdge(await mkdtemp(join(tmpdir(), 'lanyard-alerts-')), { PUBLIC_URL, OUTBOX_RETRY_BASE_MS: '300' });
  house = await createHouse({ edgeUrl: edge.url, relayOverrides: { alerts: { notify: [`notify.${PHONE}`] } } });
  relay = startRelayProcess(house.relayConfigPath);
  await relay.waitForLog(/edge ready/);
  api = apiClient(edge.url, TEST_SECRETS.operatorToken);
});

afterAll(async () => {
  await relay?.kill('SIGTERM');
  await edge?.stop();
  await house?.close();
});

async function deployBroken(message: string): Promise<{ sha: string; id: string }> {
  const original = await readFile(join(house.work, 'configuration.yaml'), 'utf8');
  const sha = await house.commit({ 'configuration.yaml': `${original}\n# ${message}\nsensor: !include missing-${Date.now()}.yaml\n` }, message);
  const id = await sendPush(edge.url, sha, message);
  const { deployment } = await waitForDeployment(api, id, FINAL);
  expect(deployment.status).toBe('rolled_back');
  await house.commit({ 'configuration.yaml': original }, 'Put the configuration back');
  return { sha, id };
}

async function houseAlertOf(id: string): Promise<Record<string, any> | undefined> {
  const { outward } = await api.get(`/deployments/home/logs?deploymentId=${id}`);
  return (outward as Record<string, any>[]).find((o) => o.channel === 'house');
}

describe('alerts on the phone', () => {
  it('a rolled-back deploy notifies the phone, and a tap opens the deployment on the status page', async () => {
    const { sha, id } = await deployBroken('Add sensors (forgot the file)');
    const [call] = await waitFor('the phone to be notified', async () => {
      const calls = house.ha.callsTo('notify', PHONE);
      return calls.length ? calls : null;
    });
    const page = `${PUBLIC_URL}/targets/home?deployment=${id}`;
    expect(call!.data).toEqual({
      title: `home: deploy of ${sha.slice(0, 7)} rolled back`,
      message: expect.stringMatching(/^Home Assistant is back on the configuration it had before\.\nReason: .*\nCommit: Add sensors \(forgot the file\)$/s),
      data: { url: page, clickAction: page },
    });
    await waitFor('the edge to record the alert as delivered', async () => (await houseAlertOf(id))?.state === 'delivered');
    expect(house.ha.callsTo('notify', PHONE)).toHaveLength(1);
  });

  it('a phone Home Assistant cannot reach keeps the alert in the outbox, and a relay started later delivers it', async () => {
    house.ha.answer500(/\/api\/services\/notify\//);
    const before = house.ha.callsTo('notify', PHONE).length;
    const { id } = await deployBroken('Another forgotten file');
    const waiting = await waitFor('the refusal to show', async () => {
      const alert = await houseAlertOf(id);
      return alert?.lastError ? alert : null;
    });
    expect(waiting).toMatchObject({ state: 'pending', lastError: expect.stringMatching(/^the relay could not pass it on: notify\.mobile_app_pixel_8: "HTTP 500/) });

    await relay.kill('SIGTERM');
    house.ha.reset();
    relay = startRelayProcess(house.relayConfigPath);
    await waitFor('the edge to record the alert as delivered', async () => (await houseAlertOf(id))?.state === 'delivered');
    const calls = house.ha.callsTo('notify', PHONE).slice(before);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.data).toMatchObject({ data: { url: `${PUBLIC_URL}/targets/home?deployment=${id}` } });
  });
});
