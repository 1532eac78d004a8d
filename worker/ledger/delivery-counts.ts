// How many deliveries the ledger received per verdict in the last day, for GET /metrics: one
// grouped query over an index range (deliveries_by_time), so a scrape reads a day's rows, not the
// ledger's 90 days. Every verdict is named, with 0 when none, so each series exists from the start.
import { DeliveryVerdict } from './deliveries.ts';

export const DELIVERY_COUNT_WINDOW_MS = 24 * 3600 * 1000;

export async function recentDeliveriesByVerdict(db: D1Database, now: number): Promise<Record<DeliveryVerdict, number>> {
  const counts = Object.fromEntries(DeliveryVerdict.options.map((v) => [v, 0])) as Record<DeliveryVerdict, number>;
  const { results } = await db
    .prepare('SELECT verdict, COUNT(*) AS n FROM deliveries WHERE received_at > ? GROUP BY verdict')
    .bind(now - DELIVERY_COUNT_WINDOW_MS)
    .all<{ verdict: string; n: number }>();
  for (const row of results) {
    const verdict = DeliveryVerdict.safeParse(row.verdict);
    if (verdict.success) counts[verdict.data] = Number(row.n);
  }
  return counts;
}
