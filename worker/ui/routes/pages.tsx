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
import { bounceIfCrossSite, fragment, here, isOperator, page, redirect, signInFirst, visit, type UiContext } from '../page-context.tsx';
import { loadTargetPage, loadTargetSummary } from '../target-data.ts';
import { OverviewLive, OverviewPage } from '../views/overview.tsx';
import { TargetLive, TargetPageView } from '../views/target.tsx';

export const pages = new Hono<AppContext>();

pages.get('/', async (c) => {
  const v = await visit(c);
  const bounce = bounceIfCrossSite(c, v);
  if (bounce) return bounce;
  const targets = loadTargets(c.env.TARGETS).filter((t) => v.session || t.publicReadOnly);
  if (!v.session && !targets.length && v.key) return redirect(c, '/sign-in');
  const summaries = await Promise.all(targets.map((t) => loadTargetSummary(c.env, t)));
  return page(c, v.nonce, <OverviewPage summaries={summaries} now={Date.now()} nonce={v.nonce} viewer={v.viewer} />);
});

pages.get('/live', async (c) => {
  const v = await visit(c);
  const targets = loadTargets(c.env.TARGETS).filter((t) => v.session || t.publicReadOnly);
  if (!v.session && !targets.length) requireRole(c, 'viewer');
  const summaries = await Promise.all(targets.map((t) => loadTargetSummary(c.env, t)));
  return fragment(c, <OverviewLive summaries={summaries} now={Date.now()} signedIn={v.session !== null} />);
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
  const data = await loadTargetPage(c.env, target, query, now);
  return page(
    c,
    v.nonce,
    <TargetPageView page={data} viewer={v.viewer} operator={isOperator(v)} fragment={fragmentPath(target, query)} here={here(c)} paged={query.before !== null} nonce={v.nonce} now={now} />,
  );
});

pages.get('/targets/:name/live', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const v = await visit(c);
  requireRole(c, 'viewer', target);
  const query = pageQuery(c);
  const now = Date.now();
  const data = await loadTargetPage(c.env, target, query, now);
  return fragment(c, <TargetLive page={data} operator={isOperator(v)} paged={query.before !== null} now={now} />);
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
