// Alerts (issue 18), inside workerd: a failed deploy, new drift and a freeze reach the house (the
// hub hands `alert` to a relay that names `alerts`, and the relay's `alerted` settles it) and the
// owner's email (miniflare's local send_email binding, which parses the message with a MIME parser
// and refuses any recipient but owner@example.org). A relay that is away gets the alert when it
// says hello; one that answers "not ok" gets it again; events the target did not ask for alert nowhere.
import type { EmailMessage } from 'cloudflare:email';
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { AlertMessage } from '../../shared/alert.ts';
import { RELAY_CAPABILITIES } from '../../shared/protocol.ts';
import { configurationProblems } from '../../worker/http/configuration-problems.ts';
import type { Hub } from '../../worker/hub/hub.ts';
import { queueAlert } from '../../worker/outward/alerts.ts';
import { sendAlertEmail } from '../../worker/outward/email-alert.ts';
import { ALERT_ANSWER_MS, sendHouseAlert } from '../../worker/outward/house-alert.ts';
import { fakeSha, pushPayload } from '../support/github-payloads.ts';
import { apiCall, call, deliver } from './helpers.ts';
import { connectRelay, drainJobs, type TestRelay } from './relay-socket.ts';

const TARGET = 'alerting';
const WITH_ALERTS = ['deploy', 'rollback', RELAY_CAPABILITIES.alerts];

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function outwardOf(deploymentId: string): Promise<{ what: string; state: string; lastError: string | null; channel: string }[]> {
  return (await apiCall(`/deployments/${TARGET}/logs?deploymentId=${deploymentId}`, 'viewer')).body.outward;
}

function inHub<T>(fn: (hub: Hub) => T): Promise<T> {
  return runInDurableObject(env.TARGET_HUB.get(env.TARGET_HUB.idFromName(TARGET)), async (instance) => fn((instance as unknown as { hub: Hub }).hub));
}

/** Every pending or settled alert message of the hub's outbox, oldest first. */
function alertRows(): Promise<{ what: string; state: string; lastError: string | null; deploymentId: string }[]> {
  return inHub((hub) =>
    hub.sql
      .exec(`SELECT what, state, last_error, deployment_id FROM outbox WHERE channel IN ('house', 'email') ORDER BY seq`)
      .toArray()
      .map((r) => ({ what: String(r.what), state: String(r.state), lastError: r.last_error === null ? null : String(r.last_error), deploymentId: String(r.deployment_id) })),
  );
}

async function failDeploy(relay: TestRelay, name: string, reason: string): Promise<string> {
  const { body } = await deliver({ event: 'push', payload: pushPayload({ repo: 'octo-home/alerting-config', after: fakeSha(name), message: `${name}\n\nmore` }) });
  const id = body.deployments[0].deploymentId as string;
  const job = await relay.next('job');
  if (job.type !== 'job') throw new Error('not a job');
  relay.send({ type: 'ack', jobId: id, attempt: job.attempt });
  relay.send({ type: 'result', jobId: id, status: 'failed', reason, summary: {} as never });
  await relay.next('recorded');
  return id;
}

