// Rolling back on purpose: through the API to an earlier deployment or a kept backup, and with
// no edge at all from the relay's command line (break glass). The relay keeps only two backups
// here, so the edge's inventory of them can be seen to follow what `relay backups` lists.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHouseWithRelay, waitForDeployment, type ApiClient, type House, type RunningHouse, type TestEdge } from '../support/house.ts';
import { sendPush } from '../support/push.ts';
import type { RelayProcess } from '../support/relay-process.ts';

const run = promisify(execFile);
let running: RunningHouse;
let edge: TestEdge;
let house: House;
let relay: RelayProcess;
let api: ApiClient;
const finalStates = ['succeeded', 'failed', 'rolled_back'];
const script = (alias: string) => `goodnight:\n  alias: ${alias}\n  sequence: []\n`;

async function deployScript(alias: string) {
  const sha = await house.commit({ 'scripts.yaml': script(alias) }, alias);
  const id = await sendPush(edge.url, sha, alias);
  return (await waitForDeployment(api, id, finalStates)).deployment;
}

async function relayCli(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'relay/cli.ts', ...args, '--config', house.relayConfigPath], { cwd: join(import.meta.dirname, '../..') });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
  }
}

/** The backups `relay backups` lists: id, when, how many files. */
async function listedByRelay(): Promise<{ id: string; createdAt: number; files: number }[]> {
  const listed = await relayCli('backups');
  expect(listed.code, listed.stderr).toBe(0);
  return [...listed.stdout.matchAll(/^(lanyard-\S+) {2}(\S+) {2}(\d+) files/gm)].map((m) => ({ id: m[1]!, createdAt: Date.parse(m[2]!), files: Number(m[3]) }));
}

/** Waits until the edge's inventory lists exactly these backups (the relay reports after the job's result). */
async function edgeInventoryBecomes(ids: string[]): Promise<Record<string, any>[]> {
  let last: unknown = null;
  for (let i = 0; i < 150; i += 1) {
    const { backups } = await api.get('/deployments/home/backups');
    last = backups;
    if (backups && JSON.stringify(backups.items.map((b: { id: string }) => b.id)) === JSON.stringify(ids)) return backups.items;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the edge's inventory never became ${JSON.stringify(ids)}; last: ${JSON.stringify(last)}`);
}

beforeAll(async () => {
  running = await startHouseWithRelay({ relayOverrides: { deploy: { keepBackups: 2 } } });
  ({ edge, house, relay, api } = running);
});

afterAll(async () => {
  await running?.stop();
});

describe('rolling back on purpose', () => {
  it('the relay tells the edge once connected that the host keeps no backups yet', async () => {
    expect(await edgeInventoryBecomes([])).toEqual([]);
  });

  it('an operator rolls back to the previous deployment through the API', async () => {
    const first = await deployScript('Goodnight, first version');
    const second = await deployScript('Goodnight, second version');
    expect([first.status, second.status]).toEqual(['succeeded', 'succeeded']);
    const { status, body } = await api.post('/deployments/home/rollback', {});
    expect(status).toBe(202);
    expect(body.deployment).toMatchObject({ kind: 'rollback', rollbackOf: first.id, sha: first.sha });
    const { deployment } = await waitForDeployment(api, body.deployment.id, finalStates);
    expect(deployment.status).toBe('succeeded');
    expect(await readFile(join(house.configRoot, 'scripts.yaml'), 'utf8')).toBe(script('Goodnight, first version'));
  });

  it('an operator restores a kept backup through the API', async () => {
    const before = await readFile(join(house.configRoot, 'scripts.yaml'), 'utf8');
    const third = await deployScript('Goodnight, third version');
    expect(third.summary.backupId).toMatch(/^lanyard-/);
    const { body } = await api.post('/deployments/home/rollback', { backupId: third.summary.backupId });
    const { deployment, steps } = await waitForDeployment(api, body.deployment.id, finalStates);
    expect(deployment.status, JSON.stringify(steps)).toBe('succeeded');
    expect(steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toContain('restore:succeeded');
    expect(await readFile(join(house.configRoot, 'scripts.yaml'), 'utf8')).toBe(before);
  });

  it('the edge lists exactly the backups `relay backups` lists, and drops one the relay prunes', async () => {
    const before = await listedByRelay();
    // Two deploys and a rollback took backups so far, and the relay keeps two.
    expect(before).toHaveLength(2);
    await edgeInventoryBecomes(before.map((b) => b.id));

    const fifth = await deployScript('Goodnight, fifth version');
    expect(fifth.status).toBe('succeeded');
    const after = await listedByRelay();
    expect(after.map((b) => b.id)).toEqual([before[1]!.id, fifth.summary.backupId]);
    const items = await edgeInventoryBecomes(after.map((b) => b.id));
    expect(items.map((b) => ({ id: b.id, createdAt: b.createdAt, files: b.files }))).toEqual(after);
    expect(items[1]).toMatchObject({ id: fifth.summary.backupId, deploymentId: fifth.id, sha: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(items[1]!.bytes).toBeGreaterThan(0);

    // The pruned one is gone from the edge, and restoring it is refused up front.
    const pruned = before[0]!.id;
    const { status, body } = await api.post('/deployments/home/rollback', { backupId: pruned });
    expect(status).toBe(409);
    expect(body.error.message).toContain(`The relay no longer keeps backup "${pruned}"`);
  });

  it('with the edge gone, `relay backups` lists the backups and `relay rollback --to` restores one', async () => {
    const before = await readFile(join(house.configRoot, 'scripts.yaml'), 'utf8');
    const fourth = await deployScript('Goodnight, fourth version');
    await relay.kill('SIGTERM');
    await edge.stop();

    const listed = await relayCli('backups');
    expect(listed.stdout).toContain(fourth.summary.backupId);
    const restored = await relayCli('rollback', '--to', fourth.summary.backupId);
    expect(restored.stdout).toMatch(/^succeeded/m);
    expect(await readFile(join(house.configRoot, 'scripts.yaml'), 'utf8')).toBe(before);

    const unknown = await relayCli('rollback', '--to', 'lanyard-20200101T000000Z-nothing');
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toMatch(/no backup lanyard-20200101T000000Z-nothing/);
  });
});
