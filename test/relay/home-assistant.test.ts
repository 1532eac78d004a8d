// The relay's Home Assistant client against the Home Assistant stand-in: auth, config checks of real
// YAML folders, service calls, restarts that really drop the port, and the ways HA misbehaves.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HomeAssistantClient } from '../../relay/home-assistant/client.ts';
import { normalizeBaseUrl, resolveHomeAssistantEndpoint } from '../../relay/home-assistant/endpoint.ts';
import { HomeAssistantError } from '../../relay/home-assistant/errors.ts';
import { RELOAD_SERVICES } from '../../relay/home-assistant/reload-services.ts';
import {
  startHomeAssistantStandIn,
  type HomeAssistantStandIn,
  type HomeAssistantStandInOptions,
} from '../support/home-assistant-standin.ts';

const TOKEN = 'long-lived-token-for-tests';
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A config folder under the OS temp dir with these files (paths relative to it), removed after the test. */
async function configDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lanyard-ha-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

async function homeAssistant(
  files: Record<string, string> = GOOD_CONFIG,
  options: Partial<HomeAssistantStandInOptions> = {},
): Promise<{ ha: HomeAssistantStandIn; client: HomeAssistantClient; dir: string }> {
  const dir = await configDir(files);
  const ha = await startHomeAssistantStandIn({ configDir: dir, token: TOKEN, ...options });
  cleanups.push(() => ha.close());
  const client = new HomeAssistantClient({ baseUrl: ha.url, token: TOKEN, requestTimeoutMs: 1_000 });
  return { ha, client, dir };
}

async function rejection(promise: Promise<unknown>): Promise<HomeAssistantError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HomeAssistantError);
  return error as HomeAssistantError;
}

const GOOD_CONFIG: Record<string, string> = {
  'configuration.yaml': [
    'homeassistant:',
    '  name: Home',
    '  packages: !include_dir_named packages',
    'default_config:',
    'http:',
    '  server_port: !secret http_port',
    'automation: !include automations.yaml',
    'script: !include_dir_merge_named scripts',
    'sensor: !include_dir_merge_list sensors',
    'group: !include_dir_list groups',
    'logger:',
    '  default: !env_var LANYARD_TEST_UNSET_LOG_LEVEL warning',
    '',
  ].join('\n'),
  'secrets.yaml': 'http_port: 8123\nheating_target: 21\n',
  'automations.yaml': [
    '- id: lights_at_sunset',
    '  alias: Lights at sunset',
    '  triggers: &sunset',
    '    - trigger: sun',
    '      event: sunset',
    '  actions:',
    '    - action: light.turn_on',
    '      target: { entity_id: light.living_room }',
    '',
  ].join('\n'),
  'scripts/night.yaml': 'night:\n  sequence:\n    - action: light.turn_off\n',
  'sensors/time.yaml': '- platform: time_date\n  display_options: [time]\n',
  'groups/downstairs.yaml': 'name: Downstairs\nentities: [light.living_room]\n',
  // Packages sit one folder down and still find the secret in the config folder's secrets.yaml.
  'packages/heating.yaml': 'input_number:\n  heating_target:\n    min: 5\n    max: 25\n    initial: !secret heating_target\n',
};