describe('alerts to the house and by email', () => {
  it('a failed deploy: the relay is handed the alert with a tap that opens the deployment, its answer settles it, and the email is sent', async () => {
    const relay = await connectRelay(TARGET, 'relay-token-home', true, WITH_ALERTS);
    await drainJobs(relay);
    const id = await failDeploy(relay, 'Kitchen lights', 'Home Assistant says the config is invalid: automations.yaml line 3');

    const alert = (await relay.next('alert', 8000)) as AlertMessage;
    expect(alert).toMatchObject({
      event: 'failed',
      title: expect.stringMatching(/^alerting: deploy of [0-9a-f]{7} failed$/),
      message: expect.stringContaining('Reason: Home Assistant says the config is invalid: automations.yaml line 3'),
      url: `http://127.0.0.1:8787/targets/alerting?deployment=${id}`,
    });
    expect(alert.message).toContain('Commit: Kitchen lights');
    // Sent and not yet answered: pending, with no error to show.
    expect((await outwardOf(id)).find((o) => o.channel === 'house')).toMatchObject({ what: 'house alert failed', state: 'pending', lastError: null });

    relay.send({ type: 'alerted', alertId: alert.alertId, ok: true, detail: 'notify.mobile_app_pixel_8' });
    await until('the house alert to be delivered', async () => (await outwardOf(id)).find((o) => o.channel === 'house' && o.state === 'delivered'));
    // The email went through the binding (which parsed it and checked its From and Message-ID).
    const email = await until('the email alert to be settled', async () => (await outwardOf(id)).find((o) => o.channel === 'email' && o.state !== 'pending'));
    expect(email).toMatchObject({ what: 'email alert failed', state: 'delivered', lastError: null });
    relay.close();
  });

  it('a relay that could not pass it on is asked again, with its reason shown meanwhile', async () => {
    const relay = await connectRelay(TARGET, 'relay-token-home', true, WITH_ALERTS);
    await drainJobs(relay);
    const id = await failDeploy(relay, 'Garden sprinkler', 'a step failed');
    const first = (await relay.next('alert', 8000)) as AlertMessage;
    relay.send({ type: 'alerted', alertId: first.alertId, ok: false, detail: 'notify.mobile_app_pixel_8: Home Assistant answered 500: "Server got itself in trouble"' });
    const pending = await until('the refusal to show', async () => (await outwardOf(id)).find((o) => o.channel === 'house' && o.lastError));
    expect(pending).toMatchObject({ state: 'pending', lastError: expect.stringContaining('the relay could not pass it on: notify.mobile_app_pixel_8: Home Assistant answered 500') });
    relay.close();

    // The next connection (a restarted relay) is handed the same alert at once, not at its next retry.
    const again = await connectRelay(TARGET, 'relay-token-home', true, WITH_ALERTS);
    const second = (await again.next('alert', 8000)) as AlertMessage;
    expect(second).toEqual(first);
    again.send({ type: 'alerted', alertId: second.alertId, ok: true, detail: 'notify.mobile_app_pixel_8' });
    await until('the alert to be delivered', async () => (await outwardOf(id)).find((o) => o.channel === 'house' && o.state === 'delivered'));
    again.close();
  });

  it('a relay that is away gets a freeze alert once it connects; an event the target did not ask for alerts nowhere', async () => {
    // The relay said once that it passes alerts, then went away.
    const before = await connectRelay(TARGET, 'relay-token-home', true, WITH_ALERTS);
    await drainJobs(before);
    before.close();
    await until('the relay to be gone', async () => (await apiCall(`/deployments/${TARGET}/status`, 'viewer')).body.relay.connected === false);

    await inHub((hub) => {
      queueAlert(hub, { event: 'frozen', title: 'alerting: frozen until Sunday by otto', message: 'Because: family visiting' });
      // Not in this target's alerts.on.
      queueAlert(hub, { event: 'unfrozen', title: 'alerting: unfrozen', message: 'by otto' });
    });
    const waiting = await until('the freeze alert to wait for a relay', async () => (await alertRows()).find((r) => r.what === 'house alert frozen' && r.lastError));
    expect(waiting).toMatchObject({ state: 'pending', lastError: expect.stringContaining('no relay is connected') });
    expect((await alertRows()).some((r) => r.what.includes('unfrozen'))).toBe(false);

    const relay = await connectRelay(TARGET, 'relay-token-home', true, WITH_ALERTS);
    const alert = (await relay.next('alert', 8000)) as AlertMessage;
    expect(alert).toMatchObject({ event: 'frozen', title: 'alerting: frozen until Sunday by otto', message: 'Because: family visiting', url: 'http://127.0.0.1:8787/targets/alerting' });
    relay.send({ type: 'alerted', alertId: alert.alertId, ok: true, detail: 'notify.mobile_app_pixel_8' });
    await until('the freeze alert to be delivered', async () => (await alertRows()).find((r) => r.deploymentId === alert.alertId && r.what === 'house alert frozen' && r.state === 'delivered'));
    relay.close();
  });

  it('new drift alerts the house once', async () => {
    const relay = await connectRelay(TARGET, 'relay-token-home', true, WITH_ALERTS);
    await drainJobs(relay);
    relay.send({ type: 'drift', at: Date.now(), deployedSha: fakeSha('alerting-deployed'), files: [{ path: 'automations.yaml', change: 'modified', since: Date.now(), diff: null, diffNote: null }], total: 1 } as never);
    const alert = (await relay.next('alert', 8000)) as AlertMessage;
    expect(alert).toMatchObject({ event: 'drift', title: 'alerting: 1 file changed on the host', message: expect.stringContaining('automations.yaml (modified)') });
    relay.send({ type: 'alerted', alertId: alert.alertId, ok: true, detail: 'notify.mobile_app_pixel_8' });
    relay.close();
  });

  it('a relay that does not name `alerts` is handed none', async () => {
    const relay = await connectRelay(TARGET, 'relay-token-home', true, ['deploy', 'rollback']);
    await drainJobs(relay);
    const id = await failDeploy(relay, 'Porch', 'a step failed');
    // The email still goes; the house gets nothing, and nothing waits for it.
    await until('the email alert to be delivered', async () => (await outwardOf(id)).find((o) => o.channel === 'email' && o.state === 'delivered'));
    expect((await outwardOf(id)).filter((o) => o.channel === 'house')).toEqual([]);
    expect(relay.received.some((m) => m.type === 'alert')).toBe(false);
    relay.close();
  });
});

