/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// What every status-page route shares: who is reading (the verified session cookie), answering with
// a page, a fragment or a redirect under the page's security headers, where sign-in may send the
// reader back to, and the checks every form post passes before anything happens.
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { html } from 'hono/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppContext } from '../http/access.ts';
import { roleAllows } from '../http/auth.ts';
import { readLimitedBody } from '../http/body-limit.ts';
import { ApiError } from '../http/errors.ts';
import { sameOrigin } from './csrf.ts';
import { newNonce, securityHeaders } from './headers.ts';
import { SESSION_COOKIE, csrfToken, csrfTokenMatches, readSession, sessionKey, type Session } from './session.ts';
import { BouncePage } from './views/forms.tsx';
import type { Viewer } from './views/layout.tsx';

export type UiContext = Context<AppContext>;

const FORM_LIMIT_BYTES = 16 * 1024;
/** Where sign-in may send the reader back to: this site's own pages, nothing else. */
const SAFE_NEXT = /^\/(targets\/[a-z0-9][a-z0-9-]{0,62}(\?deployment=[A-Za-z0-9_]{1,64})?)?$/;

export interface Visit {
  key: CryptoKey | null;
  /** Why sign-in is off (no key), in words that say what to set; null when it is on. */
  signInOff: string | null;
  session: Session | null;
  viewer: Viewer;
  nonce: string;
}

/** Who is reading: the session cookie, verified; also sets `principal` for `requireRole`. */
export async function visit(c: UiContext): Promise<Visit> {
  const found = await sessionKey(c.env);
  const key = found.ok ? found.key : null;
  // Without a key no cookie is read at all: one signed under an old or derived key is no session.
  const session = key ? await readSession(key, c.env, getCookie(c, SESSION_COOKIE), Date.now()) : null;
  c.set('principal', session?.principal ?? null);
  const csrf = key && session ? await csrfToken(key, session) : null;
  const signInOff = found.ok ? null : found.problem;
  return { key, signInOff, session, nonce: newNonce(), viewer: { principal: session?.principal ?? null, csrf, canSignIn: key !== null } };
}

function withHeaders(c: UiContext, nonce: string | null): void {
  for (const [name, value] of Object.entries(securityHeaders(nonce))) c.header(name, value);
}

export function page(c: UiContext, nonce: string, node: unknown, status: ContentfulStatusCode = 200) {
  withHeaders(c, nonce);
  return c.html(html`<!doctype html>${node}`, status);
}

export function fragment(c: UiContext, node: unknown) {
  withHeaders(c, null);
  return c.html(html`${node}`);
}

export function redirect(c: UiContext, to: string) {
  withHeaders(c, null);
  return c.redirect(to, 303);
}

export function safeNext(next: string | undefined): string {
  return next && SAFE_NEXT.test(next) ? next : '/';
}

/**
 * A reader who follows a link from another site (GitHub's log_url, Slack) arrives without the
 * SameSite=Strict cookie. One hop from this origin brings it along; after that hop the request is
 * same-origin, so this can never loop.
 */
export function bounceIfCrossSite(c: UiContext, v: Visit) {
  if (v.session || getCookie(c, SESSION_COOKIE) !== undefined) return null;
  if (c.req.header('Sec-Fetch-Site') !== 'cross-site' || c.req.header('Sec-Fetch-Mode') !== 'navigate') return null;
  const url = new URL(c.req.url);
  return page(c, v.nonce, <BouncePage to={`${url.pathname}${url.search}`} />);
}

export function here(c: UiContext): string {
  const url = new URL(c.req.url);
  return `${url.pathname}${url.search}`;
}

export function signInFirst(c: UiContext) {
  return redirect(c, `/sign-in?next=${encodeURIComponent(safeNext(here(c)))}`);
}

/** The fields of a posted form; anything that is not a form reads as empty (and then fails the CSRF check). */
export async function readForm(request: Request): Promise<URLSearchParams> {
  const body = await readLimitedBody(request, FORM_LIMIT_BYTES);
  if (!body.ok) throw new ApiError(413, 'too_large', `A form is at most ${FORM_LIMIT_BYTES} bytes.`);
  const type = request.headers.get('Content-Type') ?? '';
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) return new URLSearchParams();
  return new URLSearchParams(new TextDecoder().decode(body.bytes));
}

/** Every form post: same origin, a signed-in session, and that session's CSRF token. Otherwise 403 and nothing happens. */
export async function checkedPost(c: UiContext): Promise<{ form: URLSearchParams; v: Visit; session: Session }> {
  const form = await readForm(c.req.raw);
  const origin = sameOrigin(c.req.raw);
  if (!origin.ok) throw new ApiError(403, 'cross_origin', `Refused: this form was not sent from the status page (${origin.why}). Nothing was done.`);
  const v = await visit(c);
  if (!v.key || !v.session) throw new ApiError(403, 'no_session', 'Refused: this form has no signed-in session behind it (it may have expired). Sign in and try again; nothing was done.');
  if (!(await csrfTokenMatches(v.key, v.session, form.get('csrf') ?? undefined))) {
    throw new ApiError(403, 'csrf', 'Refused: the form\'s CSRF token is missing or belongs to another session. Reload the page and try again; nothing was done.');
  }
  return { form, v, session: v.session };
}

export function isOperator(v: Visit): boolean {
  return v.session !== null && roleAllows(v.session.principal.role, 'operator');
}
