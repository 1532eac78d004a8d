// Alerts where people look: the edge's outbox hands an alert to the relay, which sends it to the Home
// Assistant `notify.*` services its own config names (relay config `alerts.notify`), and answers
// whether it could. The edge never names a service: a compromised edge can at most send the owner's
// phone a line of text, never call another service of the house.
import { z } from 'zod';
import { oneLine } from './wire-text.ts';
import { ALERT_ID_PATTERN } from './ids.ts';

/** What an alert is about. */
export const AlertEvent = z.enum(['failed', 'rolled_back', 'drift', 'frozen', 'unfrozen']);
export type AlertEvent = z.infer<typeof AlertEvent>;

export const AlertId = z.string().regex(ALERT_ID_PATTERN, 'an alert id: alr_ and 18 base32 characters');

/** hub → relay: one alert to pass to the house's notify services. Retried by the outbox until answered. */
export const AlertMessage = z.object({
  type: z.literal('alert'),
  alertId: AlertId,
  event: AlertEvent,
  title: oneLine(120),
  message: z.string().max(1000),
  /** What a tap on the notification opens: the target's status page on the edge (http or https). */
  url: z.url({ protocol: /^https?$/ }).max(2000).nullable(),
});
export type AlertMessage = z.infer<typeof AlertMessage>;

/** relay → hub: how an alert went. `ok: false` with a reason the outbox records (and retries). */
export const AlertedMessage = z.object({
  type: z.literal('alerted'),
  alertId: AlertId,
  ok: z.boolean(),
  /** The services it reached, or why it could not (no service configured, HA refused, …). */
  detail: oneLine(1000),
});
export type AlertedMessage = z.infer<typeof AlertedMessage>;
