// GET /metrics: every target in the Prometheus exposition formats (docs/metrics.md). One RPC call to
// each target's hub, in parallel, and one query of the delivery ledger. Refused tokens count against
// the caller's address and go to the access log, as the API's do; a throttled address gets 429
// before its token is looked at.
import { Hono } from 'hono';
import { loadTargets } from '../config/targets.ts';
import type { AppContext } from '../http/access.ts';
import { refuseWhileThrottled } from '../http/rate-limit.ts';
import { hubFor } from '../hub/hub-for.ts';
import { recentDeliveriesByVerdict } from '../ledger/delivery-counts.ts';
import { CONTENT_TYPES, renderExposition, type ExpositionFormat } from './exposition.ts';
import { metricFamilies } from './families.ts';
import { scraper } from './scrape-access.ts';

export const metrics = new Hono<AppContext>();

/**
 * OpenMetrics unless the client accepts text/plain and not OpenMetrics (an older Prometheus, or a
 * tool that speaks only the 0.0.4 format). Prometheus itself asks for OpenMetrics first.
 */
export function formatFor(accept: string | undefined): ExpositionFormat {
  const types = (accept ?? '').toLowerCase();
  if (types.includes('application/openmetrics-text')) return 'openmetrics';
  return types.includes('text/plain') ? 'prometheus' : 'openmetrics';
}

metrics.get('/', async (c) => {
  // A refusal is counted against its address and logged by app.ts's error handler, as the API's are.
  refuseWhileThrottled(c.req.raw, 'api');
  c.set('principal', await scraper(c.env, c.req.header('Authorization')));
  const now = Date.now();
  const targets = loadTargets(c.env.TARGETS);
  const [scrapes, deliveries] = await Promise.all([
    Promise.all(targets.map((t) => hubFor(c.env, t.name).scrape(t.name, now))),
    recentDeliveriesByVerdict(c.env.LEDGER, now),
  ]);
  const format = formatFor(c.req.header('Accept'));
  return c.body(renderExposition(metricFamilies(scrapes, deliveries), format), 200, { 'Content-Type': CONTENT_TYPES[format], 'Cache-Control': 'no-store' });
});
