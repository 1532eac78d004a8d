/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The read-only pages: `/` and `/targets/:name`, the fragments their pages refresh from (`/live`,
// `/targets/:name/live`), and the target page's live channel (`/targets/:name/watch`).
import { Hono } from 'hono';
import { findTarget, loadTargets, type TargetConfig } from '../../config/targets.ts';
import { requireRole, type AppContext } from '../../http/access.ts';
import { ApiError } from '../../http/errors.ts';
import { hubFor } from '../../hub/hub-for.ts';
import { sameOrigin } from '../csrf.ts';
import { loadTargetDeliveries, loadWebhookHealth } from '../ledger-data.ts';
import { bounceIfCrossSite, fragment, here, isOperator, page, redirect, signInFirst, visit, type UiContext } from '../page-context.tsx';
import { loadTargetPage, loadTargetSummary } from '../target-data.ts';
import { OverviewLive, OverviewPage, type OverviewData } from '../views/overview.tsx';
import { TargetLive, TargetPageView } from '../views/target.tsx';

export const pages = new Hono<AppContext>();

/** The targets' summaries, and for a signed-in reader only, what the delivery ledger says about the webhook. */
async function loadOverview(c: UiContext, targets: readonly TargetConfig[], signedIn: boolean, now: number): Promise<OverviewData> {
  const [summaries, webhooks] = await Promise.all([
    Promise.all(targets.map((t) => loadTargetSummary(c.env, t))),
    signedIn ? loadWebhookHealth(c.env, now) : Promise.resolve(null),
  ]);
  return { summaries, webhooks };
}

pages.get('/', async (c) => {
  const v = await visit(c);
  const bounce = bounceIfCrossSite(c, v);
  if (bounce) return bounce;
  const targets = loadTargets(c.env.TARGETS).filter((t) => v.session || t.publicReadOnly);
  // Nothing to show without a session: the sign-in page, which also says why sign-in is off, if it is.
  if (!v.session && !targets.length) return redirect(c, '/sign-in');
  const now = Date.now();
  const data = await loadOverview(c, targets, v.session !== null, now);
  return page(c, v.nonce, <OverviewPage data={data} now={now} nonce={v.nonce} viewer={v.viewer} />);
});

pages.get('/live', async (c) => {
  const v = await visit(c);
  const targets = loadTargets(c.env.TARGETS).filter((t) => v.session || t.publicReadOnly);
  if (!v.session && !targets.length) requireRole(c, 'viewer');
  const now = Date.now();
  const data = await loadOverview(c, targets, v.session !== null, now);
  return fragment(c, <OverviewLive data={data} now={now} signedIn={v.session !== null} />);
});

function pageQuery(c: UiContext): { deploymentId: string | null; before: string | null } {
  return { deploymentId: c.req.query('deployment') || null, before: c.req.query('before') || null };
}

function fragmentPath(target: TargetConfig, query: { deploymentId: string | null; before: string | null }): string {
  const params = new URLSearchParams();
  if (query.deploymentId) params.set('deployment', query.deploymentId);
  if (query.before) params.set('before', query.before);
  const search = params.toString();
  return `/targets/${target.name}/live${search ? `?${search}` : ''}`;
}

pages.get('/targets/:name', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const v = await visit(c);
  const bounce = bounceIfCrossSite(c, v);
  if (bounce) return bounce;
  if (!v.session && !target.publicReadOnly) return signInFirst(c);
  requireRole(c, 'viewer', target);
  const query = pageQuery(c);
  const now = Date.now();
  const [data, deliveries] = await Promise.all([loadTargetPage(c.env, target, query, now), loadTargetDeliveries(c.env, target, v.session !== null)]);
  return page(
    c,
    v.nonce,
    <TargetPageView page={data} deliveries={deliveries} viewer={v.viewer} operator={isOperator(v)} fragment={fragmentPath(target, query)} here={here(c)} paged={query.before !== null} nonce={v.nonce} now={now} />,
  );
});

pages.get('/targets/:name/live', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const v = await visit(c);
  requireRole(c, 'viewer', target);
  const query = pageQuery(c);
  const now = Date.now();
  const [data, deliveries] = await Promise.all([loadTargetPage(c.env, target, query, now), loadTargetDeliveries(c.env, target, v.session !== null)]);
  return fragment(c, <TargetLive page={data} deliveries={deliveries} operator={isOperator(v)} paged={query.before !== null} now={now} />);
});

/** The page's live channel: the hub's watcher socket, handed over once the reader may see the target. */
pages.get('/targets/:name/watch', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const origin = sameOrigin(c.req.raw);
  if (!origin.ok) throw new ApiError(403, 'cross_origin', `Refused: ${origin.why}.`);
  await visit(c);
  requireRole(c, 'viewer', target);
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') throw new ApiError(426, 'upgrade_required', 'Connect with a WebSocket upgrade.');
  return hubFor(c.env, target.name).fetch(
    new Request(`https://hub/watch?target=${encodeURIComponent(target.name)}&role=watcher`, { headers: { Upgrade: 'websocket' } }),
  );
});
