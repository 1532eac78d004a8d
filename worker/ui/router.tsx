/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The status page: server-rendered HTML, a signed session cookie, and live updates through the
// hub's watcher socket. Reads use the hub methods the REST API uses; actions go through the same
// hub methods, after an origin check, the session's CSRF token and `requireRole`, with the
// signed-in token's name as the actor. Every action is a GET confirmation page, then a POST.
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { findTarget } from '../config/targets.ts';
import type { AppContext } from '../http/access.ts';
import { logRefusal } from '../http/access-audit.ts';
import { ApiError } from '../http/errors.ts';
import { newNonce } from './headers.ts';
import { page, visit } from './page-context.tsx';
import { actions } from './routes/actions.tsx';
import { audit } from './routes/audit.tsx';
import { captureActions } from './routes/capture.tsx';
import { freezeActions } from './routes/freeze.tsx';
import { restartWindowActions } from './routes/restart-window.tsx';
import { pages } from './routes/pages.tsx';
import { signIn } from './routes/sign-in.tsx';
import { MessagePage } from './views/forms.tsx';
import type { Viewer } from './views/layout.tsx';

export const ui = new Hono<AppContext>();

// The sub-apps have no `onError` of their own, so `route()` copies their handlers in as they are
// and the one below catches what they throw (a sub-app with its own would keep its errors).
ui.route('/', pages);
ui.route('/', signIn);
ui.route('/', actions);
ui.route('/', audit);
ui.route('/', captureActions);
ui.route('/', freezeActions);
ui.route('/', restartWindowActions);

// ---- errors ---------------------------------------------------------------------------------------

ui.onError(async (error, c) => {
  // Before `visit` below: who was known when the request was refused, not who the cookie names now.
  logRefusal(c, error, 'page');
  const status: ContentfulStatusCode = error instanceof ApiError ? error.status : 500;
  const code = error instanceof ApiError ? error.code : 'internal';
  const message = error instanceof ApiError ? error.message : 'Something went wrong at the edge; the error has been logged.';
  if (!(error instanceof ApiError)) console.error('status page error', error);
  let viewer: Viewer = { principal: null, csrf: null, canSignIn: true };
  try {
    viewer = (await visit(c)).viewer;
  } catch {
    // API_TOKENS itself is misconfigured: show the error without a session.
  }
  const nonce = newNonce();
  const title =
    status === 404 ? 'Not found' : status === 403 ? 'Refused' : status === 401 ? 'Sign in first' : status === 429 ? 'Too many attempts' : status >= 500 ? 'Edge error' : 'Cannot do that';
  if (error instanceof ApiError) for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
  let back = '/';
  try {
    back = `/targets/${findTarget(c.env.TARGETS, c.req.param('name') ?? '').name}`;
  } catch {
    // No target in the path, or not one that exists.
  }
  return page(c, nonce, <MessagePage title={title} message={message} code={code} back={back} viewer={viewer} nonce={nonce} />, status);
});