describe('Home Assistant client against the stand-in', () => {
  describe('access', () => {
    it('reports unauthorized, naming the URL, when HA refuses the token', async () => {
      const { ha } = await homeAssistant();
      const client = new HomeAssistantClient({ baseUrl: ha.url, token: 'not-the-token' });

      const error = await rejection(client.config());

      expect(error.code).toBe('unauthorized');
      expect(error.status).toBe(401);
      expect(error.message).toContain(`${ha.url}/api/config`);
      expect(error.message).toContain('long-lived access token');
      const raw = await fetch(`${ha.url}/api/`, { headers: { Authorization: 'Bearer nope' } });
      expect([raw.status, await raw.text()]).toEqual([401, '401: Unauthorized']);
    });

    it('reads the API and HA config with the right token, whether the URL ends in /api or not', async () => {
      const { ha, dir } = await homeAssistant();
      const client = new HomeAssistantClient({ baseUrl: `${ha.url}/api/`, token: TOKEN });

      await expect(client.ping()).resolves.toBeUndefined();
      const config = await client.config();

      expect(config).toMatchObject({ state: 'RUNNING', config_dir: dir, location_name: 'Home' });
      expect(config.version).toMatch(/^\d{4}\.\d+\.\d+$/);
    });
  });

  describe('config check', () => {
    it('says valid for a config using !include, !secret, !env_var and every !include_dir_* form', async () => {
      const { client } = await homeAssistant();

      await expect(client.checkConfig()).resolves.toEqual({ valid: true });
    });

    it('says invalid, naming the secret and the file, when a secret is missing', async () => {
      const { client, dir } = await homeAssistant({ ...GOOD_CONFIG, 'packages/heating.yaml': 'input_number:\n  t:\n    initial: !secret nope\n' });

      const check = await client.checkConfig();

      expect(check.valid).toBe(false);
      if (check.valid) return;
      expect(check.errors).toContain('Secret nope not defined');
      expect(check.errors).toContain(join(dir, 'packages/heating.yaml'));
      expect(check.errors).toContain(`Error loading ${join(dir, 'configuration.yaml')}`);
    });

    it('says invalid, naming the file it could not read, when an include is missing', async () => {
      const withoutAutomations = { ...GOOD_CONFIG };
      delete withoutAutomations['automations.yaml'];
      const { client, dir } = await homeAssistant(withoutAutomations);

      const check = await client.checkConfig();

      expect(check).toEqual({ valid: false, errors: expect.stringContaining(`Unable to read file ${join(dir, 'automations.yaml')}`) });
    });

    it('says invalid, naming the included file and the line, for a YAML syntax error', async () => {
      const { client, dir } = await homeAssistant({ ...GOOD_CONFIG, 'scripts/night.yaml': 'night:\n  sequence:\n    - action: [light.turn_off\n' });

      const check = await client.checkConfig();

      expect(check.valid).toBe(false);
      if (check.valid) return;
      expect(check.errors).toMatch(new RegExp(`in "${escape(join(dir, 'scripts/night.yaml'))}", line \\d+`));
    });

    it('says invalid instead of looping when files include each other', async () => {
      const { client } = await homeAssistant({ 'configuration.yaml': 'a: !include a.yaml\n', 'a.yaml': 'b: !include configuration.yaml\n' });

      const check = await client.checkConfig();

      expect(check).toEqual({ valid: false, errors: expect.stringContaining('Include cycle: configuration.yaml -> a.yaml -> configuration.yaml') });
    });

    it('says invalid for a YAML tag Home Assistant does not know', async () => {
      const { client } = await homeAssistant({ 'configuration.yaml': 'automation: !includ automations.yaml\n' });

      const check = await client.checkConfig();

      expect(check).toEqual({ valid: false, errors: expect.stringContaining("could not determine a constructor for the tag '!includ'") });
    });

    it('says invalid with the forced error while failCheckConfig is on, and valid again after reset', async () => {
      const { ha, client } = await homeAssistant();

      ha.failCheckConfig('Invalid config for [light]: not a light');
      await expect(client.checkConfig()).resolves.toEqual({ valid: false, errors: 'Invalid config for [light]: not a light' });
      ha.reset();
      await expect(client.checkConfig()).resolves.toEqual({ valid: true });
    });
  });

  describe('services and states', () => {
    it('records reloads, service calls and notifications as HA received them', async () => {
      const { ha, client } = await homeAssistant();

      await client.reload('automation');
      await client.reload('homeassistant');
      await client.callService('light', 'turn_on', { entity_id: 'light.living_room' });
      await client.notify('Lanyard: deploy failed', 'check_config said invalid; rolled back to abc123.', 'lanyard_home');

      expect(ha.serviceCalls.map((c) => `${c.domain}.${c.service}`)).toEqual([
        'automation.reload',
        'homeassistant.reload_core_config',
        'light.turn_on',
        'persistent_notification.create',
      ]);
      expect(ha.callsTo('light', 'turn_on')[0]?.data).toEqual({ entity_id: 'light.living_room' });
      expect(ha.notifications).toEqual([
        expect.objectContaining({ title: 'Lanyard: deploy failed', notificationId: 'lanyard_home', message: expect.stringContaining('rolled back') }),
      ]);
    });

    it('refuses to reload a domain that needs a restart, without asking HA', async () => {
      const { ha, client } = await homeAssistant();

      const error = await rejection(client.reload('zha'));

      expect(error.code).toBe('invalid_argument');
      expect(error.message).toContain('restart');
      expect(ha.serviceCalls).toEqual([]);
      expect(RELOAD_SERVICES.automation).toEqual({ domain: 'automation', service: 'reload' });
    });

    it('publishes a sensor whose every state HA keeps, in order, with attributes replaced', async () => {
      const { ha, client } = await homeAssistant();

      const first = await client.setState('sensor.lanyard_home', 'deploying', { friendly_name: 'Lanyard home', commit: 'abc123' });
      await client.setState('sensor.lanyard_home', 'checking', { friendly_name: 'Lanyard home', commit: 'abc123' });
      await client.setState('sensor.lanyard_home', 'succeeded', { friendly_name: 'Lanyard home' });

      expect(first).toMatchObject({ entity_id: 'sensor.lanyard_home', state: 'deploying' });
      expect(ha.stateHistory('sensor.lanyard_home').map((w) => w.state)).toEqual(['deploying', 'checking', 'succeeded']);
      expect(await client.state('sensor.lanyard_home')).toMatchObject({ state: 'succeeded', attributes: { friendly_name: 'Lanyard home' } });
      expect(await client.state('sensor.never_published')).toBeNull();
    });

    it('refuses an entity id that is not one before sending anything', async () => {
      const { ha, client } = await homeAssistant();

      const error = await rejection(client.setState('../services/homeassistant/restart', 'x'));

      expect(error.code).toBe('invalid_argument');
      expect(ha.serviceCalls).toEqual([]);
    });
  });

  describe('restart', () => {
    it('goes unreachable for the restart delay, and waitUntilRunning waits it out and says how long', async () => {
      const { ha, client } = await homeAssistant(GOOD_CONFIG, { restartDelayMs: 400 });

      await expect(client.restart()).resolves.toEqual({ acknowledged: true });
      await waitFor(() => ha.status === 'down');
      const whileDown = await rejection(client.ping());
      const ready = await client.waitUntilRunning({ timeoutMs: 5_000, pollMs: 50, afterRestart: true });

      expect(whileDown.code).toBe('unreachable');
      expect(whileDown.message).toContain('connection refused');
      expect(ready).toMatchObject({ ready: true, sawDown: true });
      expect(ready.tookMs).toBeGreaterThanOrEqual(300);
      expect(ha.restarts).toBe(1);
      expect(ha.callsTo('homeassistant', 'restart')).toHaveLength(1);
    });

    it('comes back on the same port restart after restart', async () => {
      const { ha, client } = await homeAssistant(GOOD_CONFIG, { restartDelayMs: 100 });
      const port = ha.port;

      for (let i = 0; i < 3; i += 1) {
        await client.restart();
        expect(await client.waitUntilRunning({ timeoutMs: 3_000, pollMs: 20, afterRestart: true })).toMatchObject({ ready: true });
      }

      expect(ha.restarts).toBe(3);
      expect(ha.port).toBe(port);
    });

    it('is not fooled by the old instance still saying RUNNING right after the restart call', async () => {
      const { ha, client } = await homeAssistant(GOOD_CONFIG, { restartDelayMs: 300, lingerAfterRestartMs: 400 });

      await client.restart();
      const naive = await client.waitUntilRunning({ timeoutMs: 3_000, pollMs: 20 });
      const careful = await client.waitUntilRunning({ timeoutMs: 3_000, pollMs: 20, afterRestart: true });

      expect(naive).toMatchObject({ ready: true });
      expect(naive.tookMs).toBeLessThan(300);
      expect(careful).toMatchObject({ ready: true, sawDown: true });
      expect(careful.tookMs).toBeGreaterThanOrEqual(550);
      expect(ha.restarts).toBe(1);
    });

    it('waits through the Supervisor proxy answering 502 while Core restarts', async () => {
      const { ha, client } = await homeAssistant(GOOD_CONFIG, { restartDelayMs: 300, whileDown: 'bad_gateway' });

      await client.restart();
      await waitFor(() => ha.status === 'down');
      const whileDown = await rejection(client.config());
      const ready = await client.waitUntilRunning({ timeoutMs: 3_000, pollMs: 30, afterRestart: true });

      expect([whileDown.code, whileDown.status]).toEqual(['unreachable', 502]);
      expect(ready).toMatchObject({ ready: true, sawDown: true });
    });

    it('waits while HA says STARTING, and names the state when it is still starting at the deadline', async () => {
      const { client } = await homeAssistant(GOOD_CONFIG, { restartDelayMs: 50, startingMs: 600 });

      await client.restart();
      const tooSoon = await client.waitUntilRunning({ timeoutMs: 300, pollMs: 30, afterRestart: true });
      const later = await client.waitUntilRunning({ timeoutMs: 3_000, pollMs: 30 });

      expect(tooSoon).toMatchObject({ ready: false, reason: { kind: 'state', state: 'STARTING' } });
      if (!tooSoon.ready) expect(tooSoon.message).toContain('still STARTING');
      expect(later).toMatchObject({ ready: true });
    });

    it('fails at the deadline with a clear reason when HA never comes back', async () => {
      const { ha, client } = await homeAssistant(GOOD_CONFIG, { restartDelayMs: 100 });
      ha.neverComeBack();

      await client.restart();
      const ready = await client.waitUntilRunning({ timeoutMs: 600, pollMs: 50, afterRestart: true });

      expect(ready).toMatchObject({ ready: false, reason: { kind: 'unreachable' } });
      if (ready.ready) return;
      expect(ready.tookMs).toBeGreaterThanOrEqual(600);
      expect(ready.tookMs).toBeLessThan(2_000);
      expect(ready.message).toContain(`Home Assistant at ${ha.url} was not back after 0.6 s`);
      expect(ready.message).toContain('connection refused');
    });

    it('is refused by HA when the config is invalid, and HA stays up and says why', async () => {
      const { ha, client } = await homeAssistant({ ...GOOD_CONFIG, 'automations.yaml': '- alias: [broken\n' });

      const error = await rejection(client.restart());

      expect([error.code, error.status]).toEqual(['bad_response', 500]);
      expect(ha.status).toBe('up');
      expect(ha.notifications.map((n) => n.notificationId)).toEqual(['invalid_config']);
    });

    it('fails naming the required entities that are unavailable or missing', async () => {
      const { ha, client } = await homeAssistant(GOOD_CONFIG, {
        entities: [
          { entity_id: 'binary_sensor.front_door', state: 'off' },
          { entity_id: 'climate.living_room', state: 'heat' },
        ],
      });
      ha.setUnavailable('climate.living_room');

      const ready = await client.waitUntilRunning({
        timeoutMs: 300,
        pollMs: 50,
        requiredEntities: ['binary_sensor.front_door', 'climate.living_room', 'light.gone'],
      });

      expect(ready).toMatchObject({
        ready: false,
        reason: { kind: 'entities', entities: [{ entityId: 'climate.living_room', state: 'unavailable' }, { entityId: 'light.gone', state: null }] },
      });
      if (!ready.ready) expect(ready.message).toContain('climate.living_room is unavailable, light.gone does not exist');
    });

    it('becomes ready once a required entity turns available', async () => {
      const { ha, client } = await homeAssistant(GOOD_CONFIG, { entities: [{ entity_id: 'climate.living_room', state: 'unavailable' }] });
      setTimeout(() => ha.setEntity('climate.living_room', 'heat'), 200);

      const ready = await client.waitUntilRunning({ timeoutMs: 3_000, pollMs: 30, requiredEntities: ['climate.living_room'] });

      expect(ready).toMatchObject({ ready: true });
      expect(ready.tookMs).toBeGreaterThanOrEqual(150);
    });

    it('stops waiting at once when the token is refused', async () => {
      const { ha } = await homeAssistant();
      const client = new HomeAssistantClient({ baseUrl: ha.url, token: 'revoked' });

      const ready = await client.waitUntilRunning({ timeoutMs: 5_000, pollMs: 50 });

      expect(ready).toMatchObject({ ready: false, reason: { kind: 'unauthorized' } });
      expect(ready.tookMs).toBeLessThan(1_000);
    });
  });

  describe('misbehaviour', () => {
    it('reports bad_response with the status when HA answers 500', async () => {
      const { ha, client } = await homeAssistant();
      ha.answer500(/^\/api\/config$/);

      const error = await rejection(client.config());
      await expect(client.ping()).resolves.toBeUndefined();

      expect([error.code, error.status]).toEqual(['bad_response', 500]);
      expect(error.message).toContain(`GET ${ha.url}/api/config with HTTP 500`);
    });

    it('reports a timeout naming the URL when HA hangs, and answers again after reset', async () => {
      const { ha } = await homeAssistant();
      const client = new HomeAssistantClient({ baseUrl: ha.url, token: TOKEN, requestTimeoutMs: 200 });
      ha.hang();

      const started = performance.now();
      const error = await rejection(client.ping());
      const waited = performance.now() - started;
      ha.reset();

      expect(error.code).toBe('timeout');
      expect(error.message).toContain(`GET ${ha.url}/api/ within 200 ms`);
      expect(waited).toBeLessThan(1_000);
      await expect(client.ping()).resolves.toBeUndefined();
    });

    it('reports bad_response when something other than HA answers', async () => {
      const { ha } = await homeAssistant();
      const client = new HomeAssistantClient({ baseUrl: `${ha.url}/elsewhere`, token: TOKEN });

      const error = await rejection(client.ping());

      expect([error.code, error.status]).toEqual(['bad_response', 404]);
    });
  });

  describe('stand-in lifecycle', () => {
    it('releases its port on close, even while down for good or with requests hanging', async () => {
      const dir = await configDir(GOOD_CONFIG);
      const down = await startHomeAssistantStandIn({ configDir: dir, token: TOKEN, neverComeBack: true });
      cleanups.push(() => down.close());
      const client = new HomeAssistantClient({ baseUrl: down.url, token: TOKEN });
      await client.restart();
      await waitFor(() => down.status === 'down');
      await down.close();
      await expect(canListen(down.port)).resolves.toBe(true);

      const hanging = await startHomeAssistantStandIn({ configDir: dir, token: TOKEN, hang: true });
      cleanups.push(() => hanging.close());
      const pending = fetch(`${hanging.url}/api/`).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 50));
      await hanging.close();
      expect(await pending).toBeInstanceOf(Error);
      await expect(canListen(hanging.port)).resolves.toBe(true);
    });
  });
});

