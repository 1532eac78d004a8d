// GET /relay/connect: where a relay at home opens its outbound WebSocket. The relay token is
// checked here, before the upgrade; only then is the request handed to the target's hub.
import { Hono } from 'hono';
import { findTarget } from '../config/targets.ts';
import { secretNamed, type Env } from '../env.ts';
import { bearerToken } from '../http/auth.ts';
import { ApiError } from '../http/errors.ts';
import { countRefusal, refuseWhileThrottled } from '../http/rate-limit.ts';
import { requestSource } from '../http/request-source.ts';
import { secretMatches } from '../http/secrets.ts';
import { hubFor } from '../hub/hub-for.ts';

export const relay = new Hono<{ Bindings: Env }>();

relay.get('/connect', async (c) => {
  refuseWhileThrottled(c.req.raw, 'relay');
  const name = c.req.query('target');
  if (!name) throw new ApiError(400, 'invalid_request', 'Name the target: /relay/connect?target=<name>.');
  const target = findTarget(c.env.TARGETS, name);
  const stored = secretNamed(c.env, target.relayTokenSecret);
  if (!stored) throw new ApiError(500, 'bad_configuration', `The secret ${target.relayTokenSecret} (relay token of ${target.name}) is not set.`);
  const presented = bearerToken(c.req.header('Authorization'));
  const hub = hubFor(c.env, target.name);
  if (!presented || !(await secretMatches(presented, stored))) {
    // Past the address's limit: 429, and nothing is recorded (worker/http/rate-limit.ts).
    await countRefusal(c.env, c.req.raw, 'relay');
    await hub.recordAudit(target.name, {
      at: Date.now(),
      actor: 'relay',
      action: 'relay.refused',
      detail: { reason: presented ? 'wrong relay token' : 'no relay token' },
      source: requestSource(c.req.raw),
    });
    throw new ApiError(401, 'unauthorized', 'The relay token is missing or wrong for this target.');
  }
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') {
    throw new ApiError(426, 'upgrade_required', 'Connect with a WebSocket upgrade.');
  }
  const url = new URL(c.req.url);
  url.search = `?target=${encodeURIComponent(target.name)}&role=relay`;
  return hub.fetch(new Request(url, c.req.raw));
});
