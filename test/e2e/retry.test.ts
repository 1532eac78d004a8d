// A refused deploy, fixed by the owner on the relay's side and tried again, end to end: a real
// relay process against wrangler dev. Nothing in the repository changes, so no push comes and
// GitHub's "Redeliver" answers `duplicate`; the way on is the fix the refusal names, then "try again".
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, snapshotTree, startHouseWithRelay, waitForDeployment, type RunningHouse } from '../support/house.ts';
import { sendPush } from '../support/push.ts';
import { startRelayProcess } from '../support/relay-process.ts';

let running: RunningHouse;

beforeAll(async () => {
  running = await startHouseWithRelay();
});

afterAll(async () => {
  await running?.stop();
});

describe('a refused deploy tried again', () => {
  it('fails naming the relay.yaml line; with that line added and the relay restarted, trying it again deploys the commit without the link', async () => {
    const { house, api, edge } = running;
    await symlink('../.storage', join(house.work, 'www-storage'));
    await writeFile(join(house.work, 'groups.yaml'), 'kitchen:\n  name: Kitchen\n  entities: []\n');
    await git(house.work, 'add', '-A');
    await git(house.work, 'commit', '--quiet', '-m', 'A kitchen group, and a link that reaches .storage');
    await git(house.work, 'push', '--quiet', 'origin', 'HEAD:main');
    const sha = await git(house.work, 'rev-parse', 'HEAD');
    const before = await snapshotTree(house.configRoot);

    const refused = (await waitForDeployment(api, await sendPush(edge.url, sha, 'A kitchen group'), ['failed'])).deployment;
    expect(refused.reason).toContain("www-storage is a symlink");
    expect(refused.reason).toContain("fix: add `- 'www-storage'` to `exclude:` in lanyard.yaml (or to `deploy.exclude` in relay.yaml)");
    expect(await snapshotTree(house.configRoot)).toEqual(before);

    // Tried again unchanged, it stops the same way, with nothing written.
    const same = (await api.post('/deployments/home/retry', { deploymentId: refused.id })).body.deployment;
    const sameEnd = (await waitForDeployment(api, same.id, ['failed'])).deployment;
    expect(sameEnd.reason).toBe(refused.reason);

    // The owner follows the fix on the relay's side, and restarts it.
    const config = parse(await readFile(house.relayConfigPath, 'utf8')) as Record<string, any>;
    config.deploy = { ...config.deploy, exclude: ['www-storage'] };
    await writeFile(house.relayConfigPath, stringify(config));
    await running.relay.kill('SIGTERM');
    running.relay = startRelayProcess(house.relayConfigPath);
    await running.relay.waitForLog(/edge ready/);

    const retried = await api.post('/deployments/home/retry', { deploymentId: same.id });
    expect(retried).toMatchObject({ status: 202, body: { deployment: { sha, trigger: 'retry' } } });
    await waitForDeployment(api, retried.body.deployment.id, ['succeeded']);
    expect(await readFile(join(house.configRoot, 'groups.yaml'), 'utf8')).toContain('Kitchen');
    expect((await snapshotTree(house.configRoot))['www-storage']).toBeUndefined();
  });
});
