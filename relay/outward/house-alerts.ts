// Alerts from the edge to the house's phones: each `alert` is passed to every Home Assistant
// `notify.*` service the relay's own config names (`alerts.notify`), with the status page as what a
// tap opens (`data.url` for the companion app on iOS, `data.clickAction` on Android), and answered
// `alerted`: ok when every service took it, else which did not and Home Assistant's answer, quoted.
// The edge names no service and sends no data of its own: at worst it can send the owner a line of
// text. The edge sends an alert again until answered; a repeat is not notified twice: services that
// already took it are skipped, and an alert every service took is answered again at once.
import type { AlertedMessage, AlertMessage } from '../../shared/alert.ts';
import type { HomeAssistantClient } from '../home-assistant/client.ts';
import { HomeAssistantError } from '../home-assistant/errors.ts';
import type { Logger } from '../log.ts';

export interface HouseAlertsOptions {
  ha: Pick<HomeAssistantClient, 'callService'>;
  /** `notify.<name>` services, as the relay config validated them. */
  services: readonly string[];
  logger: Logger;
}

/** How many alerts the relay remembers for deduplication (the edge retries one for at most a day). */
const REMEMBERED = 200;
/** How much of Home Assistant's answer an `alerted` quotes, per service. */
const QUOTED_CHARS = 300;
const DETAIL_MAX = 1000;

/** The body of `POST /api/services/notify/<name>`. */
export function notifyServiceData(alert: Pick<AlertMessage, 'title' | 'message' | 'url'>): Record<string, unknown> {
  return { title: alert.title, message: alert.message, ...(alert.url ? { data: { url: alert.url, clickAction: alert.url } } : {}) };
}

/** Why a service did not take it, as one line: Home Assistant's words inside JSON quotes (control characters escaped). */
export function quoteFailure(service: string, error: unknown): string {
  const said = error instanceof HomeAssistantError ? error.detail : error instanceof Error ? error.message : String(error);
  return `${service}: ${JSON.stringify(said.slice(0, QUOTED_CHARS))}`;
}

export function createHouseAlerts(options: HouseAlertsOptions): (alert: AlertMessage) => Promise<AlertedMessage> {
  /** Per alert id, the services that already took it. */
  const delivered = new Map<string, Set<string>>();

  return async (alert) => {
    if (!options.services.length) return { type: 'alerted', alertId: alert.alertId, ok: false, detail: 'this relay names no notify services (relay config alerts.notify)' };
    const took = delivered.get(alert.alertId) ?? new Set<string>();
    delivered.delete(alert.alertId);
    delivered.set(alert.alertId, took);
    while (delivered.size > REMEMBERED) delivered.delete(delivered.keys().next().value!);

    const failures: string[] = [];
    const data = notifyServiceData(alert);
    for (const service of options.services) {
      if (took.has(service)) continue;
      const name = service.slice('notify.'.length);
      try {
        await options.ha.callService('notify', name, data);
        took.add(service);
      } catch (error) {
        failures.push(quoteFailure(service, error));
      }
    }
    const detail = failures.length ? failures.join('; ') : `sent to ${options.services.join(', ')}`;
    if (failures.length) options.logger.warn(`alert ${alert.alertId} (${alert.event}) not passed to every notify service: ${detail}`);
    else options.logger.info(`alert ${alert.alertId} (${alert.event}) sent to ${options.services.join(', ')}`);
    return { type: 'alerted', alertId: alert.alertId, ok: failures.length === 0, detail: detail.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, DETAIL_MAX) };
  };
}
