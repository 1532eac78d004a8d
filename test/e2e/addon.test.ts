// The Home Assistant add-on's entry point (deploy/addon/run.sh) as the Supervisor runs it: the
// options the user typed become a relay.yaml that the relay's own schema accepts, pointed at the
// folders the add-on's map really mounts, and the relay is started with it (doctor, then run).
// The image itself cannot be built here (no Docker engine); the script runs under Debian's sh.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRelayConfig } from '../../relay/config.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lanyard-addon-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs run.sh with these options (over the manifest's defaults); returns the relay.yaml it wrote and how the relay was called. */
async function startAddon(options: Record<string, unknown>, name: string): Promise<{ yaml: string; calls: string[]; data: string }> {
  const manifest = parse(await readFile(join(ROOT, 'deploy/addon/config.yaml'), 'utf8')) as { options: Record<string, unknown> };
  const data = await mkdtemp(join(dir, `${name}-data-`));
  const backup = await mkdtemp(join(dir, `${name}-backup-`));
  const probeLog = join(dir, `${name}-calls.log`);
  await writeFile(join(data, 'options.json'), JSON.stringify({ ...manifest.options, ...options }));
  await run('sh', [join(ROOT, 'deploy/addon/run.sh')], {
    env: { PATH: process.env.PATH, LANYARD_DATA: data, LANYARD_BACKUP: backup, LANYARD_RELAY: join(ROOT, 'test/support/addon-relay-probe.mjs'), LANYARD_PROBE_LOG: probeLog },
  });
  return { yaml: await readFile(join(data, 'lanyard/relay.yaml'), 'utf8'), calls: (await readFile(probeLog, 'utf8')).trim().split('\n'), data };
}

describe('the Home Assistant add-on', () => {
  it('writes a relay.yaml the relay accepts, on the mounted Home Assistant config, and starts doctor then the relay', async () => {
    const { calls, data } = await startAddon(
      {
        edge_url: 'https://lanyard.example.workers.dev',
        relay_token: 'relay-token-with "quotes": and a colon',
        git_remote: 'https://github.com/octo-home/ha-config.git',
        git_token: 'github_pat_0123456789',
        required_entities: ['sensor.outdoor_temperature'],
      },
      'good',
    );
    const path = join(data, 'lanyard/relay.yaml');
    // Inside an add-on the Supervisor gives the token; the relay then talks to http://supervisor/core.
    const { config, secrets } = await loadRelayConfig(path, { SUPERVISOR_TOKEN: 'supervisor-token' });
    expect(config.host).toMatchObject({ transport: 'local', configRoot: '/homeassistant', backupDir: expect.stringMatching(/good-backup-.*\/lanyard$/) });
    // Links a configuration writes as Home Assistant (/config) or an add-on (/homeassistant) sees the folder.
    expect(config.host.homeAssistantConfigPaths).toEqual(['/config', '/homeassistant']);
    expect(config.edge).toMatchObject({ url: 'https://lanyard.example.workers.dev', target: 'home' });
    expect(config.git).toMatchObject({ remote: 'https://github.com/octo-home/ha-config.git', branch: 'main' });
    expect(config.homeAssistant).toMatchObject({ url: 'http://supervisor/core', requiredEntities: ['sensor.outdoor_temperature'], backup: { enabled: false } });
    expect(secrets).toMatchObject({ edgeToken: 'relay-token-with "quotes": and a colon', homeAssistantToken: 'supervisor-token', gitToken: 'github_pat_0123456789' });
    expect(calls).toEqual([`doctor --config ${path}`, `run --config ${path}`]);
  });

  it('turns Home Assistant\'s own backup before a restart on when the option is ticked', async () => {
    const { data } = await startAddon({ edge_url: 'https://lanyard.example.workers.dev', relay_token: 'relay-token-0123456789', git_remote: 'https://github.com/octo-home/ha-config.git', home_assistant_backup: true }, 'ha-backup');
    const { config } = await loadRelayConfig(join(data, 'lanyard/relay.yaml'), { SUPERVISOR_TOKEN: 'supervisor-token' });
    expect(config.homeAssistant.backup).toEqual({ enabled: true, onFailure: 'stop', timeoutSeconds: 900 });
  });

  it('leaves the git token out when none is given, and keeps the file private to the add-on', async () => {
    const { yaml, data } = await startAddon({ edge_url: 'https://lanyard.example.workers.dev', relay_token: 'relay-token-0123456789', git_remote: 'https://github.com/octo-home/ha-config.git' }, 'no-token');
    expect(yaml).not.toMatch(/^\s+token: ""/m);
    const { secrets } = await loadRelayConfig(join(data, 'lanyard/relay.yaml'), { SUPERVISOR_TOKEN: 'supervisor-token' });
    expect(secrets.gitToken ?? null).toBeNull();
    const { stdout } = await run('stat', ['-c', '%a', join(data, 'lanyard/relay.yaml')]);
    expect(stdout.trim()).toBe('600');
  });
});
