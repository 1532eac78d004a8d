// The pipeline over SSH against a real OpenSSH sshd on 127.0.0.1: what happens to the house for
// each kind of change and each kind of failure. After every failure the host is compared with a
// full listing (hashes and modes) taken before it.
import { lstat, readdir, readFile, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, HOST_ONLY_FILES, snapshotTree, waitForDeployment, type ApiClient, type House, type TestEdge } from '../support/house.ts';
import { sendPush } from '../support/push.ts';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';
import type { Sshd } from '../support/sshd.ts';
import { startSshHouse, stopSshHouse } from '../support/ssh-house.ts';

let sshd: Sshd;
let edge: TestEdge;
let house: House;
let relay: RelayProcess;
let api: ApiClient;

const notLanyard = (path: string) => path === '.lanyard' || path.startsWith('.lanyard/');
const finalStates = ['succeeded', 'failed', 'rolled_back'];

async function deploy(files: Record<string, string | null>, message: string): Promise<{ sha: string; id: string; deployment: any; steps: any[] }> {
  const sha = await house.commit(files, message);
  const id = await sendPush(edge.url, sha, message);
  const { deployment, steps } = await waitForDeployment(api, id, finalStates, 90_000);
  return { sha, id, deployment, steps };
}

beforeAll(async () => {
  ({ sshd, edge, house, relay, api } = await startSshHouse({ relayOverrides: { deploy: { keepBackups: 3 } } }));
});

afterAll(() => stopSshHouse({ relay, edge, house, sshd }));

