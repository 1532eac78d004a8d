// The API of freezes (issue 18): freeze a target with a reason and an optional end, and lift it.
// Both need an operator, as a deploy; the freeze is read in the target's status (`freeze`).
import { Hono } from 'hono';
import { findTarget } from '../config/targets.ts';
import { requireRole, type AppContext } from '../http/access.ts';
import { requestSource } from '../http/request-source.ts';
import { jsonBody, validate } from '../http/validate.ts';
import { freezeRequestAt } from '../hub/freeze.ts';
import { hubFor } from '../hub/hub-for.ts';
import { unwrap } from '../hub/hub-result.ts';

export const freezeRoutes = new Hono<AppContext>();

/** `{reason, until?}` (until: ISO 8601 with its offset, at most a year ahead) → 200 `{freeze}`; a freeze in force is replaced. */
freezeRoutes.post('/freeze', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('target')!);
  const who = requireRole(c, 'operator', target);
  const body = validate(freezeRequestAt(Date.now()), await jsonBody(c.req.raw), 'body');
  const { freeze } = unwrap(await hubFor(c.env, target.name).freeze(target.name, body, { actor: who.name, source: requestSource(c.req.raw) }));
  return c.json({ freeze });
});

/** → 200 `{lifted, dispatched}` (the deployment handed to the relay now, if any); 409 `not_frozen`. */
freezeRoutes.post('/unfreeze', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('target')!);
  const who = requireRole(c, 'operator', target);
  const lifted = unwrap(await hubFor(c.env, target.name).unfreeze(target.name, { actor: who.name, source: requestSource(c.req.raw) }));
  return c.json(lifted);
});
