// The REST API: targets, their deployments, history, logs, metrics, the audit trail, the
// delivery ledger and the access log. Reads need a viewer, deploy/rollback/cancel an operator, the
// audit trail and the access log an admin.
import { Hono } from 'hono';
import { z } from 'zod';
import { AuditQuery, DeploymentId, DeployRequest, HistoryQuery, RetryRequest, RollbackRequest } from '../../shared/api.ts';
import { findTarget, loadTargets } from '../config/targets.ts';
import { identifyCaller, requireRole, type AppContext } from '../http/access.ts';
import { ApiError } from '../http/errors.ts';
import { refuseWhileThrottled } from '../http/rate-limit.ts';
import { requestSource } from '../http/request-source.ts';
import { jsonBody, validate } from '../http/validate.ts';
import { hubFor } from '../hub/hub-for.ts';
import { unwrap } from '../hub/hub-result.ts';
import { manualDeploy } from '../hub/requests.ts';
import { AccessQuery, listAccess } from '../ledger/access-log.ts';
import { captureRoutes, captureThenRetry } from './capture-routes.ts';
import { pullPlanRoutes } from './pull-plan-routes.ts';
import { freezeRoutes } from './freeze-routes.ts';
import { deployTag, rollbackToTag } from './release-tag-routes.ts';
import { DeliveryQuery, listDeliveries } from '../ledger/deliveries.ts';
import { restartWindowRoutes } from './restart-window-routes.ts';

export const api = new Hono<AppContext>();

// An address refused too often gets 429 before its token is looked at; app.ts counts the refusals.
api.use('*', async (c, next) => {
  refuseWhileThrottled(c.req.raw, 'api');
  await next();
});
api.use('*', identifyCaller);

api.get('/targets', async (c) => {
  const principal = c.get('principal');
  const targets = loadTargets(c.env.TARGETS).filter((t) => principal || t.publicReadOnly);
  if (!principal && !targets.length) requireRole(c, 'viewer');
  const statuses = await Promise.all(targets.map((t) => hubFor(c.env, t.name).status(t.name)));
  return c.json({
    targets: targets.map((t, i) => ({
      name: t.name,
      repo: t.repo,
      branch: t.branch,
      environment: t.environment,
      trigger: t.trigger,
      driftPolicy: t.driftPolicy,
      publicReadOnly: t.publicReadOnly,
      status: statuses[i],
    })),
  });
});

api.get('/deliveries', async (c) => {
  requireRole(c, 'viewer');
  const query = validate(DeliveryQuery, c.req.query(), 'query');
  return c.json({ deliveries: await listDeliveries(c.env.LEDGER, query) });
});

api.get('/access-log', async (c) => {
  requireRole(c, 'admin');
  const query = validate(AccessQuery, c.req.query(), 'query');
  const entries = await listAccess(c.env.LEDGER, query).catch((error: unknown) => {
    if (!/no such table: access_log/.test(String(error))) throw error;
    throw new ApiError(500, 'bad_configuration', 'The access log\'s table is missing: run `npx wrangler d1 migrations apply LEDGER --remote`.');
  });
  return c.json({ entries, next: entries.length === query.limit ? entries[entries.length - 1]!.id : null });
});

const deployments = new Hono<AppContext>();

deployments.get('/status', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('target')!);
  requireRole(c, 'viewer', target);
  return c.json(await hubFor(c.env, target.name).status(target.name));
});

/** The relay's latest drift report (null: none yet), and the newest deployment when it stopped on drift. */
deployments.get('/drift', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('target')!);
  requireRole(c, 'viewer', target);
  return c.json(await hubFor(c.env, target.name).drift(target.name));
});

/** The backups the relay last said the host keeps (null: no relay reported them yet). */
deployments.get('/backups', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('target')!);
  requireRole(c, 'viewer', target);
  return c.json({ backups: await hubFor(c.env, target.name).backups(target.name) });
});