describe('one attempt of the house channel', () => {
  const alert: AlertMessage = { type: 'alert', alertId: 'alr_01m82e4vg06ns08fd9', event: 'failed', title: 't', message: 'm', url: null };
  const relay = (capabilities: string[], sent: AlertMessage[] = []) => ({ capabilities, send: (m: AlertMessage) => sent.push(m) > 0 });

  it('waits for the answer after sending; a resend of an unanswered attempt says so; no relay is retried; a relay without notify services is given up', () => {
    const sent: AlertMessage[] = [];
    expect(sendHouseAlert(relay(WITH_ALERTS, sent), { attempts: 1, lastError: null }, alert)).toEqual({ ok: 'sent', answerWithinMs: ALERT_ANSWER_MS, note: null });
    expect(sent).toEqual([alert]);
    expect(sendHouseAlert(relay(WITH_ALERTS), { attempts: 3, lastError: null }, alert)).toMatchObject({ ok: 'sent', note: expect.stringMatching(/^sent again: attempt 2 was not answered/) });
    // After a refusal (an error on record), the resend is an ordinary retry.
    expect(sendHouseAlert(relay(WITH_ALERTS), { attempts: 2, lastError: 'the relay could not pass it on: x' }, alert)).toMatchObject({ ok: 'sent', note: null });
    expect(sendHouseAlert(null, { attempts: 1, lastError: null }, alert)).toMatchObject({ ok: false, retry: true });
    expect(sendHouseAlert(relay(['deploy']), { attempts: 1, lastError: null }, alert)).toMatchObject({ ok: false, retry: false, error: expect.stringContaining('names no Home Assistant notify services') });
  });
});

