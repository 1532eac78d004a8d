// The audit trail of one target: every write, who asked for it, when, and from where.
import { z } from 'zod';

export const AuditEntry = z.object({
  at: z.number(),
  actor: z.string(),
  action: z.string(),
  detail: z.record(z.string(), z.unknown()),
  source: z.string().nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export class AuditTrail {
  constructor(private readonly sql: SqlStorage) {}

  record(entry: AuditEntry): void {
    this.sql.exec(
      'INSERT INTO audit (at, actor, action, detail, source) VALUES (?, ?, ?, ?, ?)',
      entry.at, entry.actor, entry.action, JSON.stringify(entry.detail), entry.source,
    );
  }

  recent(limit: number): AuditEntry[] {
    return this.sql
      .exec('SELECT * FROM audit ORDER BY seq DESC LIMIT ?', limit)
      .toArray()
      .map((r) => ({
        at: Number(r.at),
        actor: String(r.actor),
        action: String(r.action),
        detail: JSON.parse(String(r.detail)) as Record<string, unknown>,
        source: r.source === null ? null : String(r.source),
      }));
  }
}
