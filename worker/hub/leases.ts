// A job handed to the relay stays the relay's only while it shows signs of life: it must acknowledge
// the job within the ack timeout, then report within every lease. A job not acknowledged in time
// goes back to the queue for another attempt; a running job whose lease runs out has failed as
// "relay lost" (the relay's own result, if it comes later, replaces that: relay-session.ts).
import type { Hub } from './hub.ts';

export const RELAY_LOST = 'relay lost';

/** When the earliest job handed over and not yet acknowledged runs out of time (in the past: it has); null when none waits. */
export function nextAckDeadline(hub: Hub, now: number): number | null {
  return earliest(hub.deployments.withStatus(['dispatched']).map((d) => (d.dispatchedAt ?? now) + hub.timings.ackTimeoutMs));
}

/** Puts every job whose ack did not come in time back in the queue. */
export function expireAckTimeouts(hub: Hub, now: number): void {
  for (const d of hub.deployments.withStatus(['dispatched'])) {
    const deadline = (d.dispatchedAt ?? now) + hub.timings.ackTimeoutMs;
    if (deadline > now) continue;
    hub.deployments.update(d.id, { status: 'queued', reason: `relay did not acknowledge attempt ${d.attempt} within ${hub.timings.ackTimeoutMs} ms`, dispatched_at: null });
    hub.audit.record({ at: now, actor: 'edge', action: 'job.ack_timeout', detail: { deploymentId: d.id, attempt: d.attempt }, source: null });
  }
}

/** When the earliest lease of a running job runs out (in the past: it has); null when nothing runs. */
export function nextLeaseDeadline(hub: Hub, now: number): number | null {
  return earliest(hub.deployments.withStatus(['running']).map((d) => leaseOf(hub, d.id, now)));
}

/** Fails every running job whose relay stopped reporting within its lease. */
export function expireLeases(hub: Hub, now: number): void {
  for (const d of hub.deployments.withStatus(['running'])) {
    if (leaseOf(hub, d.id, now) > now) continue;
    hub.deployments.update(d.id, { status: 'failed', reason: RELAY_LOST, finished_at: now, lease_expires_at: null });
    hub.audit.record({ at: now, actor: 'edge', action: 'deploy.failed', detail: { deploymentId: d.id, reason: RELAY_LOST }, source: null });
  }
}

/** A running job without a lease (none was ever granted) has none left. */
function leaseOf(hub: Hub, id: string, now: number): number {
  const row = hub.sql.exec('SELECT lease_expires_at FROM deployments WHERE id = ?', id).one();
  return row.lease_expires_at === null ? now : Number(row.lease_expires_at);
}

function earliest(times: number[]): number | null {
  return times.length ? Math.min(...times) : null;
}
