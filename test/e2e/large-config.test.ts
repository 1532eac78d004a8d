// A configuration with several thousand files deploys whole: one upload, one batch of renames.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, createHouse, startTestEdge, TEST_SECRETS, waitForDeployment, type House, type TestEdge } from '../support/house.ts';
import { sendPush } from '../support/push.ts';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';

let edge: TestEdge;
let house: House;
let relay: RelayProcess;

beforeAll(async () => {
  edge = await startTestEdge(await mkdtemp(join(tmpdir(), 'lanyard-edge-')));
  house = await createHouse({ edgeUrl: edge.url });
  relay = startRelayProcess(house.relayConfigPath);
  await relay.waitForLog(/edge ready/);
});

afterAll(async () => {
  await relay?.kill('SIGTERM');
  await edge?.stop();
  await house?.close();
});

describe('a large configuration', () => {
  it('deploys 3,000 new files, each byte-identical on the host', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 3000; i += 1) files[`www/floorplan/tile-${String(i).padStart(4, '0')}.svg`] = `<svg id="${i}">${'x'.repeat(i % 97)}</svg>\n`;
    const sha = await house.commit(files, 'Add the floor plan tiles');
    const id = await sendPush(edge.url, sha, 'Add the floor plan tiles');
    const { deployment } = await waitForDeployment(apiClient(edge.url, TEST_SECRETS.operatorToken), id, ['succeeded', 'failed', 'rolled_back'], 120_000);
    expect(deployment.status, `${deployment.reason}`).toBe('succeeded');
    expect(deployment.summary.filesChanged).toHaveLength(3000);
    expect(deployment.summary.activation).toBe('none');
    // A long apply shows how far it got.
    expect(relay.log).toMatch(/apply: 1000 of 3000 files in place/);
    expect(relay.log).toMatch(/apply: 3000 of 3000 files in place/);
    for (const [path, content] of Object.entries(files)) {
      const onHost = await readFile(join(house.configRoot, path));
      expect(createHash('sha256').update(onHost).digest('hex'), path).toBe(createHash('sha256').update(content).digest('hex'));
    }
  }, 180_000);
});
