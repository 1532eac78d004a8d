// Alerts where people look (issue 18): failures, rollbacks, new drift and freezes, passed to the
// house's Home Assistant notify services (through the relay: `house`) and by email (the Worker's
// `ALERT_EMAIL` send_email binding: `email`), each as its own outbox message, retried like the
// others and never in a deployment's way. `queueAlert` is the seam other concerns call (the freeze
// does); a deployment's end and new drift are alerted from where they are already announced
// (worker/hub/outward.ts, worker/hub/drift-watch.ts). Which channels: the target's `alerts`
// (`on`, `house`, `email`), the relay having said it has notify services (`alerts` in its hello),
// and the binding being there.
import type { DeploymentView, DriftView } from '../../shared/api.ts';
import { AlertMessage, type AlertEvent } from '../../shared/alert.ts';
import { firstLine, shortSha } from '../../shared/commit.ts';
import { newId } from '../../shared/ids.ts';
import type { TargetConfig } from '../config/targets.ts';
import type { Env } from '../env.ts';
import type { Hub } from '../hub/hub.ts';
import { queueOutward } from '../hub/outward.ts';
import { headerText } from './alert-mail.ts';
import { deploymentPageUrl, outwardSettings } from './settings.ts';

export interface AlertRequest {
  event: AlertEvent;
  /** One line: the notification's title and the email's subject. */
  title: string;
  /** The body. */
  message: string;
  /** The deployment it is about, when it is about one (its page is linked). */
  deploymentId?: string | null;
}

/** What an email alert carries in the outbox; who sends it to whom is read when it is sent. */
export interface EmailAlertPayload {
  alertId: string;
  event: AlertEvent;
  title: string;
  message: string;
  url: string | null;
}

export type AlertOutboxMessage =
  | { channel: 'house'; kind: 'house.alert'; deploymentId: string; what: string; payload: { alert: AlertMessage } }
  | { channel: 'email'; kind: 'email.alert'; deploymentId: string; what: string; payload: EmailAlertPayload };

/** Meta key: the target's relay named `alerts` in its last hello ('1') or did not ('0'). */
export const RELAY_ALERTS_META = 'relay_alerts';

const TITLE_MAX = 120;
const MESSAGE_MAX = 1000;

export interface AlertRouting {
  on: readonly AlertEvent[];
  /** The target's `alerts.house`, and a relay that said it has notify services. */
  house: boolean;
  /** The target's `alerts.email` set, and the `ALERT_EMAIL` binding there. */
  email: boolean;
  /** The page a tap opens; null without PUBLIC_URL. */
  url: string | null;
}

/** Where an alert of this target goes now. */
export function alertRouting(env: Env, config: TargetConfig, relayHasAlerts: boolean, deploymentId: string | null): AlertRouting {
  const settings = outwardSettings(env, config);
  return {
    on: config.alerts.on,
    house: config.alerts.house && relayHasAlerts,
    email: config.alerts.email !== undefined && env.ALERT_EMAIL !== undefined,
    url: deploymentId ? deploymentPageUrl(settings, deploymentId) : settings.statusPageUrl,
  };
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The outbox messages of one alert: one per channel that is on for its event. Pure. */
export function alertMessages(alert: AlertRequest, routing: AlertRouting, alertId: string): AlertOutboxMessage[] {
  if (!routing.on.includes(alert.event)) return [];
  const title = cut(headerText(alert.title), TITLE_MAX);
  const message = cut(alert.message.trim(), MESSAGE_MAX);
  // Messages of a deployment's alert sit with the deployment (its page shows them); others under their own id.
  const about = alert.deploymentId ?? alertId;
  const messages: AlertOutboxMessage[] = [];
  if (routing.house) {
    const parsed = AlertMessage.safeParse({ type: 'alert', alertId, event: alert.event, title, message, url: routing.url });
    if (parsed.success) messages.push({ channel: 'house', kind: 'house.alert', deploymentId: about, what: `house alert ${alert.event}`, payload: { alert: parsed.data } });
    else console.error(`alert ${alertId} not sent to the house: ${parsed.error.message}`);
  }
  if (routing.email) {
    messages.push({ channel: 'email', kind: 'email.alert', deploymentId: about, what: `email alert ${alert.event}`, payload: { alertId, event: alert.event, title, message, url: routing.url } });
  }
  return messages;
}

/** Whether the target's relay said, in its last hello, that it passes alerts to notify services. */
export function relayHasAlerts(hub: Hub): boolean {
  return hub.meta.get(RELAY_ALERTS_META) === '1';
}

/** The outbox messages of an alert of this hub's target (for a caller that enqueues them itself). Never throws. */
export function alertMessagesFor(hub: Hub, config: TargetConfig, alert: AlertRequest, now: number): AlertOutboxMessage[] {
  try {
    return alertMessages(alert, alertRouting(hub.env, config, relayHasAlerts(hub), alert.deploymentId ?? null), newId('alr', now));
  } catch (error) {
    console.error('could not make the alert', error);
    return [];
  }
}

/** Queues an alert on every channel the target's `alerts` has on for its event. Never throws. */
export function queueAlert(hub: Hub, alert: AlertRequest): void {
  try {
    const now = Date.now();
    queueOutward(hub, alertMessagesFor(hub, hub.config(), alert, now), now);
  } catch (error) {
    console.error('could not queue the alert', error);
  }
}

/** The alert a deployment's end calls for: a failure or a rollback; null for anything else. */
export function deploymentAlert(d: DeploymentView): AlertRequest | null {
  if (d.status !== 'failed' && d.status !== 'rolled_back') return null;
  const what = d.kind === 'rollback' ? `rollback to ${shortSha(d.sha)}` : `deploy of ${shortSha(d.sha)}`;
  const subject = firstLine(d.message).trim();
  const lines: string[] = [];
  if (d.status === 'rolled_back') lines.push('Home Assistant is back on the configuration it had before.');
  if (d.reason) lines.push(`Reason: ${d.reason}`);
  if (subject && d.kind !== 'rollback') lines.push(`Commit: ${subject}`);
  return {
    event: d.status,
    title: `${d.target}: ${what} ${d.status === 'rolled_back' ? 'rolled back' : 'failed'}`,
    message: lines.join('\n') || (d.status === 'failed' ? 'A step failed.' : 'A step failed and the deploy was undone.'),
    deploymentId: d.id,
  };
}

/** The alert new drift calls for: which files changed on the host since the last deploy. */
export function driftAlert(target: string, report: DriftView, fresh: DriftView['files']): AlertRequest {
  const named = fresh.slice(0, 5).map((f) => `${f.path} (${f.change})`);
  const more = fresh.length > named.length ? `, and ${fresh.length - named.length} more` : '';
  return {
    event: 'drift',
    title: `${target}: ${report.total} file${report.total === 1 ? '' : 's'} changed on the host`,
    message: `Changed on the host since the last deploy: ${named.join(', ')}${more}. Capture them, or choose for the next deploy on the status page.`,
  };
}