deployments.post('/deploy', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('target')!);
  const who = requireRole(c, 'operator', target);
  const body = validate(DeployRequest, await jsonBody(c.req.raw), 'body');
  if (body.tag) return deployTag(c, target.name, body.tag, who.name);
  const hub = hubFor(c.env, target.name);
  const sha = body.sha ? unwrap(await hub.resolveCommit(target.name, body.sha)).sha : null;
  const outcome = unwrap(await hub.enqueueDeploy(manualDeploy(target.name, sha, who.name, requestSource(c.req.raw))));
  const { deployment } = unwrap(await hub.deployment(target.name, outcome.deploymentId));
  return c.json({ deployment, superseded: outcome.superseded }, 202);
});

deployments.post('/rollback', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('target')!);
  const who = requireRole(c, 'operator', target);
  const body = validate(RollbackRequest, await jsonBody(c.req.raw), 'body');
  if (body.tag) return rollbackToTag(c, target.name, body.tag, who.name);
  const hub = hubFor(c.env, target.name);
  const { deploymentId } = unwrap(await hub.enqueueRollback({
    target: target.name,
    deploymentId: body.deploymentId ?? null,
    backupId: body.backupId ?? null,
    actor: who.name,
    source: requestSource(c.req.raw),
    // An admin's rollback goes through a freeze (break glass); an operator's is refused while one holds.
    breakGlass: who.role === 'admin',
  }));
  const { deployment } = unwrap(await hub.deployment(target.name, deploymentId));
  return c.json({ deployment }, 202);
});

deployments.post('/retry', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('target')!);
  const who = requireRole(c, 'operator', target);
  const body = validate(RetryRequest, await jsonBody(c.req.raw), 'body');
  const hub = hubFor(c.env, target.name);
  if (body.drift === 'capture') return captureThenRetry(c, target.name, body.deploymentId, who.name);
  const { deploymentId } = unwrap(await hub.retry(target.name, body.deploymentId, who.name, requestSource(c.req.raw), body.drift));
  const { deployment } = unwrap(await hub.deployment(target.name, deploymentId));
  return c.json({ deployment }, 202);
});

deployments.post('/cancel', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('target')!);
  const who = requireRole(c, 'operator', target);
  const body = validate(z.object({ deploymentId: DeploymentId }).strict(), await jsonBody(c.req.raw), 'body');
  const deployment = unwrap(await hubFor(c.env, target.name).cancel(target.name, body.deploymentId, who.name, requestSource(c.req.raw)));
  return c.json({ deployment });
});

deployments.get('/history', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('target')!);
  requireRole(c, 'viewer', target);
  const query = validate(HistoryQuery, c.req.query(), 'query');
  const page = await hubFor(c.env, target.name).history(target.name, query);
  return c.json({ deployments: page, next: page.length === query.limit ? page[page.length - 1]!.id : null });
});

deployments.get('/logs', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('target')!);
  requireRole(c, 'viewer', target);
  const hub = hubFor(c.env, target.name);
  let id = validate(z.object({ deploymentId: DeploymentId.optional() }), { deploymentId: c.req.query('deploymentId') || undefined }, 'query').deploymentId;
  if (!id) {
    const [latest] = await hub.history(target.name, { limit: 1 });
    if (!latest) return c.json({ deployment: null, steps: [] });
    id = latest.id;
  }
  return c.json(unwrap(await hub.deployment(target.name, id)));
});

deployments.get('/metrics', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('target')!);
  requireRole(c, 'viewer', target);
  const { days } = validate(z.object({ days: z.coerce.number().int().min(1).max(90).default(7) }), c.req.query(), 'query');
  return c.json(await hubFor(c.env, target.name).metrics(target.name, Date.now(), days));
});

deployments.get('/audit', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('target')!);
  requireRole(c, 'admin', target);
  const query = validate(AuditQuery, c.req.query(), 'query');
  return c.json(await hubFor(c.env, target.name).auditTrail(target.name, query));
});

api.route('/deployments/:target', deployments);
api.route('/deployments/:target', captureRoutes);
api.route('/deployments/:target', pullPlanRoutes);
api.route('/deployments/:target', freezeRoutes);
api.route('/deployments/:target', restartWindowRoutes);
