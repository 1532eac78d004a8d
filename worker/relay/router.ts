// GET /relay/connect: where a relay at home opens its outbound WebSocket. The relay token is
// checked here, before the upgrade; only then is the request handed to the target's hub. A refused
// token goes to the access log (bounded, in D1), never to the target's audit trail: nothing an
// unauthenticated caller sends may write there, or crowd out what operators did.
import { Hono } from 'hono';
import { findTarget } from '../config/targets.ts';
import { secretNamed } from '../env.ts';
import type { AppContext } from '../http/access.ts';
import { logAccess } from '../http/access-audit.ts';
import { bearerToken } from '../http/auth.ts';
import { ApiError } from '../http/errors.ts';
import { countRefusal, refuseWhileThrottled } from '../http/rate-limit.ts';
import { secretMatches } from '../http/secrets.ts';
import { hubFor } from '../hub/hub-for.ts';

export const relay = new Hono<AppContext>();

relay.get('/connect', async (c) => {
  refuseWhileThrottled(c.req.raw, 'relay');
  const name = c.req.query('target');
  if (!name) throw new ApiError(400, 'invalid_request', 'Name the target: /relay/connect?target=<name>.');
  const target = findTarget(c.env.TARGETS, name);
  const stored = secretNamed(c.env, target.relayTokenSecret);
  if (!stored) throw new ApiError(500, 'bad_configuration', `The secret ${target.relayTokenSecret} (relay token of ${target.name}) is not set.`);
  const presented = bearerToken(c.req.header('Authorization'));
  if (!presented || !(await secretMatches(presented, stored))) {
    // Past the address's limit: 429, and nothing is recorded (worker/http/rate-limit.ts).
    await countRefusal(c.env, c.req.raw, 'relay');
    logAccess(c, 'relay.refused', 401, `${presented ? 'wrong' : 'no'} relay token for target ${target.name}`, null);
    throw new ApiError(401, 'unauthorized', 'The relay token is missing or wrong for this target.');
  }
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') {
    throw new ApiError(426, 'upgrade_required', 'Connect with a WebSocket upgrade.');
  }
  const url = new URL(c.req.url);
  url.search = `?target=${encodeURIComponent(target.name)}&role=relay`;
  return hubFor(c.env, target.name).fetch(new Request(url, c.req.raw));
});
