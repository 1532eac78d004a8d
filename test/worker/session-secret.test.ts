// The status page's session key inside workerd: it comes from SESSION_SECRET alone. Someone who has
// read the API_TOKENS text (which may hold only SHA-256 digests, meant to be seen) cannot forge a
// session, and a missing, short or reused SESSION_SECRET turns sign-in off with a page that says
// what to set, refuses every existing cookie, and shows in /healthz.
import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../worker/app.ts';
import type { Env } from '../../worker/env.ts';
import { BASE, TOKENS } from './helpers.ts';
import { cookiesOf, csrfIn, FORM, signIn, type Fetch } from './status-page.ts';

const bound = env as unknown as Env;

/** Bindings to change; a target's relay token is a binding too, named by its configuration. */
type Changes = Partial<Env> & { RELAY_TOKEN_HOME?: string };

function withEnv(changes: Changes): Fetch {
  const changed = { ...bound, ...changes };
  return (path, init = {}) => Promise.resolve(app.fetch(new Request(`${BASE}${path}`, init), changed, createExecutionContext()));
}

const encoder = new TextEncoder();

function base64Url(bytes: ArrayBuffer | Uint8Array): string {
  let text = '';
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/**
 * An admin session cookie for `ada` made as an attacker would, from key material they hold: the
 * same HKDF and HMAC layout the edge uses, and ada's token digest as API_TOKENS lists it.
 */
async function forgedAdminCookie(material: string): Promise<string> {
  const base = await crypto.subtle.importKey('raw', encoder.encode(material), 'HKDF', false, ['deriveKey']);
  const key = await crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: encoder.encode('lanyard status page'), info: encoder.encode('session and csrf v1') },
    base,
    { name: 'HMAC', hash: 'SHA-256', length: 256 },
    false,
    ['sign'],
  );
  const mac = async (purpose: string, data: string) => base64Url(await crypto.subtle.sign('HMAC', key, encoder.encode(`${purpose}\n${data}`)));
  const ada = (JSON.parse(bound.API_TOKENS!) as { name: string; sha256?: string }[]).find((t) => t.name === 'ada')!;
  const claims = { v: 1, name: 'ada', role: 'admin', exp: Math.floor(Date.now() / 1000) + 3600, tok: await mac('token', ada.sha256!) };
  const payload = base64Url(encoder.encode(JSON.stringify(claims)));
  return `__Host-lanyard_session=${payload}.${await mac('session', payload)}`;
}

/** Who the overview says is signed in with `cookie`, or null (sent to the sign-in page, or anonymous). */
async function signedInAs(via: Fetch, cookie: string): Promise<string | null> {
  const response = await via('/targets/home', { headers: { Cookie: cookie }, redirect: 'manual' });
  if (response.status !== 200) return null;
  return /data-signed-in="([^"]+)"/.exec(await response.text())?.[1] ?? null;
}

describe('the session key comes from SESSION_SECRET alone', () => {
  it('refuses an admin cookie forged from the API_TOKENS text, with or without SESSION_SECRET set', async () => {
    const forged = await forgedAdminCookie(`API_TOKENS\n${bound.API_TOKENS}`);
    expect(await signedInAs(withEnv({}), forged)).toBeNull();
    expect(await signedInAs(withEnv({ SESSION_SECRET: undefined }), forged)).toBeNull();
    // The same recipe with the real secret makes a cookie the edge accepts: the forgery fails for its key, not its shape.
    expect(await signedInAs(withEnv({}), await forgedAdminCookie(`SESSION_SECRET\n${bound.SESSION_SECRET}`))).toBe('ada');
  });

  it('takes no digest from API_TOKENS for a token: the API and the sign-in form refuse it', async () => {
    const digest = (JSON.parse(bound.API_TOKENS!) as { name: string; sha256?: string }[]).find((t) => t.name === 'ada')!.sha256!;
    const api = await withEnv({})('/api/targets', { headers: { Authorization: `Bearer ${digest}` } });
    expect(api.status).toBe(401);
    const on = await withEnv({})('/sign-in');
    const nonce = cookiesOf(on)['__Host-lanyard_sign_in']!;
    const posted = await withEnv({})('/sign-in', {
      method: 'POST',
      headers: { ...FORM, Cookie: `__Host-lanyard_sign_in=${nonce}` },
      body: new URLSearchParams({ token: digest, csrf: csrfIn(await on.text()) }),
      redirect: 'manual',
    });
    expect(posted.status).toBe(401);
    expect(cookiesOf(posted)['__Host-lanyard_session']).toBeUndefined();
  });

  it('signs in with a SESSION_SECRET of 32 random characters or more', async () => {
    const via = withEnv({ SESSION_SECRET: crypto.randomUUID().replaceAll('-', '') });
    const otto = await signIn(TOKENS.operator, via);
    expect(await signedInAs(via, otto.cookie)).toBe('otto');
  });
});

