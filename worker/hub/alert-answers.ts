// The relay's side of alerts to the house, as the hub hears it: its hello says whether it passes
// alerts to Home Assistant notify services (`alerts` capability), remembered so the next alert knows
// whether to go to the house at all, and pending house alerts are sent at once to a relay that does;
// its `alerted` settles the alert's outbox entry (ok: delivered; not ok: retried like any failure).
import type { AlertedMessage } from '../../shared/alert.ts';
import { RELAY_CAPABILITIES, type HelloMessage } from '../../shared/protocol.ts';
import { RELAY_ALERTS_META } from '../outward/alerts.ts';
import { recordOutcome } from '../outward/courier.ts';
import type { RelayLink } from '../outward/house-alert.ts';
import { DEFAULT_RETRY, outwardSettings } from '../outward/settings.ts';
import type { Hub } from './hub.ts';
import { attachmentOf, liveRelay, sendTo } from './relay-socket.ts';

export function onAlertsHello(hub: Hub, hello: HelloMessage): void {
  const passes = hello.capabilities.includes(RELAY_CAPABILITIES.alerts);
  hub.meta.set(RELAY_ALERTS_META, passes ? '1' : '0');
  // Waiting for a relay (or sent to a connection now gone): they go now, and the relay deduplicates.
  if (hub.outbox.hurry('house.alert', Date.now()) > 0) hub.reschedule();
}

export function onAlerted(hub: Hub, message: AlertedMessage): void {
  const entry = hub.outbox.pendingAlert(message.alertId);
  // Already settled (an answer to an alert sent twice), or not one of ours: nothing to do.
  if (!entry) return;
  let policy = DEFAULT_RETRY;
  try {
    policy = outwardSettings(hub.env, hub.config()).retry;
  } catch {
    // the target's configuration is unreadable now: the default policy
  }
  recordOutcome(
    { outbox: hub.outbox, audit: (e) => hub.audit.record(e), wakeAt: () => hub.reschedule() },
    policy,
    entry,
    message.ok ? { ok: true } : { ok: false, retry: true, error: `the relay could not pass it on: ${message.detail}`, retryAfterMs: null },
  );
  hub.changed();
}

/** The live relay as the courier sends alerts to it. */
export function relayLink(hub: Hub): RelayLink | null {
  const ws = liveRelay(hub);
  const hello = ws ? attachmentOf(ws)?.hello : null;
  if (!ws || !hello) return null;
  return {
    capabilities: hello.capabilities,
    send: (message) => {
      if (ws.readyState !== WebSocket.OPEN) return false;
      sendTo(ws, message);
      return true;
    },
  };
}
