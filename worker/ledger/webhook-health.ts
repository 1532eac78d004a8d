// Whether GitHub's webhook reaches the edge and is trusted, from the delivery ledger, in one query:
// the newest delivery GitHub can be said to have sent, and the deliveries refused for their
// signature in a recent window. A refused signature is what the webhook router records for a bad
// or missing `X-Hub-Signature-256`: verdict `rejected`, status 401 (a 413 is `rejected` too, but it
// is about size).
//
// Nothing here may be steered by an anonymous client. An unsigned request keeps its event and
// delivery id in the ledger only when it looks like GitHub's (webhooks/github-shape.ts: GitHub's
// headers and a body of its event's shape), so only those are counted, and only they or validly
// signed deliveries can be "the last delivery". Of a row the panel shows times, a verdict, the
// router's own reason, and an event name only from the list Lanyard subscribes to: never text
// that came with the request (an unsigned body's repository is not even stored).
import { z } from 'zod';
import { GITHUB_EVENT_NAMES } from '../webhooks/github-shape.ts';
import { DeliveryVerdict } from './deliveries.ts';

/** The overview's window for refused signatures. */
export const SIGNATURE_WINDOW_MS = 24 * 3600 * 1000;

export const WebhookHealth = z.object({
  /** The newest delivery GitHub can be said to have sent, whatever became of it; null while there is none. `event` is null for an event Lanyard does not subscribe to. */
  last: z
    .object({
      receivedAt: z.number(),
      event: z.string().nullable(),
      action: z.string().nullable(),
      verdict: DeliveryVerdict,
    })
    .nullable(),
  /** Deliveries refused for their signature since `since`, the newest of them, and why it was refused. */
  refused: z.object({ count: z.number().int().min(0), lastAt: z.number().nullable(), lastReason: z.string().nullable() }),
  /** The newest delivery since `since` whose signature was valid. */
  verifiedAt: z.number().nullable(),
  since: z.number(),
});
export type WebhookHealth = z.infer<typeof WebhookHealth>;

/** The event names the panel may show: constants of this code, never a header's text. */
const KNOWN_EVENT = `event IN (${GITHUB_EVENT_NAMES.map((e) => `'${e}'`).join(', ')})`;
/** Refused for its signature and shaped like GitHub's. */
const REFUSED_SIGNATURE = `verdict = 'rejected' AND status = 401 AND verified = 0 AND ${KNOWN_EVENT} AND delivery_id IS NOT NULL AND received_at >= ?1`;
/** What can be "the last delivery": validly signed, or refused and shaped like GitHub's. */
const ATTRIBUTED = `(verified = 1 OR (verdict = 'rejected' AND status = 401 AND ${KNOWN_EVENT} AND delivery_id IS NOT NULL))`;

const HealthRow = z.object({
  refused: z.number(),
  refused_at: z.number().nullable(),
  refused_reason: z.string().nullable(),
  verified_at: z.number().nullable(),
  last_at: z.number().nullable(),
  last_event: z.string().nullable(),
  last_action: z.string().nullable(),
  last_verdict: z.string().nullable(),
});

/** One statement; each part is a range of `deliveries_by_time` (the window) or its first entry. */
export async function readWebhookHealth(db: D1Database, now: number): Promise<WebhookHealth> {
  const since = now - SIGNATURE_WINDOW_MS;
  const row = await db
    .prepare(
      `SELECT
         (SELECT COUNT(*) FROM deliveries WHERE ${REFUSED_SIGNATURE}) AS refused,
         r.received_at AS refused_at, r.reason AS refused_reason,
         (SELECT MAX(received_at) FROM deliveries WHERE verified = 1 AND received_at >= ?1) AS verified_at,
         l.received_at AS last_at, l.event AS last_event, l.action AS last_action, l.verdict AS last_verdict
       FROM (SELECT 1) AS one
       LEFT JOIN (SELECT received_at, reason FROM deliveries WHERE ${REFUSED_SIGNATURE} ORDER BY received_at DESC, id DESC LIMIT 1) AS r ON 1
       LEFT JOIN (SELECT received_at, CASE WHEN ${KNOWN_EVENT} THEN event END AS event, CASE WHEN ${KNOWN_EVENT} THEN action END AS action, verdict
                  FROM deliveries WHERE ${ATTRIBUTED} ORDER BY received_at DESC, id DESC LIMIT 1) AS l ON 1`,
    )
    .bind(since)
    .first();
  const r = HealthRow.parse(row);
  return {
    last:
      r.last_at !== null && r.last_verdict !== null
        ? { receivedAt: r.last_at, event: r.last_event, action: r.last_action, verdict: DeliveryVerdict.parse(r.last_verdict) }
        : null,
    refused: { count: r.refused, lastAt: r.refused_at, lastReason: r.refused_reason },
    verifiedAt: r.verified_at,
    since,
  };
}
