// The relay's config file: a missing or wrong field stops start-up with a message naming it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_HOME_ASSISTANT_HOST, loadRelayConfig } from '../../relay/config.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lanyard-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(yaml: string, env: NodeJS.ProcessEnv = {}) {
  const path = join(dir, 'relay.yaml');
  await writeFile(path, yaml);
  return loadRelayConfig(path, env);
}

const MINIMAL = `
edge: { url: "https://lanyard.example.workers.dev", target: home, token: relay-secret }
git: { remote: "https://github.com/octo-home/ha-config.git" }
host:
  transport: ssh
  ssh: { username: lanyard, privateKeyPath: id_ed25519, hostKeyFingerprint: "SHA256:${'A'.repeat(43)}" }
homeAssistant: { token: ha-secret }
`;

describe('relay configuration', () => {
  it('fills the defaults of a stock Home Assistant', async () => {
    const { config, secrets } = await load(MINIMAL);
    expect(config.host).toMatchObject({ configRoot: '/config', backupDir: '/backup', transport: 'ssh' });
    // The address itself is written once, in relay/config.ts, and shown in docs/configuration.md
    // (which a test keeps in step with the schema); tests never name a LAN address.
    expect(config.host.ssh).toMatchObject({ host: DEFAULT_HOME_ASSISTANT_HOST, port: 22, privateKeyPath: join(dir, 'id_ed25519') });
    expect(config.homeAssistant.url).toBe(`http://${DEFAULT_HOME_ASSISTANT_HOST}:8123`);
    expect(config.edge.heartbeatSeconds).toBeLessThan(100);
    expect(secrets).toMatchObject({ edgeToken: 'relay-secret', homeAssistantToken: 'ha-secret' });
  });

  it('reads absolute links as Home Assistant in its container does by default, and refuses a config path that would take every link in', async () => {
    expect((await load(MINIMAL)).config.host.homeAssistantConfigPaths).toEqual(['/config']);
    const withPaths = (paths: string) => load(MINIMAL.replace('  transport: ssh\n', `  transport: ssh\n  configRoot: /srv/homeassistant/config\n  homeAssistantConfigPaths: ${paths}\n`));
    expect((await withPaths('[/config, /homeassistant]')).config.host.homeAssistantConfigPaths).toEqual(['/config', '/homeassistant']);
    expect((await withPaths('[]')).config.host.homeAssistantConfigPaths).toEqual([]);
    await expect(withPaths('[/]')).rejects.toThrow(/host\.homeAssistantConfigPaths\.0: cannot be "\/": every absolute link would then count as a link into the config folder/);
    await expect(withPaths('[config]')).rejects.toThrow(/host\.homeAssistantConfigPaths\.0: must be an absolute path, such as \/config/);
    await expect(withPaths('[/config/../etc]')).rejects.toThrow(/host\.homeAssistantConfigPaths\.0: cannot contain "\.\."/);
  });

  it('names a missing field', async () => {
    await expect(load(MINIMAL.replace('target: home, ', ''))).rejects.toThrow(/edge\.target/);
  });

  it('names a wrong field and says what is expected', async () => {
    await expect(load(MINIMAL.replace('SHA256:', 'MD5:'))).rejects.toThrow(/host\.ssh\.hostKeyFingerprint: SHA256:<43 base64 characters>/);
    await expect(load(`${MINIMAL}\nsurprise: true\n`)).rejects.toThrow(/surprise/);
  });

  it('refuses a heartbeat Cloudflare would not survive', async () => {
    await expect(load(MINIMAL.replace('token: relay-secret', 'token: relay-secret, heartbeatSeconds: 120'))).rejects.toThrow(/edge\.heartbeatSeconds/);
  });

  it('reads secrets from files and names a file it cannot read', async () => {
    await writeFile(join(dir, 'edge-token'), 'from-a-file\n');
    const { secrets } = await load(MINIMAL.replace('token: relay-secret', 'tokenFile: edge-token'));
    expect(secrets.edgeToken).toBe('from-a-file');
    await expect(load(MINIMAL.replace('token: relay-secret', 'tokenFile: missing-token'))).rejects.toThrow(/edge\.tokenFile: cannot read missing-token \(ENOENT\)/);
  });

  it('inside an add-on, uses the Supervisor token and proxy', async () => {
    const { config, secrets } = await load(MINIMAL.replace('homeAssistant: { token: ha-secret }', ''), { SUPERVISOR_TOKEN: 'supervisor-secret' });
    expect(config.homeAssistant.url).toBe('http://supervisor/core');
    expect(secrets.homeAssistantToken).toBe('supervisor-secret');
  });

  it('says which file is not YAML', async () => {
    await expect(load('edge: [unclosed')).rejects.toThrow(/relay\.yaml is not valid YAML/);
  });
});
