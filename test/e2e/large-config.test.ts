// A configuration with several thousand files deploys whole: one upload, one batch of renames.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathCount } from '../../shared/deployment.ts';
import { startHouseWithRelay, waitForDeployment, type RunningHouse } from '../support/house.ts';
import { sendPush } from '../support/push.ts';

let running: RunningHouse;

beforeAll(async () => {
  running = await startHouseWithRelay();
});

afterAll(async () => {
  await running?.stop();
});

describe('a large configuration', () => {
  it('deploys 3,000 new files, each byte-identical on the host', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 3000; i += 1) files[`www/floorplan/tile-${String(i).padStart(4, '0')}.svg`] = `<svg id="${i}">${'x'.repeat(i % 97)}</svg>\n`;
    const { house, edge, relay, api } = running;
    const sha = await house.commit(files, 'Add the floor plan tiles');
    const id = await sendPush(edge.url, sha, 'Add the floor plan tiles');
    const { deployment } = await waitForDeployment(api, id, ['succeeded', 'failed', 'rolled_back'], 120_000);
    expect(deployment.status, `${deployment.reason}`).toBe('succeeded');
    // The report names the first files and counts them all: 3,000 names would not fit one frame.
    expect(pathCount(deployment.summary, 'filesChanged')).toBe(3000);
    expect(deployment.summary.filesChanged.length).toBeGreaterThan(0);
    expect(deployment.summary.filesChanged.filter((path: string) => !(path in files))).toEqual([]);
    expect(deployment.summary.activation).toBe('none');
    // A long apply shows how far it got.
    expect(relay.log).toMatch(/apply: 1000 of 3000 files in place/);
    expect(relay.log).toMatch(/apply: 3000 of 3000 files in place/);
    for (const [path, content] of Object.entries(files)) {
      const onHost = await readFile(join(running.house.configRoot, path));
      expect(createHash('sha256').update(onHost).digest('hex'), path).toBe(createHash('sha256').update(content).digest('hex'));
    }
  }, 180_000);
});
