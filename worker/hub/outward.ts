// The hub's side of outward messages (GitHub Deployments, Slack, the signed webhook): what the
// outside world must hear of every deployment that changed state goes into the outbox in the same
// synchronous step as the change, and the alarm delivers it (worker/outward/ has the messages and
// the courier). Nothing outward may stand in the way of a deployment: neither step ever throws.
import { newId } from '../../shared/ids.ts';
import { announcementsFor, type OutboxMessage } from '../outward/announcements.ts';
import { deliverDue } from '../outward/courier.ts';
import { outwardSettings } from '../outward/settings.ts';
import { traceExportsFor } from '../traces/trace-export.ts';
import type { Hub } from './hub.ts';
import { RELAY_LOST } from './leases.ts';

/**
 * After a delivery run that failed as a whole (not one message: the courier retries those by
 * itself), the outbox is not tried again before this time, unless something new is announced.
 */
const PAUSED_UNTIL = 'outward_paused_until';
const PAUSE_MS = 60_000;

/** When the outbox next has a message to send (in the past: at once); null when nothing is pending. */
export function nextOutwardDeadline(hub: Hub): number | null {
  const due = hub.outbox.nextDueAt();
  if (due === null) return null;
  const paused = hub.meta.get(PAUSED_UNTIL);
  return paused ? Math.max(due, Number(paused)) : due;
}

/** Puts what the outside world must hear about every deployment that changed state into the outbox; wakes the alarm when it did. */
export function announce(hub: Hub): void {
  try {
    const config = hub.config();
    const settings = outwardSettings(hub.env, config);
    const now = Date.now();
    let queued = false;
    for (const u of hub.outbox.unannounced()) {
      const d = hub.deployments.get(u.id);
      if (!d) continue;
      const previous = d.status === 'succeeded' ? hub.deployments.latest(['succeeded'], d.id) : null;
      const { messages, githubState } = announcementsFor({
        deployment: d,
        announcedStatus: u.announcedStatus,
        announcedGithubState: u.announcedGithubState,
        githubKnown: hub.outbox.githubKnows(d.id),
        relayLost: d.status === 'failed' && d.reason === RELAY_LOST,
        replaced: previous && hub.outbox.githubKnows(previous.id) ? previous : null,
        config,
        settings,
        newDeliveryId: () => newId('ntf', now),
      });
      // Issue 20, traces: a deployment that just ended has its trace exported.
      messages.push(...traceExportsFor(hub, d, u.announcedStatus, settings, now));
      if (messages.length) {
        hub.outbox.enqueue(messages, now);
        queued = true;
      }
      hub.outbox.markAnnounced(d.id, d.status, githubState);
    }
    if (queued) {
      // Something new to say is tried at once, as it always was, even during a pause.
      resume(hub);
      hub.reschedule();
    }
  } catch (error) {
    console.error('could not queue outward messages', error);
  }
}

/** Sends what the outbox holds that is due (the alarm then asks nextOutwardDeadline when to come back); `wakeAt` is told each retry time as it is set, so a hub evicted mid-request comes back. */
export async function deliverOutward(hub: Hub, wakeAt: (at: number) => void): Promise<void> {
  try {
    const { attempted } = await deliverDue({
      outbox: hub.outbox,
      settings: () => {
        try {
          return outwardSettings(hub.env, hub.config());
        } catch {
          return null;
        }
      },
      audit: (entry) => hub.audit.record(entry),
      wakeAt,
      pulled: (captureId, url) => hub.captures.update(captureId, { pull_request_url: url || null }),
    });
    resume(hub);
    // The status shows outward problems: watching pages refresh when an attempt was made.
    if (attempted) hub.changed();
  } catch (error) {
    console.error('outward delivery failed', error);
    hub.meta.set(PAUSED_UNTIL, String(Date.now() + PAUSE_MS));
  }
}

/** Puts messages that are no deployment's (a drift notice) into the outbox, tried at once like any new message. */
export function queueOutward(hub: Hub, messages: readonly OutboxMessage[], now: number): void {
  if (!messages.length) return;
  hub.outbox.enqueue(messages, now);
  resume(hub);
  hub.reschedule();
}

function resume(hub: Hub): void {
  if (hub.meta.get(PAUSED_UNTIL) !== null) hub.meta.set(PAUSED_UNTIL, null);
}
