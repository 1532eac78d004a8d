// Who may scrape GET /metrics: any API token (the viewer role is enough), or METRICS_TOKEN, a
// token for the scraper alone that can read nothing else. Both are compared as every token is:
// SHA-256 digests in constant time, and METRICS_TOKEN may be stored as `sha256:<hex>`.
// Anonymous callers are refused even when a target is publicReadOnly: the scrape covers every target.
import type { Env } from '../env.ts';
import { bearerToken, identify, type Principal } from '../http/auth.ts';
import { ApiError } from '../http/errors.ts';
import { secretMatches } from '../http/secrets.ts';

/** The name the access log and the audit give the scraper that presents METRICS_TOKEN. */
export const METRICS_SCRAPER = 'metrics-scraper';

export async function scraper(env: Env, authorization: string | undefined): Promise<Principal> {
  const token = bearerToken(authorization);
  if (!token) throw new ApiError(401, 'unauthorized', 'Send a bearer token: Authorization: Bearer <token> (METRICS_TOKEN, or an API token with the viewer role).');
  const scrapeToken = env.METRICS_TOKEN ? await secretMatches(token, env.METRICS_TOKEN) : false;
  const principal = await identify(token, env.API_TOKENS);
  if (scrapeToken) return { name: METRICS_SCRAPER, role: 'viewer' };
  if (principal) return principal;
  throw new ApiError(401, 'unauthorized', 'The bearer token is neither METRICS_TOKEN nor one of API_TOKENS.');
}