describe('the pipeline over ssh', () => {
  it('a configuration.yaml change restarts Home Assistant and waits until it runs again', async () => {
    // The recorder is read only at start-up: no reload covers it.
    const config = `${await readFile(join(house.work, 'configuration.yaml'), 'utf8')}\nrecorder:\n  purge_keep_days: 5\n`;
    const { deployment, steps } = await deploy({ 'configuration.yaml': config }, 'Keep five days of history');
    expect(deployment.status, JSON.stringify(steps)).toBe('succeeded');
    expect(deployment.summary).toMatchObject({ filesChanged: ['configuration.yaml'], activation: 'restart' });
    expect(house.ha.restarts).toBe(1);
    expect(await readFile(join(house.configRoot, 'configuration.yaml'), 'utf8')).toBe(config);
    expect(steps.find((s: { step: string; status: string }) => s.step === 'verify' && s.status === 'succeeded').message).toMatch(/Home Assistant running/);
  });

  it('deletes a file the previous deploy put there, and only that', async () => {
    const added = await deploy({ 'www/welcome.txt': 'Welcome home\n' }, 'Add a welcome page');
    expect(added.deployment.status).toBe('succeeded');
    expect(added.deployment.summary.activation).toBe('none');
    await writeFile(join(house.configRoot, 'www/notes-from-the-host.txt'), 'not deployed by Lanyard\n');
    const removed = await deploy({ 'www/welcome.txt': null }, 'Remove the welcome page');
    expect(removed.deployment.status).toBe('succeeded');
    expect(removed.deployment.summary.filesDeleted).toEqual(['www/welcome.txt']);
    await expect(lstat(join(house.configRoot, 'www/welcome.txt'))).rejects.toThrow(/ENOENT/);
    expect(await readFile(join(house.configRoot, 'www/notes-from-the-host.txt'), 'utf8')).toBe('not deployed by Lanyard\n');
  });

  it('never writes a secrets.yaml the repository holds, says so, and leaves the host\'s own state byte for byte', async () => {
    const before = await snapshotTree(house.configRoot, notLanyard);
    const { deployment, steps } = await deploy({ 'secrets.yaml': 'weather_api_key: "committed-by-mistake"\n', 'scenes.yaml': '[]\n' }, 'Oops, commit secrets');
    expect(deployment.status).toBe('succeeded');
    expect(steps.find((s: { step: string; status: string }) => s.step === 'plan' && s.status === 'succeeded').message).toMatch(/protected, not written: secrets\.yaml/);
    const after = await snapshotTree(house.configRoot, notLanyard);
    for (const path of [...Object.keys(HOST_ONLY_FILES), '.storage']) expect(after[path], path).toEqual(before[path]);
    expect(await readFile(join(house.configRoot, 'secrets.yaml'), 'utf8')).toBe(HOST_ONLY_FILES['secrets.yaml']);
    await house.commit({ 'secrets.yaml': null }, 'Remove the committed secrets');
  });

  it('stops before writing anything when a file was edited on the host, naming it', async () => {
    // The UI renamed the automation the commit deletes: a conflict, so no merge (docs/drift.md).
    const renamed = (await readFile(join(house.configRoot, 'automations.yaml'), 'utf8')).replace('alias: Porch light at sunset', 'alias: Porch light, renamed in the UI');
    const uiEdit = `${renamed}- id: made_in_the_ui\n  alias: Made in the UI\n  trigger: []\n  action: []\n`;
    await writeFile(join(house.configRoot, 'automations.yaml'), uiEdit);
    const before = await snapshotTree(house.configRoot, notLanyard);
    const { deployment } = await deploy({ 'automations.yaml': '[]\n' }, 'Replace automations');
    expect(deployment.status).toBe('failed');
    expect(deployment.reason).toMatch(/DriftDetected|changed on the host/);
    expect(deployment.reason).toMatch(/automations\.yaml/);
    // The ways on it names are ones a person can take, for this deployment, with its id.
    expect(deployment.reason).toContain('capture these edits into a pull request');
    expect(deployment.reason).toContain(`POST /api/deployments/home/retry with {"deploymentId": "${deployment.id}", "drift": "keep"}`);
    expect(deployment.reason).not.toContain('drift policy');
    expect(deployment.summary.drift).toEqual(['automations.yaml']);
    expect(await snapshotTree(house.configRoot, notLanyard)).toEqual(before);
    // Bring the repository in line with the host again, as the homeowner would.
    const { deployment: synced } = await deploy({ 'automations.yaml': uiEdit }, 'Take the UI edit into git');
    expect(synced.status).toBe('succeeded');
  });

  it('rolls back to byte-identical when Home Assistant does not come back after a restart', async () => {
    const before = await snapshotTree(house.configRoot, notLanyard);
    house.ha.neverComeBack();
    const config = `${await readFile(join(house.work, 'configuration.yaml'), 'utf8')}\nlogger:\n  default: info\n`;
    const sha = await house.commit({ 'configuration.yaml': config }, 'More logging');
    const id = await sendPush(edge.url, sha, 'More logging');
    await relay.waitForLog(new RegExp(`${id} rollback: started`), 60_000);
    house.ha.reset(); // the Supervisor's watchdog brings Home Assistant back
    const { deployment } = await waitForDeployment(api, id, finalStates, 90_000);
    expect(deployment.status).toBe('rolled_back');
    expect(deployment.reason).toMatch(/did not come back/);
    expect(await snapshotTree(house.configRoot, notLanyard)).toEqual(before);
  });

  it('refuses a symlink that leaves the config root, naming it, and writes nothing', async () => {
    const before = await snapshotTree(house.configRoot, notLanyard);
    await symlink('../../../../etc/shadow', join(house.work, 'www/shadow'));
    await git(house.work, 'add', '-A');
    const { deployment } = await deploy({ 'www/readme.txt': 'hello\n' }, 'A link out of the config');
    expect(deployment.status).toBe('failed');
    expect(deployment.reason).toMatch(/www\/shadow/);
    expect(await snapshotTree(house.configRoot, notLanyard)).toEqual(before);
    await unlink(join(house.work, 'www/shadow'));
    await house.commit({}, 'Remove the link');
  });

  it('connects again after the SSH connection dropped between deploys (the host rebooted, the network blinked)', async () => {
    const before = await deploy({ 'www/blink.txt': 'before the blink\n' }, 'Before the blink');
    expect(before.deployment.status).toBe('succeeded');
    // The relay keeps its connection between jobs: kill it under the relay's feet.
    expect(await sshd.dropConnections()).toBeGreaterThan(0);
    const after = await deploy({ 'www/blink.txt': 'after the blink\n' }, 'After the blink');
    expect(after.deployment.status, JSON.stringify(after.steps)).toBe('succeeded');
    expect(await readFile(join(house.configRoot, 'www/blink.txt'), 'utf8')).toBe('after the blink\n');
    await relay.waitForLog(/connection to ssh .* was lost; connecting again/);
  });

  it('a host that reboots in the middle of a deploy: the rollback waits for it and restores it byte for byte', async () => {
    const before = await snapshotTree(house.configRoot, notLanyard);
    const config = `${await readFile(join(house.work, 'configuration.yaml'), 'utf8')}\nsensor: !include sensors.yaml\n`;
    house.ha.hang(/check_config/);
    try {
      const sha = await house.commit({ 'configuration.yaml': config }, 'Add sensors (forgot the file)');
      const id = await sendPush(edge.url, sha, 'Add sensors (forgot the file)');
      // The new files are on the host and Home Assistant is checking them: now the host goes away
      // for 4 s, taking the relay's connection with it.
      await relay.waitForLog(new RegExp(`${id} check: started`), 60_000);
      // Home Assistant's check answers (invalid) while the host is still down.
      await sshd.reboot(4000, () => house.ha.reset());
      const { deployment, steps } = await waitForDeployment(api, id, finalStates, 120_000);
      expect(deployment.status, JSON.stringify(steps)).toBe('rolled_back');
      expect(deployment.reason).toMatch(/sensors\.yaml/);
      expect(await snapshotTree(house.configRoot, notLanyard)).toEqual(before);
      await relay.waitForLog(/rollback: cannot reach the host \(attempt 1\)/);
    } finally {
      house.ha.reset();
      await house.commit({ 'configuration.yaml': await readFile(join(house.configRoot, 'configuration.yaml'), 'utf8') }, 'Drop the sensors include');
    }
  });

  it('keeps only the configured number of backups', async () => {
    const archives = (await readdir(house.backupDir)).filter((n) => n.endsWith('.tar.gz'));
    expect(archives.length).toBeGreaterThan(0);
    expect(archives.length).toBeLessThanOrEqual(3);
  });
});

describe('a wrong host key', () => {
  it('fails the deployment before anything is written and says which key was presented', async () => {
    const { parse, stringify } = await import('yaml');
    const config = parse(await readFile(house.relayConfigPath, 'utf8'));
    config.host.ssh.hostKeyFingerprint = `SHA256:${'x'.repeat(43)}`;
    config.stateDir = join(house.dir, 'wrong-key-state');
    const path = join(house.dir, 'wrong-key.yaml');
    await writeFile(path, stringify(config));
    await relay.kill('SIGTERM');
    relay = startRelayProcess(path);
    await relay.waitForLog(/edge ready/);
    const before = await snapshotTree(house.configRoot, notLanyard);
    const { deployment } = await deploy({ 'scenes.yaml': '- id: evening\n  name: Evening\n  entities: {}\n' }, 'Evening scene');
    expect(deployment.status).toBe('failed');
    expect(deployment.reason).toMatch(new RegExp(`host key is ${sshd.hostKeyFingerprint.replace(/[+/]/g, '\\$&')}`));
    expect(await snapshotTree(house.configRoot, notLanyard)).toEqual(before);
  });
});
