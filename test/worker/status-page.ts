// Helpers for the status page in workerd: sign in through the real form (its nonce cookie and
// CSRF field), and post forms as a browser on the page's own origin would.
import { expect } from 'vitest';
import { BASE, call } from './helpers.ts';

export const FORM = { 'Content-Type': 'application/x-www-form-urlencoded', Origin: BASE, 'Sec-Fetch-Site': 'same-origin' };

export type Fetch = (path: string, init?: RequestInit) => Promise<Response>;

/** The Worker through its real entry point. */
export const worker: Fetch = (path, init) => call(path, init);

export function cookiesOf(response: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of response.headers.getAll('Set-Cookie')) {
    const [pair] = line.split(';');
    const index = pair!.indexOf('=');
    out[pair!.slice(0, index)] = pair!.slice(index + 1);
  }
  return out;
}

export function csrfIn(html: string): string {
  const match = /name="csrf" value="([^"]*)"/.exec(html);
  if (!match) throw new Error(`no csrf field in ${html.slice(0, 300)}`);
  return match[1]!;
}

export interface Signed {
  cookie: string;
  csrf: string;
  setCookie: string;
}

export async function signIn(token: string, via: Fetch = worker): Promise<Signed> {
  const form = await via('/sign-in');
  const nonce = cookiesOf(form)['__Host-lanyard_sign_in']!;
  const response = await via('/sign-in', {
    method: 'POST',
    headers: { ...FORM, Cookie: `__Host-lanyard_sign_in=${nonce}` },
    body: new URLSearchParams({ token, csrf: csrfIn(await form.text()), next: '/targets/home' }),
    redirect: 'manual',
  });
  expect(response.status, await response.clone().text()).toBe(303);
  const setCookie = response.headers.getAll('Set-Cookie').find((l) => l.startsWith('__Host-lanyard_session='))!;
  const cookie = `__Host-lanyard_session=${cookiesOf(response)['__Host-lanyard_session']}`;
  const page = await via('/targets/home', { headers: { Cookie: cookie } });
  return { cookie, csrf: csrfIn(await page.text()), setCookie };
}

export function post(path: string, who: Signed | null, fields: Record<string, string>, headers: Record<string, string> = FORM, via: Fetch = worker): Promise<Response> {
  return via(path, { method: 'POST', headers: { ...headers, ...(who ? { Cookie: who.cookie } : {}) }, body: new URLSearchParams(fields), redirect: 'manual' });
}
