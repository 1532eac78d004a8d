// Home Assistant's own backup, asked for each way the relay can (relay/home-assistant/home-assistant-backup.ts),
// against the Home Assistant stand-in and the Supervisor beside it over real HTTP: the add-on's way
// (the Supervisor's API with the `backup` role), a long-lived token's way (HA's hassio.backup_partial
// service), an install without a Supervisor (backup.create), and every way the backup can go wrong.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HomeAssistantError } from '../../relay/home-assistant/errors.ts';
import { homeAssistantBackupRoute, takeHomeAssistantBackup, type HomeAssistantBackupRoute } from '../../relay/home-assistant/home-assistant-backup.ts';
import { homeAssistantBackupName, wantsHomeAssistantBackup } from '../../relay/pipeline/ha-backup-step.ts';
import { startHomeAssistantStandIn, type HomeAssistantStandIn } from '../support/home-assistant-standin.ts';

const TOKEN = 'long-lived-token-for-tests';
const SUPERVISOR_TOKEN = 'addon-supervisor-token';
const NAME = homeAssistantBackupName({ jobId: 'dep_01m82e4vg06ns08fd0', sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678' });
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function standIn(): Promise<HomeAssistantStandIn> {
  const dir = await mkdtemp(join(tmpdir(), 'lanyard-ha-backup-'));
  await writeFile(join(dir, 'configuration.yaml'), 'homeassistant:\n  name: Home\n');
  const ha = await startHomeAssistantStandIn({ configDir: dir, token: TOKEN, supervisorToken: SUPERVISOR_TOKEN });
  cleanups.push(async () => {
    await ha.close();
    await rm(dir, { recursive: true, force: true });
  });
  return ha;
}

const asAddon = (ha: HomeAssistantStandIn): HomeAssistantBackupRoute => homeAssistantBackupRoute({ url: `${ha.url}/core`, token: SUPERVISOR_TOKEN }, { SUPERVISOR_TOKEN });
const withToken = (ha: HomeAssistantStandIn): HomeAssistantBackupRoute => homeAssistantBackupRoute({ url: ha.url, token: TOKEN }, {});

describe('when one is taken', () => {
  const parts = (enabled: boolean) => ({ config: { homeAssistant: { backup: { enabled, onFailure: 'stop' as const, timeoutSeconds: 900 } } } }) as Parameters<typeof wantsHomeAssistantBackup>[0];
  it('only when enabled, before a restart, in a run that may restart now', () => {
    expect(wantsHomeAssistantBackup(parts(true), {}, { activation: 'restart' })).toBe(true);
    expect(wantsHomeAssistantBackup(parts(true), { mayRestart: true }, { activation: 'restart' })).toBe(true);
    // A restart held for the target's window takes its backup when it runs in the window.
    expect(wantsHomeAssistantBackup(parts(true), { mayRestart: false }, { activation: 'restart' })).toBe(false);
    expect(wantsHomeAssistantBackup(parts(true), {}, { activation: 'reload' })).toBe(false);
    expect(wantsHomeAssistantBackup(parts(true), {}, { activation: 'none' })).toBe(false);
    expect(wantsHomeAssistantBackup(parts(false), {}, { activation: 'restart' })).toBe(false);
  });

  it('is named after the deployment and the commit it brings', () => {
    expect(NAME).toBe('Lanyard dep_01m82e4vg06ns08fd0 before a1b2c3d');
  });
});

describe('the way in', () => {
  it('is the Supervisor itself inside the add-on, and Home Assistant\'s API with a long-lived token', () => {
    expect(homeAssistantBackupRoute({ url: 'http://supervisor/core', token: 's' }, { SUPERVISOR_TOKEN: 's' })).toEqual({ kind: 'supervisor', supervisor: { baseUrl: 'http://supervisor', token: 's' } });
    // An add-on whose owner gave a URL and a token of their own still reaches the Supervisor with its own token.
    expect(homeAssistantBackupRoute({ url: 'http://127.0.0.1:8123', token: 'llat' }, { SUPERVISOR_TOKEN: 's' })).toMatchObject({ kind: 'supervisor', supervisor: { baseUrl: 'http://supervisor', token: 's' } });
    expect(homeAssistantBackupRoute({ url: 'http://127.0.0.1:8123/api/', token: 'llat' }, {})).toMatchObject({ kind: 'core', core: { baseUrl: 'http://127.0.0.1:8123', token: 'llat' } });
  });
});

describe('through the Supervisor (the add-on)', () => {
  it('asks for a partial backup of Home Assistant in the background, waits for its job and confirms it by name', async () => {
    const ha = await standIn();
    const taken = await takeHomeAssistantBackup(asAddon(ha), { name: NAME, timeoutMs: 10_000 });
    expect(ha.supervisor.backupRequests).toEqual([expect.objectContaining({ via: 'supervisor', name: NAME, homeassistant: true, background: true })]);
    expect(ha.supervisor.backups).toEqual([expect.objectContaining({ name: NAME, type: 'partial' })]);
    expect(taken).toMatchObject({ slug: ha.supervisor.backups[0]!.slug, name: NAME });
    expect(taken.slug).toMatch(/^[a-f0-9]{8}$/);
    // Nothing beyond what the `backup` role reaches was asked for.
    expect(ha.supervisor.refusedForRole).toEqual([]);
  });

  it('says why when the Supervisor refuses, the job fails, a slug has the wrong shape, or it never finishes', async () => {
    const ha = await standIn();
    ha.supervisor.refuse('A backup/restore is already in progress');
    await expect(takeHomeAssistantBackup(asAddon(ha), { name: NAME, timeoutMs: 10_000 })).rejects.toThrow(/HTTP 400: A backup\/restore is already in progress/);
    ha.supervisor.failJob('No space left on device');
    await expect(takeHomeAssistantBackup(asAddon(ha), { name: NAME, timeoutMs: 10_000 })).rejects.toThrow(/could not make the backup: No space left on device/);
    ha.supervisor.answerSlug('../../../etc/passwd');
    await expect(takeHomeAssistantBackup(asAddon(ha), { name: NAME, timeoutMs: 10_000 })).rejects.toThrow(/without naming a backup slug/);
    ha.supervisor.neverFinish();
    const waited: string[] = [];
    const never = takeHomeAssistantBackup(asAddon(ha), { name: NAME, timeoutMs: 1_500, onWaiting: (m) => waited.push(m) });
    await expect(never).rejects.toThrow(/did not finish the backup within 2 s.*homeAssistant\.backup\.timeoutSeconds/);
    expect(waited[0]).toMatch(/Home Assistant backup: job [a-f0-9]{32} running/);
  });

  it('a token the Supervisor does not know is refused with what the add-on needs', async () => {
    const ha = await standIn();
    const route = homeAssistantBackupRoute({ url: `${ha.url}/core`, token: 'x' }, { SUPERVISOR_TOKEN: 'not-the-addon' });
    const error = await takeHomeAssistantBackup(route, { name: NAME, timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HomeAssistantError);
    expect((error as Error).message).toMatch(/hassio_api: true.*hassio_role: backup/);
  });
});

describe('through Home Assistant with a long-lived token', () => {
  it('calls hassio.backup_partial, which answers the slug, and reads the backup back through the proxy', async () => {
    const ha = await standIn();
    const taken = await takeHomeAssistantBackup(withToken(ha), { name: NAME, timeoutMs: 10_000 });
    expect(ha.supervisor.backupRequests).toEqual([expect.objectContaining({ via: 'hassio.backup_partial', name: NAME, homeassistant: true })]);
    expect(taken).toMatchObject({ slug: ha.supervisor.backups[0]!.slug, name: NAME, how: 'hassio.backup_partial' });
  });

  it('HA\'s /api/hassio/ proxy does not let an admin token start a backup, which is why the service is used', async () => {
    const ha = await standIn();
    const response = await fetch(`${ha.url}/api/hassio/backups/new/partial`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` }, body: '{}' });
    expect(response.status).toBe(401);
    expect(ha.supervisor.backupRequests).toEqual([]);
  });

  it('a failing, refused or hostile backup stops with the reason', async () => {
    const ha = await standIn();
    ha.supervisor.failJob();
    await expect(takeHomeAssistantBackup(withToken(ha), { name: NAME, timeoutMs: 10_000 })).rejects.toThrow(/HTTP 500/);
    ha.supervisor.answerSlug('<img src=x onerror=alert(1)>');
    await expect(takeHomeAssistantBackup(withToken(ha), { name: NAME, timeoutMs: 10_000 })).rejects.toThrow(/service_response\.backup/);
    ha.supervisor.neverFinish();
    await expect(takeHomeAssistantBackup(withToken(ha), { name: NAME, timeoutMs: 1_500 })).rejects.toThrow(/Home Assistant did not finish the backup/);
  });

  it('without a Supervisor, HA\'s backup.create makes one but cannot say which', async () => {
    const ha = await standIn();
    ha.supervisor.present = false;
    const taken = await takeHomeAssistantBackup(withToken(ha), { name: NAME, timeoutMs: 10_000 });
    expect(taken).toMatchObject({ slug: null, how: expect.stringMatching(/^backup\.create/) });
    expect(ha.callsTo('backup', 'create')).toHaveLength(1);
  });
});
