// Alerts in the house: the relay passes an edge's alert to the notify services its config names,
// against the Home Assistant stand-in over real HTTP. The phone gets the title, the message and the
// status page as its tap; a service HA does not have makes the answer "not ok" with HA's words quoted
// on one line; the edge's retry reaches only the services that missed it; an alert already passed on
// is not notified twice.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertMessage } from '../../shared/alert.ts';
import { RELAY_CAPABILITIES } from '../../shared/protocol.ts';
import { HomeAssistantClient } from '../../relay/home-assistant/client.ts';
import { JobRunner, type JobExecutor } from '../../relay/job-runner.ts';
import { Journal } from '../../relay/journal.ts';
import type { Logger } from '../../relay/log.ts';
import { createHouseAlerts } from '../../relay/outward/house-alerts.ts';
import { relayCapabilities } from '../../relay/version.ts';
import type { RelayMessage } from '../../shared/protocol.ts';
import { startHomeAssistantStandIn, type HomeAssistantStandIn } from '../support/home-assistant-standin.ts';

const TOKEN = 'house-alerts-token';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const lines: string[] = [];
const logger: Logger = { info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) };

async function house(notifyServices?: string[]): Promise<{ ha: HomeAssistantStandIn; client: HomeAssistantClient }> {
  const dir = await mkdtemp(join(tmpdir(), 'lanyard-alerts-'));
  const ha = await startHomeAssistantStandIn({ configDir: dir, token: TOKEN, ...(notifyServices ? { notifyServices } : {}) });
  cleanups.push(async () => {
    await ha.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { ha, client: new HomeAssistantClient({ baseUrl: ha.url, token: TOKEN, requestTimeoutMs: 5000 }) };
}

const ALERT: AlertMessage = {
  type: 'alert',
  alertId: 'alr_01m82e4vg06ns08fd0',
  event: 'failed',
  title: 'home: deploy of 1a2b3c4 failed',
  message: 'Reason: automations.yaml line 3\nCommit: Kitchen lights',
  url: 'https://lanyard.example.org/targets/home?deployment=dep_01m82e4vg06ns08fd0',
};

describe('alerts to the house', () => {
  it('calls each named notify service with the title, the message and the status page as the tap', async () => {
    const { ha, client } = await house(['mobile_app_pixel_8', 'mobile_app_ipad']);
    const alert = createHouseAlerts({ ha: client, services: ['notify.mobile_app_pixel_8', 'notify.mobile_app_ipad'], logger });
    expect(await alert(ALERT)).toEqual({ type: 'alerted', alertId: ALERT.alertId, ok: true, detail: 'sent to notify.mobile_app_pixel_8, notify.mobile_app_ipad' });
    for (const phone of ['mobile_app_pixel_8', 'mobile_app_ipad']) {
      expect(ha.callsTo('notify', phone).map((c) => c.data)).toEqual([
        { title: ALERT.title, message: ALERT.message, data: { url: ALERT.url, clickAction: ALERT.url } },
      ]);
    }
    // The edge sent it again (its answer was lost): no second notification.
    expect((await alert(ALERT)).ok).toBe(true);
    expect(ha.callsTo('notify', 'mobile_app_pixel_8')).toHaveLength(1);
  });

  it('without a status page link, sends no tap action', async () => {
    const { ha, client } = await house();
    const alert = createHouseAlerts({ ha: client, services: ['notify.mobile_app_pixel_8'], logger });
    await alert({ ...ALERT, alertId: 'alr_01m82e4vg06ns08fd1', url: null });
    expect(ha.callsTo('notify', 'mobile_app_pixel_8').map((c) => c.data)).toEqual([{ title: ALERT.title, message: ALERT.message }]);
  });

  it('a service Home Assistant does not have: not ok, HA\'s answer quoted on one line; the retry reaches only what missed it', async () => {
    const { ha, client } = await house(['mobile_app_pixel_8']);
    const alert = createHouseAlerts({ ha: client, services: ['notify.mobile_app_pixel_8', 'notify.mobile_app_old_phone'], logger });
    const answer = await alert(ALERT);
    expect(answer.ok).toBe(false);
    expect(answer.detail).toMatch(/^notify\.mobile_app_old_phone: "HTTP 400: Service notify\.mobile_app_old_phone not found\..*"$/);
    expect(answer.detail).not.toMatch(/[\u0000-\u001f]/);
    expect(ha.callsTo('notify', 'mobile_app_pixel_8')).toHaveLength(1);

    const retried = await alert(ALERT);
    expect(retried.ok).toBe(false);
    // The phone that got it is not notified again.
    expect(ha.callsTo('notify', 'mobile_app_pixel_8')).toHaveLength(1);
  });

  it('Home Assistant answering 500 is quoted safely, its newlines escaped', async () => {
    const { client, ha } = await house();
    ha.answer500(/\/api\/services\/notify\//);
    const answer = await createHouseAlerts({ ha: client, services: ['notify.mobile_app_pixel_8'], logger })({ ...ALERT, alertId: 'alr_01m82e4vg06ns08fd2' });
    expect(answer).toMatchObject({ ok: false, detail: expect.stringMatching(/^notify\.mobile_app_pixel_8: "HTTP 500: .*"$/) });
    expect(answer.detail).not.toMatch(/[\u0000-\u001f]/);
  });

  it('the relay names `alerts` in hello only when it names notify services', () => {
    expect(relayCapabilities({ alerts: { notify: [] } })).not.toContain(RELAY_CAPABILITIES.alerts);
    expect(relayCapabilities({ alerts: { notify: ['notify.mobile_app_pixel_8'] } })).toContain(RELAY_CAPABILITIES.alerts);
  });

  it('the job runner answers an alert at once, and says so when it has no notify services', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lanyard-alerts-runner-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const journal = new Journal(join(dir, 'journal'));
    await journal.open();
    const sent: RelayMessage[] = [];
    const executor = { execute: async () => ({ status: 'failed', reason: 'unused', summary: {} }), recover: async () => ({ status: 'failed', reason: 'unused', summary: {} }) } as unknown as JobExecutor;
    const runner = new JobRunner(journal, executor, { send: (m) => sent.push(m) > 0 }, logger, 'home');
    runner.onMessage(ALERT);
    for (let i = 0; i < 100 && sent.length < 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([{ type: 'alerted', alertId: ALERT.alertId, ok: false, detail: 'this relay names no notify services (relay config alerts.notify)' }]);

    const { ha, client } = await house();
    const withAlerts = new JobRunner(journal, { ...executor, alert: createHouseAlerts({ ha: client, services: ['notify.mobile_app_pixel_8'], logger }) }, { send: (m) => sent.push(m) > 0 }, logger, 'home');
    withAlerts.onMessage({ ...ALERT, alertId: 'alr_01m82e4vg06ns08fd3' });
    for (let i = 0; i < 100 && sent.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(sent[1]).toEqual({ type: 'alerted', alertId: 'alr_01m82e4vg06ns08fd3', ok: true, detail: 'sent to notify.mobile_app_pixel_8' });
    expect(ha.callsTo('notify', 'mobile_app_pixel_8')).toHaveLength(1);
  });
});
