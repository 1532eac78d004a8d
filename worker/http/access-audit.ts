// Writes the access log from a request: the action, the principal's name when the edge knows it,
// the method, path and source, and the reason in words. The write goes through waitUntil, so no
// answer waits on D1, and a failed write is logged, never turned into an error for the caller.
import type { Context } from 'hono';
import { recordAccess, type AccessAction } from '../ledger/access-log.ts';
import type { AppContext } from './access.ts';
import { ApiError } from './errors.ts';
import { requestSource } from './request-source.ts';

/** Where a refusal happened: the REST API or the status page. */
export type Surface = 'api' | 'page';

/** Codes of a form (or watcher) refused for where it came from or what it lacked, not for a role. */
const FORM_CODES: ReadonlySet<string> = new Set(['cross_origin', 'csrf', 'no_session']);

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The action an error is logged as, or null when it is not a refusal of access (401 or 403). */
export function refusalAction(error: unknown, surface: Surface): AccessAction | null {
  if (!(error instanceof ApiError) || (error.status !== 401 && error.status !== 403)) return null;
  if (FORM_CODES.has(error.code)) return 'form.refused';
  if (surface === 'api') return error.status === 401 ? 'api.unauthorized' : 'api.forbidden';
  return error.status === 401 ? 'page.unauthorized' : 'page.forbidden';
}

export function logAccess(c: Context<AppContext>, action: AccessAction, status: number, reason: string, who: string | null): void {
  const source = requestSource(c.req.raw);
  const write = recordAccess(c.env.LEDGER, {
    at: Date.now(),
    action,
    who,
    status,
    method: clip(c.req.method, 16),
    path: clip(new URL(c.req.url).pathname, 512),
    reason: clip(reason, 1024),
    source: source === null ? null : clip(source, 256),
  }).catch((error: unknown) => console.error('access log write failed', error));
  try {
    c.executionCtx.waitUntil(write);
  } catch {
    // No execution context (app.fetch called without one): the write still runs on its own.
  }
}

/** Logs a refused token, role or form; anything else (a 404, a 400, a 500) is not an access matter. */
export function logRefusal(c: Context<AppContext>, error: unknown, surface: Surface): void {
  const action = refusalAction(error, surface);
  if (!action || !(error instanceof ApiError)) return;
  // `principal` is unset when the refusal came before anyone was identified (an unknown token).
  const principal = c.get('principal') as AppContext['Variables']['principal'] | undefined;
  logAccess(c, action, error.status, error.message, principal?.name ?? null);
}
