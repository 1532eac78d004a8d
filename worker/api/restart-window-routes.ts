// The API of restart windows (issue 18): "restart now" for a deployment waiting for the target's
// window. It is queued again with the restart allowed, whatever the hour; an operator's act, as a deploy.
import { Hono } from 'hono';
import { z } from 'zod';
import { DeploymentId } from '../../shared/api.ts';
import { findTarget } from '../config/targets.ts';
import { requireRole, type AppContext } from '../http/access.ts';
import { requestSource } from '../http/request-source.ts';
import { jsonBody, validate } from '../http/validate.ts';
import { hubFor } from '../hub/hub-for.ts';
import { unwrap } from '../hub/hub-result.ts';

export const restartWindowRoutes = new Hono<AppContext>();

/** `POST /api/deployments/:target/restart-now {deploymentId}`: 202 with the deployment, queued; 409 unless it waits for the window. */
restartWindowRoutes.post('/restart-now', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('target')!);
  const who = requireRole(c, 'operator', target);
  const body = validate(z.object({ deploymentId: DeploymentId }).strict(), await jsonBody(c.req.raw), 'body');
  const deployment = unwrap(await hubFor(c.env, target.name).restartNow(target.name, body.deploymentId, who.name, requestSource(c.req.raw)));
  return c.json({ deployment }, 202);
});
