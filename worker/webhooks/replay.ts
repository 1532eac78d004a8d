// A signed body GitHub already delivered, sent again under another X-GitHub-Delivery, is a replay:
// the signature proves GitHub wrote the body once, not that it is sending it now. Anyone who saw a
// delivery (a log, a proxy) can send it again for as long as the secret lives, and a push body
// replayed after a rollback would deploy the commit the operator rolled back from. So the body's
// SHA-256 is kept in the delivery ledger, and a body seen before is answered as a duplicate before
// any target's hub hears of it. GitHub's own "Redeliver" keeps the delivery id: the hub answers
// that one, with what the delivery queued the first time.
import type { FirstDelivery } from '../ledger/deliveries.ts';

export async function bodyDigest(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function replayReason(first: FirstDelivery): string {
  const id = first.deliveryId ?? '(no id)';
  return `the same body as delivery ${id} of ${new Date(first.receivedAt).toISOString()}, sent again under a new delivery id: a replay; nothing was queued`;
}
