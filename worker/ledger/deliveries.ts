// The delivery ledger in D1: one row per request to the webhook endpoint. Written after the
// answer is decided, through waitUntil, so GitHub never waits on it.
import { z } from 'zod';
import { clipText } from '../http/quote-input.ts';

/**
 * `refused`: signed and well formed, but a target's hub would not act on it, and says why (a
 * workflow_run or dispatch for a commit the branch has moved on from).
 */
export const DeliveryVerdict = z.enum(['enqueued', 'duplicate', 'ignored', 'refused', 'rejected', 'invalid', 'ok']);
export type DeliveryVerdict = z.infer<typeof DeliveryVerdict>;

export const DeliveryRecord = z.object({
  deliveryId: z.string().nullable(),
  receivedAt: z.number(),
  event: z.string().nullable(),
  action: z.string().nullable(),
  repo: z.string().nullable(),
  ref: z.string().nullable(),
  sha: z.string().nullable(),
  verified: z.boolean(),
  verdict: DeliveryVerdict,
  reason: z.string(),
  status: z.number(),
  deployments: z.array(z.object({ target: z.string(), deploymentId: z.string(), created: z.boolean() })),
  source: z.string().nullable(),
  /** SHA-256 (hex) of the body as received, for verified deliveries only: a replayed body is known by it. */
  bodySha256: z.string().nullable(),
});
export type DeliveryRecord = z.infer<typeof DeliveryRecord>;

/** How long deliveries are kept: "why didn't my push deploy?" is asked within days, not years. */
export const DELIVERY_RETENTION_MS = 90 * 24 * 3600 * 1000;

/**
 * Longest text kept per column. Headers of unsigned requests and fields of signed payloads can be
 * as long as a request allows; cut, the row always fits in D1 (which refuses a value over its limit
 * and would lose the row) and one request cannot make the ledger, or the status page, megabytes.
 */
const KEPT_CHARS = { deliveryId: 128, event: 64, action: 64, repo: 256, ref: 512, sha: 64, reason: 2048, source: 256 } as const;

function clipped(value: string | null, max: number): string | null {
  return value === null ? null : clipText(value, max);
}

/** Writes one delivery and prunes those older than DELIVERY_RETENTION_MS, in one batch. */
export async function recordDelivery(db: D1Database, record: DeliveryRecord): Promise<void> {
  const r: DeliveryRecord = { ...record };
  for (const key of Object.keys(KEPT_CHARS) as (keyof typeof KEPT_CHARS)[]) {
    if (key === 'reason') r.reason = clipText(r.reason, KEPT_CHARS.reason);
    else r[key] = clipped(r[key], KEPT_CHARS[key]);
  }
  await db.batch([
    db
      .prepare(
        `INSERT INTO deliveries (delivery_id, received_at, event, action, repo, ref, sha, verified, verdict, reason, status, deployments, source, body_sha256)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        r.deliveryId, r.receivedAt, r.event, r.action, r.repo, r.ref, r.sha, r.verified ? 1 : 0, r.verdict, r.reason, r.status, JSON.stringify(r.deployments), r.source,
        r.verified ? r.bodySha256 : null,
      ),
    db.prepare('DELETE FROM deliveries WHERE received_at < ?').bind(r.receivedAt - DELIVERY_RETENTION_MS),
  ]);
}

export const DeliveryQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  deliveryId: z.string().optional(),
  verdict: DeliveryVerdict.optional(),
  repo: z.string().optional(),
});
export type DeliveryQuery = z.infer<typeof DeliveryQuery>;

interface DeliveryRow {
  delivery_id: string | null;
  received_at: number;
  event: string | null;
  action: string | null;
  repo: string | null;
  ref: string | null;
  sha: string | null;
  verified: number;
  verdict: string;
  reason: string;
  status: number;
  deployments: string;
  source: string | null;
  body_sha256: string | null;
}

export async function listDeliveries(db: D1Database, q: DeliveryQuery): Promise<DeliveryRecord[]> {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.deliveryId) {
    where.push('delivery_id = ?');
    args.push(q.deliveryId);
  }
  if (q.verdict) {
    where.push('verdict = ?');
    args.push(q.verdict);
  }
  if (q.repo) {
    // GitHub compares repository names without regard to case; so does the ledger (index 0003).
    where.push('repo = ? COLLATE NOCASE');
    args.push(q.repo);
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const { results } = await db
    .prepare(`SELECT * FROM deliveries ${clause} ORDER BY received_at DESC, id DESC LIMIT ?`)
    .bind(...args, q.limit)
    .all<DeliveryRow>();
  return results.map(fromRow);
}

/**
 * The newest deliveries of one repository, compared case-insensitively as GitHub compares names
 * (one index range: `deliveries_by_repo`). With `about`, only those about that target: a ref on its
 * branch, or a deployment it created or found for it.
 */
export async function listRepoDeliveries(
  db: D1Database,
  q: { repo: string; limit: number; about?: { target: string; branch: string } | undefined },
): Promise<DeliveryRecord[]> {
  const args: (string | number)[] = [q.repo];
  let about = '';
  if (q.about) {
    about = ` AND (ref = ? OR EXISTS (SELECT 1 FROM json_each(deliveries.deployments) WHERE json_extract(value, '$.target') = ?))`;
    args.push(`refs/heads/${q.about.branch}`, q.about.target);
  }
  const { results } = await db
    .prepare(`SELECT * FROM deliveries WHERE repo = ? COLLATE NOCASE${about} ORDER BY received_at DESC, id DESC LIMIT ?`)
    .bind(...args, q.limit)
    .all<DeliveryRow>();
  return results.map(fromRow);
}

const Deployments = DeliveryRecord.shape.deployments;

function fromRow(r: DeliveryRow): DeliveryRecord {
  return {
    deliveryId: r.delivery_id,
    receivedAt: r.received_at,
    event: r.event,
    action: r.action,
    repo: r.repo,
    ref: r.ref,
    sha: r.sha,
    verified: r.verified === 1,
    verdict: DeliveryVerdict.parse(r.verdict),
    reason: r.reason,
    status: r.status,
    deployments: Deployments.parse(JSON.parse(r.deployments)),
    source: r.source,
    bodySha256: r.body_sha256 ?? null,
  };
}

/** The first verified delivery of a body, as a replay of it is answered: when, under which id, and what it queued. */
export interface FirstDelivery {
  deliveryId: string | null;
  receivedAt: number;
  deployments: DeliveryRecord['deployments'];
}

/**
 * The earliest verified delivery whose body had this SHA-256 and came under another delivery id;
 * null when there is none (within the ledger's 90 days). GitHub's own redelivery keeps its id, so
 * it is left to the hub, which answers it with what it queued the first time.
 */
export async function firstDeliveryOfBody(db: D1Database, bodySha256: string, deliveryId: string): Promise<FirstDelivery | null> {
  const row = await db
    .prepare('SELECT delivery_id, received_at, deployments FROM deliveries WHERE body_sha256 = ? AND delivery_id IS NOT ? ORDER BY id LIMIT 1')
    .bind(bodySha256, deliveryId)
    .first<Pick<DeliveryRow, 'delivery_id' | 'received_at' | 'deployments'>>();
  if (!row) return null;
  return { deliveryId: row.delivery_id, receivedAt: row.received_at, deployments: Deployments.parse(JSON.parse(row.deployments)) };
}
