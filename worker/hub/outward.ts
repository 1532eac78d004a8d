// The hub's side of outward messages (GitHub Deployments, Slack, the signed webhook): what the
// outside world must hear of every deployment that changed state goes into the outbox in the same
// synchronous step as the change, and the alarm delivers it (worker/outward/ has the messages and
// the courier). Nothing outward may stand in the way of a deployment: neither step ever throws.
import { newId } from '../../shared/ids.ts';
import { announcementsFor } from '../outward/announcements.ts';
import { deliverDue } from '../outward/courier.ts';
import { outwardSettings } from '../outward/settings.ts';
import type { Hub } from './hub.ts';
import { RELAY_LOST } from './leases.ts';

/** Puts what the outside world must hear about every deployment that changed state into the outbox; wakes the alarm when it did. */
export function announce(hub: Hub, wakeAt: (at: number) => void): void {
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
      if (messages.length) {
        hub.outbox.enqueue(messages, now);
        queued = true;
      }
      hub.outbox.markAnnounced(d.id, d.status, githubState);
    }
    if (queued) wakeAt(now);
  } catch (error) {
    console.error('could not queue outward messages', error);
  }
}

/** Sends what the outbox holds that is due; the alarm comes back for retries. */
export async function deliverOutward(hub: Hub, wakeAt: (at: number) => void): Promise<void> {
  try {
    const { attempted, nextDueAt } = await deliverDue({
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
    });
    if (nextDueAt !== null) wakeAt(Math.max(nextDueAt, Date.now()));
    // The status shows outward problems: watching pages refresh when an attempt was made.
    if (attempted) hub.changed();
  } catch (error) {
    console.error('outward delivery failed', error);
    wakeAt(Date.now() + 60_000);
  }
}
