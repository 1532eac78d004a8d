// The house's own view of deployments, against the Home Assistant stand-in: the sensor's states and
// attributes, the persistent notification, and that neither can fail or stall a deployment when
// Home Assistant is down or broken.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DriftReportMessage } from '../../shared/drift.ts';
import type { JobMessage } from '../../shared/protocol.ts';
import { RelayConfig } from '../../relay/config.ts';
import { HomeAssistantClient } from '../../relay/home-assistant/client.ts';
import type { Logger } from '../../relay/log.ts';
import { DeploymentSensor, sensorEntityId } from '../../relay/outward/deployment-sensor.ts';
import { houseOutward, noticeFor, SENSOR_DRIFT_PATHS, statusPageUrl } from '../../relay/outward/house-outward.ts';
import type { JobOutcome } from '../../relay/step-runner.ts';
import { startHomeAssistantStandIn, type HomeAssistantStandIn } from '../support/home-assistant-standin.ts';
import { waitFor } from '../support/ports.ts';

const TOKEN = 'sensor-test-token';
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Setup {
  ha: HomeAssistantStandIn;
  client: HomeAssistantClient;
  stateDir: string;
  warnings: string[];
  logger: Logger;
}

async function setup(): Promise<Setup> {
  const stateDir = await mkdtemp(join(tmpdir(), 'lanyard-sensor-'));
  await writeFile(join(stateDir, 'configuration.yaml'), 'homeassistant:\n  name: Home\n');
  const ha = await startHomeAssistantStandIn({ configDir: stateDir, token: TOKEN, restartDelayMs: 100 });
  const warnings: string[] = [];
  cleanups.push(async () => {
    await ha.close();
    await rm(stateDir, { recursive: true, force: true });
  });
  return {
    ha,
    client: new HomeAssistantClient({ baseUrl: ha.url, token: TOKEN, requestTimeoutMs: 1000 }),
    stateDir,
    warnings,
    logger: { info: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
  };
}

function relayConfig(stateDir: string, homeAssistant: Record<string, unknown> = {}, target = 'home'): RelayConfig {
  return RelayConfig.parse({
    stateDir,
    edge: { url: 'https://lanyard.example.org', target, token: 'relay-token' },
    git: { remote: '/nowhere.git' },
    host: { transport: 'local' },
    homeAssistant: { url: 'http://127.0.0.1:1', ...homeAssistant },
  });
}

const job = (overrides: Partial<JobMessage> = {}): JobMessage => ({
  type: 'job',
  jobId: 'dep_01sensor',
  attempt: 1,
  kind: 'deploy',
  target: 'home',
  sha: 'a'.repeat(40),
  ref: 'refs/heads/main',
  backupId: null,
  driftPolicy: 'stop',
  requestedBy: 'ada',
  commitMessage: 'Close the garage at night\n\nThe door stayed open twice last week.',
  ...overrides,
});

const succeeded: JobOutcome = { status: 'succeeded', reason: null, summary: { filesChanged: ['automations.yaml'], activation: 'reload', reloadedDomains: ['automation'], drift: [], backupId: 'lanyard-1' } };
const rolledBack: JobOutcome = { status: 'rolled_back', reason: 'Home Assistant says the configuration is invalid: sensors.yaml', summary: { drift: ['scenes.yaml'] } };

describe('the deployment sensor', () => {
  it('is named after the target the way Home Assistant accepts', () => {
    expect(sensorEntityId('home')).toBe('sensor.lanyard_home');
    expect(sensorEntityId('beach-house')).toBe('sensor.lanyard_beach_house');
    expect(sensorEntityId('a--b-')).toBe('sensor.lanyard_a_b');
  });

  it('says deploying during a job and succeeded after it, with what a dashboard shows', async () => {
    const { ha, client, stateDir, logger } = await setup();
    const outward = houseOutward({ ha: client, config: relayConfig(stateDir), logger });
    let during: string | undefined;
    const outcome = await outward.around(job(), Date.now() - 1500, async () => {
      during = ha.entity('sensor.lanyard_home')?.state;
      return succeeded;
    });
    expect(outcome).toBe(succeeded);
    expect(during).toBe('deploying');
    expect(ha.stateHistory('sensor.lanyard_home').map((w) => `${w.state}:${w.by}`)).toEqual(['deploying:api', 'succeeded:api']);
    expect(ha.entity('sensor.lanyard_home')).toMatchObject({
      state: 'succeeded',
      attributes: {
        friendly_name: 'Lanyard home',
        icon: 'mdi:check-circle',
        deployment_id: 'dep_01sensor',
        sha: 'a'.repeat(40),
        short_sha: 'aaaaaaa',
        commit_message: 'Close the garage at night',
        message: 'Deployed aaaaaaa: 1 file changed, reloaded automation',
        finished_at: expect.stringMatching(/Z$/),
        duration: expect.any(Number),
        drift: [],
        backup_id: 'lanyard-1',
        status_url: 'https://lanyard.example.org/targets/home?deployment=dep_01sensor',
      },
    });
    expect((ha.entity('sensor.lanyard_home')!.attributes.duration as number)).toBeGreaterThanOrEqual(1.5);
    expect(ha.notifications).toEqual([]);
  });

  it('a rolled-back deploy: the sensor says rolled_back with the drift and reason, and a notice appears; the next success takes the notice down', async () => {
    const { ha, client, stateDir, logger } = await setup();
    const outward = houseOutward({ ha: client, config: relayConfig(stateDir), logger });
    await outward.around(job(), Date.now(), async () => rolledBack);
    expect(ha.entity('sensor.lanyard_home')).toMatchObject({ state: 'rolled_back', attributes: { drift: ['scenes.yaml'], reason: rolledBack.reason, icon: 'mdi:backup-restore' } });
    expect(ha.notifications).toEqual([
      expect.objectContaining({ notificationId: 'lanyard_home', title: 'Lanyard: Deploy of aaaaaaa rolled back', message: expect.stringContaining('sensors.yaml') }),
    ]);
    // It names the commit by its subject line, not only by its sha.
    expect(ha.notifications[0]!.message).toContain('**Commit:** aaaaaaa Close the garage at night\n');
    await outward.around(job({ jobId: 'dep_02' }), Date.now(), async () => succeeded);
    expect(ha.callsTo('persistent_notification', 'dismiss')).toEqual([expect.objectContaining({ data: { notification_id: 'lanyard_home' } })]);
  });

  it('a rollback job that succeeds says rolled_back and tells the house', async () => {
    const { ha, client, stateDir, logger } = await setup();
    const outward = houseOutward({ ha: client, config: relayConfig(stateDir), logger });
    await outward.around(job({ kind: 'rollback', requestedBy: 'otto' }), Date.now(), async () => ({ status: 'succeeded', reason: null, summary: {} }));
    expect(ha.entity('sensor.lanyard_home')?.state).toBe('rolled_back');
    expect(ha.notifications.at(-1)).toMatchObject({ title: 'Lanyard: rolled back to aaaaaaa' });
  });

  it('a job that throws still leaves the sensor at failed, and the error goes on', async () => {
    const { ha, client, stateDir, logger } = await setup();
    const outward = houseOutward({ ha: client, config: relayConfig(stateDir), logger });
    await expect(outward.around(job(), Date.now(), async () => Promise.reject(new Error('journal names no backup')))).rejects.toThrow('journal names no backup');
    expect(ha.entity('sensor.lanyard_home')).toMatchObject({ state: 'failed', attributes: { reason: 'journal names no backup' } });
  });

  it('switched off in relay.yaml, nothing is written to Home Assistant', async () => {
    const { ha, client, stateDir, logger } = await setup();
    const outward = houseOutward({ ha: client, config: relayConfig(stateDir, { sensor: false, notify: false }), logger });
    await outward.around(job(), Date.now(), async () => rolledBack);
    await outward.idle();
    expect(ha.stateHistory('sensor.lanyard_home')).toEqual([]);
    expect(ha.notifications).toEqual([]);
  });

  it('Home Assistant down or answering 500 never fails the job: the outcome comes back, the failure is logged, the state lands once HA is back', async () => {
    const { ha, client, stateDir, logger, warnings } = await setup();
    const sensor = new DeploymentSensor({ ha: client, target: 'home', stateFile: join(stateDir, 'sensor.json'), logger, retryDelayMs: 100 });
    cleanups.push(async () => sensor.stop());
    ha.takeDown();
    await waitFor('Home Assistant to be down', async () => ha.status === 'down');
    await sensor.publish({ state: 'deploying', attributes: sensor.baseAttributes('deploying') });
    await sensor.publish({ state: 'succeeded', attributes: sensor.baseAttributes('succeeded') });
    expect(warnings.some((w) => w.includes('could not publish sensor.lanyard_home'))).toBe(true);
    ha.reset();
    await waitFor('the latest state to land', async () => ha.entity('sensor.lanyard_home')?.state === 'succeeded', 10_000);
    await new Promise((r) => setTimeout(r, 400));
    // The older state never lands after the newer one.
    expect(ha.stateHistory('sensor.lanyard_home').map((w) => w.state)).toEqual(['succeeded']);

    ha.answer500(/persistent_notification|states/);
    const outward = houseOutward({ ha: client, config: relayConfig(stateDir), logger });
    await expect(outward.around(job(), Date.now(), async () => rolledBack)).resolves.toBe(rolledBack);
    expect(warnings.some((w) => w.includes('could not show the Home Assistant notification for dep_01sensor'))).toBe(true);
  });

  it('a hung Home Assistant holds a job up no longer than the client timeout', async () => {
    const { ha, client, stateDir, logger } = await setup();
    ha.hang(/states|services/);
    const outward = houseOutward({ ha: client, config: relayConfig(stateDir), logger });
    const started = Date.now();
    await expect(outward.around(job(), Date.now(), async () => rolledBack)).resolves.toBe(rolledBack);
    // Deploying (1 s), then the outcome and the notice side by side (1 s).
    expect(Date.now() - started).toBeLessThan(3500);
    ha.reset();
  });

  it('carries the edge\'s freeze as attributes (frozen, until, by, reason), written again only when it changes, and cleared when lifted', async () => {
    const { ha, client, stateDir, logger } = await setup();
    const outward = houseOutward({ ha: client, config: relayConfig(stateDir), logger });
    await outward.around(job(), Date.now(), async () => succeeded);
    const freeze = { by: 'otto', reason: 'Family visiting', at: Date.parse('2026-12-20T10:00:00Z'), until: Date.parse('2026-12-27T08:00:00Z') };
    await outward.targetState({ type: 'target_state', freeze });
    expect(ha.entity('sensor.lanyard_home')).toMatchObject({
      state: 'succeeded',
      attributes: { deployment_id: 'dep_01sensor', frozen: true, frozen_until: '2026-12-27T08:00:00.000Z', frozen_by: 'otto', frozen_reason: 'Family visiting' },
    });
    const writes = ha.stateHistory('sensor.lanyard_home').length;
    await outward.targetState({ type: 'target_state', freeze });
    expect(ha.stateHistory('sensor.lanyard_home')).toHaveLength(writes);
    // The next deploy's readings keep saying it is frozen.
    await outward.around(job({ jobId: 'dep_02' }), Date.now(), async () => succeeded);
    expect(ha.entity('sensor.lanyard_home')?.attributes).toMatchObject({ deployment_id: 'dep_02', frozen: true, frozen_by: 'otto' });
    await outward.targetState({ type: 'target_state', freeze: { ...freeze, until: null } });
    expect(ha.entity('sensor.lanyard_home')?.attributes).toMatchObject({ frozen: true, frozen_until: null });
    await outward.targetState({ type: 'target_state', freeze: null });
    expect(ha.entity('sensor.lanyard_home')?.attributes).toMatchObject({ frozen: false, frozen_until: null, frozen_by: null, frozen_reason: null, deployment_id: 'dep_02' });
  });

  it('shows a freeze whose end no date can hold (the schema takes any safe integer) as frozen with no end, instead of not at all', async () => {
    const { ha, client, stateDir, logger } = await setup();
    const outward = houseOutward({ ha: client, config: relayConfig(stateDir), logger });
    await outward.targetState({ type: 'target_state', freeze: { by: 'otto', reason: 'Forever', at: 0, until: Number.MAX_SAFE_INTEGER } });
    expect(ha.entity('sensor.lanyard_home')?.attributes).toMatchObject({ frozen: true, frozen_until: null, frozen_by: 'otto' });
  });

  it('keeps the last of readings published at once, for a restarted relay to show again', async () => {
    const { ha, client, stateDir, warnings, logger } = await setup();
    const first = houseOutward({ ha: client, config: relayConfig(stateDir), logger });
    const freezes = Array.from({ length: 8 }, (_, i) => ({ by: 'otto', reason: `freeze ${i}`, at: i, until: null }));
    await Promise.all([first.idle(), ...freezes.map((freeze) => first.targetState({ type: 'target_state', freeze }))]);
    expect(warnings.filter((w) => /could not keep/.test(w))).toEqual([]);
    ha.removeEntity('sensor.lanyard_home');
    await houseOutward({ ha: client, config: relayConfig(stateDir), logger }).idle();
    expect(ha.entity('sensor.lanyard_home')?.attributes).toMatchObject({ frozen_reason: 'freeze 7' });
  });

  it('publishes the last known state again when idle, after a relay restart too (HA forgets API states when it restarts)', async () => {
    const { ha, client, stateDir, logger } = await setup();
    const first = houseOutward({ ha: client, config: relayConfig(stateDir), logger });
    await first.idle();
    expect(ha.entity('sensor.lanyard_home')?.state).toBe('idle');
    await first.around(job(), Date.now(), async () => succeeded);
    ha.removeEntity('sensor.lanyard_home');
    const restarted = houseOutward({ ha: client, config: relayConfig(stateDir), logger });
    await restarted.idle();
    expect(ha.entity('sensor.lanyard_home')).toMatchObject({ state: 'succeeded', attributes: { deployment_id: 'dep_01sensor' } });
  });
});

describe('the deployment sensor’s drift attributes', () => {
  const driftReport = (paths: string[], since = 1_764_000_000_000): DriftReportMessage => ({
    type: 'drift',
    at: since + 60_000,
    deployedSha: 'a'.repeat(40),
    files: paths.map((path, i) => ({ path, change: 'modified' as const, since: since + i * 1000, diff: null, diffNote: null })),
    total: paths.length,
  });

  it('the drift watch’s count, first paths and since ride on the sensor; published again only when they change, and kept through the next job', async () => {
    const { ha, client, stateDir, logger } = await setup();
    const outward = houseOutward({ ha: client, config: relayConfig(stateDir), logger });
    await outward.around(job(), Date.now(), async () => succeeded);
    const paths = Array.from({ length: 12 }, (_, i) => `packages/p${String(i).padStart(2, '0')}.yaml`);
    await outward.drift(driftReport(paths));
    expect(ha.entity('sensor.lanyard_home')).toMatchObject({
      state: 'succeeded',
      attributes: { drift_count: 12, drift_paths: paths.slice(0, SENSOR_DRIFT_PATHS), drift_since: new Date(1_764_000_000_000).toISOString(), deployment_id: 'dep_01sensor' },
    });
    const writes = ha.stateHistory('sensor.lanyard_home').length;
    // The same drift at the next look: Home Assistant is not written to again.
    await outward.drift({ ...driftReport(paths), at: 1_764_000_999_000 });
    expect(ha.stateHistory('sensor.lanyard_home')).toHaveLength(writes);
    await outward.around(job({ jobId: 'dep_02' }), Date.now(), async () => succeeded);
    expect(ha.entity('sensor.lanyard_home')!.attributes).toMatchObject({ deployment_id: 'dep_02', drift_count: 12 });
    await outward.drift(driftReport([]));
    expect(ha.entity('sensor.lanyard_home')!.attributes).toMatchObject({ drift_count: 0, drift_paths: [], drift_since: null });
  });
});

describe('the persistent notification', () => {
  it('links the deployment on the status page and says what failed', () => {
    const url = statusPageUrl('wss://lanyard.example.org/', 'home', 'dep_1');
    expect(url).toBe('https://lanyard.example.org/targets/home?deployment=dep_1');
    expect(noticeFor(job(), { status: 'failed', reason: 'drift: 2 files changed on the host', summary: {} }, url)).toEqual({
      title: 'Lanyard: Deploy of aaaaaaa failed',
      message: expect.stringContaining('**Reason:** drift: 2 files changed on the host'),
    });
    expect(noticeFor(job(), succeeded, url)).toBeNull();
  });

  it('shows the commit subject and who asked as plain text: a link, an image or markup from the edge is not rendered', () => {
    const url = statusPageUrl('wss://lanyard.example.org/', 'home', 'dep_1');
    const notice = noticeFor(
      job({ commitMessage: '# Urgent [sign in again](https://evil.example/login) ![x](https://evil.example/p.png)', requestedBy: 'otto <b>see www.evil.example</b>' }),
      { status: 'failed', reason: 'plan: a step failed', summary: {} },
      url,
    )!;
    expect(notice.message).toContain('**Commit:** aaaaaaa # Urgent \\[sign in again\\](https\\://evil.example/login) !\\[x\\](https\\://evil.example/p.png)\n');
    expect(notice.message).toContain('**Asked by:** otto \\<b\\>see www\\.evil.example\\</b\\>');
    // The only link in it is Lanyard's own.
    expect(notice.message.match(/(?<!\\)\](?=\()/g)).toHaveLength(1);
    expect(notice.message).toContain(`](${url})`);
  });
});