describe('Home Assistant endpoint', () => {
  it('accepts a base URL with or without /api and trailing slashes', () => {
    expect(normalizeBaseUrl('http://homeassistant.local:8123')).toBe('http://homeassistant.local:8123');
    expect(normalizeBaseUrl('http://homeassistant.local:8123/')).toBe('http://homeassistant.local:8123');
    expect(normalizeBaseUrl('http://homeassistant.local:8123/api/')).toBe('http://homeassistant.local:8123');
    expect(normalizeBaseUrl('http://supervisor/core')).toBe('http://supervisor/core');
    expect(normalizeBaseUrl('http://supervisor/core/api')).toBe('http://supervisor/core');
  });

  it('rejects what is not an http URL, or carries credentials', () => {
    for (const bad of ['homeassistant.local:8123', 'ftp://homeassistant.local', 'http://user:pw@homeassistant.local:8123']) {
      expect(() => normalizeBaseUrl(bad)).toThrow(HomeAssistantError);
    }
  });

  it('uses the configured URL and token when there is a token', () => {
    expect(resolveHomeAssistantEndpoint({ url: 'http://homeassistant.local:8123/api', token: 't' }, { SUPERVISOR_TOKEN: 's' })).toEqual({
      baseUrl: 'http://homeassistant.local:8123',
      token: 't',
      source: 'config',
    });
  });

  it('uses the Supervisor proxy and SUPERVISOR_TOKEN inside an add-on with no token configured', () => {
    expect(resolveHomeAssistantEndpoint({}, { SUPERVISOR_TOKEN: 's' })).toEqual({ baseUrl: 'http://supervisor/core', token: 's', source: 'supervisor' });
  });

  it('says what to configure when there is no way in', () => {
    expect(() => resolveHomeAssistantEndpoint({ url: 'http://homeassistant.local:8123' }, {})).toThrow(/homeAssistant\.token/);
    expect(() => resolveHomeAssistantEndpoint({ token: 't' }, {})).toThrow(/homeAssistant\.url/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
