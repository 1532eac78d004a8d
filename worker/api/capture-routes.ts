// The API of captures (issue 17): ask for the host's edits to become a pull request, list the
// recent captures, and the `capture` drift choice of a retry. Asking needs an operator, as a deploy.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { findTarget } from '../config/targets.ts';
import { requireRole, type AppContext } from '../http/access.ts';
import { requestSource } from '../http/request-source.ts';
import { validate } from '../http/validate.ts';
import { hubFor } from '../hub/hub-for.ts';
import { unwrap } from '../hub/hub-result.ts';

export const captureRoutes = new Hono<AppContext>();

/** Queues a capture (sent when the relay is connected and idle); 202 with the capture. */
captureRoutes.post('/capture', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('target')!);
  const who = requireRole(c, 'operator', target);
  const { capture } = unwrap(await hubFor(c.env, target.name).requestCapture(target.name, who.name, requestSource(c.req.raw)));
  return c.json({ capture }, 202);
});

captureRoutes.get('/captures', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('target')!);
  requireRole(c, 'viewer', target);
  const { limit } = validate(z.object({ limit: z.coerce.number().int().min(1).max(200).default(20) }), c.req.query(), 'query');
  return c.json({ captures: await hubFor(c.env, target.name).captures(target.name, limit) });
});

/** `POST …/retry {deploymentId, drift: 'capture'}`: the capture first, the retry (keeping the host's files) once it is pushed. */
export async function captureThenRetry(c: Context<AppContext>, target: string, deploymentId: string, actor: string): Promise<Response> {
  const { capture } = unwrap(await hubFor(c.env, target).captureThenRetry(target, deploymentId, actor, requestSource(c.req.raw)));
  return c.json({ capture, deployment: null }, 202);
}
