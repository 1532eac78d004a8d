// Who is asking, and may they? Resolves the caller from a bearer token and enforces roles; a
// target configured publicReadOnly may be read by anyone.
import type { Context, MiddlewareHandler } from 'hono';
import type { TargetConfig } from '../config/targets.ts';
import type { Env } from '../env.ts';
import { bearerToken, identify, roleAllows, type Principal, type Role } from './auth.ts';
import { ApiError } from './errors.ts';

export type AppContext = { Bindings: Env; Variables: { principal: Principal | null } };

/** Sets `principal` (or null for an anonymous caller); a presented but unknown token is a 401. */
export const identifyCaller: MiddlewareHandler<AppContext> = async (c, next) => {
  const token = bearerToken(c.req.header('Authorization'));
  let principal: Principal | null = null;
  if (token) {
    principal = await identify(token, c.env.API_TOKENS);
    if (!principal) throw new ApiError(401, 'unauthorized', 'The bearer token is not one this edge knows.');
  }
  c.set('principal', principal);
  await next();
};

export function requireRole(c: Context<AppContext>, need: Role, target?: TargetConfig): Principal {
  const principal = c.get('principal');
  if (!principal) {
    if (need === 'viewer' && target?.publicReadOnly) return { name: 'anonymous', role: 'viewer' };
    throw new ApiError(401, 'unauthorized', 'Send a bearer token: Authorization: Bearer <token>.');
  }
  if (!roleAllows(principal.role, need)) {
    throw new ApiError(403, 'forbidden', `${principal.name} is a ${principal.role}; this needs the ${need} role.`);
  }
  return principal;
}
