// The API of pull-request plans (issue 20): the newest plan of each open pull request of a target,
// with what the relay answered. Read-only: plans are asked for by GitHub's `pull_request` webhooks.
import { Hono } from 'hono';
import { z } from 'zod';
import { findTarget } from '../config/targets.ts';
import { requireRole, type AppContext } from '../http/access.ts';
import { validate } from '../http/validate.ts';
import { hubFor } from '../hub/hub-for.ts';

export const pullPlanRoutes = new Hono<AppContext>();

pullPlanRoutes.get('/pull-plans', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('target')!);
  requireRole(c, 'viewer', target);
  const { limit } = validate(z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }), c.req.query(), 'query');
  return c.json({ plans: await hubFor(c.env, target.name).pullPlans(target.name, limit) });
});