describe('sign-in is off until SESSION_SECRET is fit, and the page says what to set', () => {
  const cases: [string, Changes, RegExp][] = [
    ['missing', { SESSION_SECRET: undefined }, /this edge has no SESSION_SECRET/],
    ['31 characters', { SESSION_SECRET: 'a'.repeat(31) }, /SESSION_SECRET is 31 characters; it must be at least 32 random ones/],
    ['a digest from API_TOKENS', { SESSION_SECRET: '86d52b26889c0e27ee3d007986c91490c2609ddbabcef949a6069d983df8bbbb' }, /SESSION_SECRET also appears in API_TOKENS/],
    ['the relay token', { SESSION_SECRET: 'relay-token-of-home-0123456789abcdef', RELAY_TOKEN_HOME: 'relay-token-of-home-0123456789abcdef' }, /SESSION_SECRET also appears in RELAY_TOKEN_HOME/],
  ];

  it.each(cases)('SESSION_SECRET %s: the sign-in page answers 503 with the fix, and a right token starts no session', async (_, changes, why) => {
    const via = withEnv(changes);
    const form = await via('/sign-in');
    expect(form.status).toBe(503);
    const html = await form.text();
    expect(html).toMatch(why);
    expect(html).toContain('openssl rand -base64 32 | npx wrangler secret put SESSION_SECRET');
    expect(html).not.toContain('name="token"');
    // A form filled in anyway (its nonce and CSRF token from a moment when sign-in was on) signs nobody in.
    const on = await withEnv({})('/sign-in');
    const nonce = cookiesOf(on)['__Host-lanyard_sign_in']!;
    const posted = await via('/sign-in', {
      method: 'POST',
      headers: { ...FORM, Cookie: `__Host-lanyard_sign_in=${nonce}` },
      body: new URLSearchParams({ token: TOKENS.admin, csrf: csrfIn(await on.text()) }),
      redirect: 'manual',
    });
    expect(posted.status).toBe(503);
    expect(cookiesOf(posted)['__Host-lanyard_session']).toBeUndefined();
  });

  it.each(cases)('SESSION_SECRET %s: a cookie that was valid a moment ago is no session, and pages link to why', async (_, changes) => {
    const ada = await signIn(TOKENS.admin);
    expect(await signedInAs(withEnv({}), ada.cookie)).toBe('ada');
    const via = withEnv(changes);
    const refused = await via('/targets/home', { headers: { Cookie: ada.cookie }, redirect: 'manual' });
    expect(refused.status).toBe(303);
    expect(refused.headers.get('Location')).toBe('/sign-in?next=%2Ftargets%2Fhome');
    // The public target's page still shows, to everyone, with a link to why sign-in is off.
    const cabin = await (await via('/targets/cabin', { headers: { Cookie: ada.cookie } })).text();
    expect(cabin).not.toContain('data-signed-in');
    expect(cabin).toContain('<a href="/sign-in" data-sign-in-off="true">Sign-in is off</a>');
  });

  it.each(cases)('SESSION_SECRET %s: /healthz names the problem and the fix, and never a secret', async (_, changes, why) => {
    const response = await withEnv(changes)('/healthz');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { ok: boolean; problems: { code: string; message: string }[] };
    expect(body.ok).toBe(true);
    const problem = body.problems.find((p) => p.code.startsWith('session_secret_'));
    expect(problem?.message).toMatch(why);
    expect(problem?.message).toContain('npx wrangler secret put SESSION_SECRET');
    const text = JSON.stringify(body);
    for (const value of [changes.SESSION_SECRET, changes.RELAY_TOKEN_HOME]) if (value) expect(text).not.toContain(value);
  });

  it('/healthz has no problems to name when the configuration is right', async () => {
    expect(await (await withEnv({})('/healthz')).json()).toEqual({ ok: true, problems: [] });
  });
});
