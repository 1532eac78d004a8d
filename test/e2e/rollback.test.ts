// Rolling back on purpose: through the API to an earlier deployment or a kept backup, and with
// no edge at all from the relay's command line (break glass).
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

beforeAll(async () => {
  running = await startHouseWithRelay();
  ({ edge, house, relay, api } = running);
});

afterAll(async () => {
  await running?.stop();
});

describe('rolling back on purpose', () => {
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
