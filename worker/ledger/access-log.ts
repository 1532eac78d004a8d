// The access log in D1: who signed in to the status page or out of it, and every token, role or
// form the edge refused (401/403), a relay's token on /relay/connect included, with where it came
// from. Written after the answer, through waitUntil, like the delivery ledger. It never holds a
// presented token or any part of one: `who` is the name of a principal the edge recognised, or null.
// Anyone on the internet can add a row, so it is bounded twice: by age and by count.
import { z } from 'zod';

export const AccessAction = z.enum([
  'sign_in.succeeded',
  'sign_in.refused',
  'sign_out',
  'api.unauthorized',
  'api.forbidden',
  'page.unauthorized',
  'page.forbidden',
  'form.refused',
  'relay.refused',
]);
export type AccessAction = z.infer<typeof AccessAction>;

/** Entries older than this are deleted in the same batch that writes a new one. */
export const ACCESS_LOG_RETENTION_MS = 90 * 24 * 3600 * 1000;

/** And only the newest this many are kept (a few tens of megabytes), however fast they come. */
export const ACCESS_LOG_MAX_ENTRIES = 100_000;

export const AccessEntry = z.object({
  at: z.number().int(),
  action: AccessAction,
  who: z.string().min(1).nullable(),
  status: z.number().int().min(100).max(599),
  method: z.string().min(1).max(16),
  path: z.string().min(1).max(512),
  reason: z.string().max(1024),
  source: z.string().max(256).nullable(),
});
export type AccessEntry = z.infer<typeof AccessEntry>;

export const AccessRecord = AccessEntry.extend({ id: z.number().int() });
export type AccessRecord = z.infer<typeof AccessRecord>;

/**
 * Writes one entry and prunes what is older than 90 days or beyond the newest ACCESS_LOG_MAX_ENTRIES,
 * in one batch. Ids only grow and only the oldest rows are ever deleted, so the newest N are those
 * with an id above the new one's minus N: one primary-key range, never a count.
 */
export async function recordAccess(db: D1Database, entry: AccessEntry): Promise<void> {
  const e = AccessEntry.parse(entry);
  await db.batch([
    db
      .prepare('INSERT INTO access_log (at, action, who, status, method, path, reason, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .bind(e.at, e.action, e.who, e.status, e.method, e.path, e.reason, e.source),
    db.prepare('DELETE FROM access_log WHERE at < ?').bind(e.at - ACCESS_LOG_RETENTION_MS),
    db.prepare('DELETE FROM access_log WHERE id <= (SELECT MAX(id) FROM access_log) - ?').bind(ACCESS_LOG_MAX_ENTRIES),
  ]);
}

export const AccessQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** The id of the last entry of the previous page; older entries follow it. */
  before: z.coerce.number().int().min(1).optional(),
  action: AccessAction.optional(),
});
export type AccessQuery = z.infer<typeof AccessQuery>;

interface AccessRow {
  id: number;
  at: number;
  action: string;
  who: string | null;
  status: number;
  method: string;
  path: string;
  reason: string;
  source: string | null;
}

/** Newest first (by id, the order they were written in), at most `limit`, older than `before`. */
export async function listAccess(db: D1Database, q: { limit: number; before?: number | undefined; action?: AccessAction | undefined }): Promise<AccessRecord[]> {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.before !== undefined) {
    where.push('id < ?');
    args.push(q.before);
  }
  if (q.action) {
    where.push('action = ?');
    args.push(q.action);
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const { results } = await db
    .prepare(`SELECT id, at, action, who, status, method, path, reason, source FROM access_log ${clause} ORDER BY id DESC LIMIT ?`)
    .bind(...args, q.limit)
    .all<AccessRow>();
  return results.map((r) => AccessRecord.parse(r));
}
