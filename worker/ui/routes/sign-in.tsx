/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Sign-in and sign-out: an API token traded for a signed session cookie, and the cookie cleared.
// Sign-in is off (503, with what to set) while SESSION_SECRET is missing or unfit. Every refused
// sign-in counts against the address's limit (worker/http/rate-limit.ts): past it, 429 before the
// token is even looked at.
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppContext } from '../../http/access.ts';
import { logAccess } from '../../http/access-audit.ts';
import { identify } from '../../http/auth.ts';
import { ApiError } from '../../http/errors.ts';
import { countRefusal, refuseWhileThrottled } from '../../http/rate-limit.ts';
import { sameOrigin } from '../csrf.ts';
import { page, readForm, redirect, safeNext, visit, type UiContext } from '../page-context.tsx';
import {
  SESSION_COOKIE,
  SESSION_LIFETIME_SECONDS,
  SIGN_IN_COOKIE,
  SIGN_IN_LIFETIME_SECONDS,
  csrfTokenMatches,
  issueSession,
  signInNonce,
  signInToken,
  signInTokenMatches,
} from '../session.ts';
import { SignInPage } from '../views/forms.tsx';

export const signIn = new Hono<AppContext>();

const COOKIE_BASE = { httpOnly: true, secure: true, sameSite: 'Strict', path: '/' } as const;

/** Counts a refused sign-in, then refuses it (429 instead once the address has been refused too often). */
async function refuse(c: UiContext, error: ApiError): Promise<never> {
  await countRefusal(c.env, c.req.raw, 'sign_in');
  throw error;
}

signIn.get('/sign-in', async (c) => {
  const v = await visit(c);
  const next = safeNext(c.req.query('next'));
  if (!v.key) return page(c, v.nonce, <SignInPage csrf={null} next={next} disabledBecause={v.signInOff ?? undefined} viewer={v.viewer} nonce={v.nonce} />, 503);
  const existing = getCookie(c, SIGN_IN_COOKIE);
  const nonce = existing && /^[A-Za-z0-9_-]{24}$/.test(existing) ? existing : signInNonce();
  setCookie(c, SIGN_IN_COOKIE, nonce, { ...COOKIE_BASE, maxAge: SIGN_IN_LIFETIME_SECONDS });
  const csrf = await signInToken(v.key, nonce);
  return page(c, v.nonce, <SignInPage csrf={csrf} next={next} viewer={v.viewer} nonce={v.nonce} />);
});

signIn.post('/sign-in', async (c) => {
  refuseWhileThrottled(c.req.raw, 'sign_in');
  const form = await readForm(c.req.raw);
  const origin = sameOrigin(c.req.raw);
  if (!origin.ok) return refuse(c, new ApiError(403, 'cross_origin', `Refused: this sign-in was not sent from the sign-in page (${origin.why}).`));
  const v = await visit(c);
  if (!v.key) return page(c, v.nonce, <SignInPage csrf={null} next="/" disabledBecause={v.signInOff ?? undefined} viewer={v.viewer} nonce={v.nonce} />, 503);
  const nonce = getCookie(c, SIGN_IN_COOKIE);
  if (!(await signInTokenMatches(v.key, nonce, form.get('csrf') ?? undefined))) {
    return refuse(c, new ApiError(403, 'csrf', 'Refused: this sign-in form expired or was not sent from the sign-in page. Open the sign-in page again.'));
  }
  const next = safeNext(form.get('next') ?? undefined);
  const token = (form.get('token') ?? '').trim();
  const principal = token ? await identify(token, c.env.API_TOKENS) : null;
  if (!principal) {
    await countRefusal(c.env, c.req.raw, 'sign_in');
    const problem = token ? 'That token is not one this edge knows.' : 'Enter an API token to sign in.';
    logAccess(c, 'sign_in.refused', 401, problem, null);
    const csrf = await signInToken(v.key, nonce!);
    return page(c, v.nonce, <SignInPage csrf={csrf} next={next} problem={problem} viewer={v.viewer} nonce={v.nonce} />, 401);
  }
  const session = await issueSession(v.key, principal, token, Date.now());
  setCookie(c, SESSION_COOKIE, session.cookie, { ...COOKIE_BASE, maxAge: SESSION_LIFETIME_SECONDS });
  deleteCookie(c, SIGN_IN_COOKIE, COOKIE_BASE);
  logAccess(c, 'sign_in.succeeded', 303, `${principal.name} signed in (${principal.role}).`, principal.name);
  return redirect(c, next);
});

signIn.post('/sign-out', async (c) => {
  const form = await readForm(c.req.raw);
  const origin = sameOrigin(c.req.raw);
  if (!origin.ok) throw new ApiError(403, 'cross_origin', `Refused: this sign-out was not sent from the status page (${origin.why}).`);
  const v = await visit(c);
  if (v.key && v.session && !(await csrfTokenMatches(v.key, v.session, form.get('csrf') ?? undefined))) {
    throw new ApiError(403, 'csrf', 'Refused: the form\'s CSRF token is missing or belongs to another session.');
  }
  deleteCookie(c, SESSION_COOKIE, COOKIE_BASE);
  const name = v.session?.principal.name ?? null;
  logAccess(c, 'sign_out', 303, name ? `${name} signed out.` : 'Signed out without a valid session (it had expired or was never there).', name);
  return redirect(c, '/');
});