describe('the email binding', () => {
  it('refuses a recipient that is not a verified destination, and that is not retried', async () => {
    const outcome = await sendAlertEmail(
      { binding: env.ALERT_EMAIL!, from: 'lanyard@example.org', to: 'stranger@example.org' },
      { alertId: 'alr_01m82e4vg06ns08fd0', event: 'failed', title: 'home: deploy failed', message: 'Reason: x', url: null },
      new Date(),
    );
    expect(outcome).toMatchObject({ ok: false, retry: false, error: expect.stringContaining('stranger@example.org not allowed') });
  });

  it('takes a message with a non-ASCII subject and body as a MIME parser reads it', async () => {
    const outcome = await sendAlertEmail(
      { binding: env.ALERT_EMAIL!, from: 'lanyard@example.org', to: 'owner@example.org' },
      { alertId: 'alr_01m82e4vg06ns08fd1', event: 'rolled_back', title: 'Küche: Bereitstellung zurückgerollt — 💡', message: 'Grund: ungültige Konfiguration\nZeile 2', url: 'http://127.0.0.1:8787/targets/home' },
      new Date(),
    );
    expect(outcome).toEqual({ ok: true });
  });
});

describe('the email as a binding receives it', () => {
  it('is from and to the configured addresses, with the alert as subject and body and the page to open', async () => {
    // A stand-in binding that keeps what it is handed. Locally, `cloudflare:email`'s EmailMessage
    // carries its raw message under this key (miniflare's send_email binding reads it the same way).
    const received: { from: string; to: string; raw: string }[] = [];
    const standIn = {
      send: async (message: EmailMessage) => {
        const raw = await new Response((message as unknown as Record<string, ReadableStream | string>)['EmailMessage::raw']).text();
        received.push({ from: message.from, to: message.to, raw });
        return { messageId: 'stand-in' };
      },
    } as unknown as SendEmail;
    const payload = { alertId: 'alr_01m82e4vg06ns08fd4', event: 'rolled_back' as const, title: 'Küche: deploy of 1a2b3c4 rolled back', message: 'Reason: ungültig\nCommit: Lichter', url: 'http://127.0.0.1:8787/targets/home?deployment=dep_01m82e4vg06ns08fd0' };
    expect(await sendAlertEmail({ binding: standIn, from: 'lanyard@example.org', to: 'owner@example.org' }, payload, new Date(Date.UTC(2026, 11, 3, 2, 0, 0)))).toEqual({ ok: true });
    expect(received).toHaveLength(1);
    const { from, to, raw } = received[0]!;
    expect({ from, to }).toEqual({ from: 'lanyard@example.org', to: 'owner@example.org' });
    const [head, body] = raw.split('\r\n\r\n');
    expect(head).toContain('\r\nSubject: =?UTF-8?B?');
    expect(head).toContain('\r\nMessage-ID: <alr_01m82e4vg06ns08fd4@example.org>\r\n');
    expect(head).toContain('\r\nDate: Thu, 03 Dec 2026 02:00:00 +0000\r\n');
    const subject = [...head!.matchAll(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=/g)].map((m) => new TextDecoder().decode(Uint8Array.from(atob(m[1]!), (c) => c.charCodeAt(0)))).join('');
    expect(subject).toBe('Küche: deploy of 1a2b3c4 rolled back');
    const text = new TextDecoder().decode(Uint8Array.from(atob(body!.replace(/\r\n/g, '')), (c) => c.charCodeAt(0)));
    expect(text).toBe(`Reason: ungültig\r\nCommit: Lichter\r\n\r\nStatus page: ${payload.url}\r\n\r\n-- \r\nLanyard, alert alr_01m82e4vg06ns08fd4 (rolled_back)\r\n`);
  });
});

describe('configuration', () => {
  it('healthz names no email problem while the binding is there', async () => {
    const body = (await (await call('/healthz')).json()) as { problems: { code: string }[] };
    expect(body.problems.map((p) => p.code)).not.toContain('alert_email_binding_missing');
  });

  it('a target that sets alerts.email without the ALERT_EMAIL binding is a configuration problem, not a crash', () => {
    const problems = configurationProblems({ ...env, ALERT_EMAIL: undefined });
    expect(problems.find((p) => p.code === 'alert_email_binding_missing')?.message).toMatch(/^Target alerting sets `alerts\.email`, but the Worker has no ALERT_EMAIL send_email binding/);
  });
});
