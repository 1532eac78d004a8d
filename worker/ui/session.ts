// Sessions of the status page: a stateless cookie, `base64url(claims).base64url(HMAC-SHA256)`,
// signed with Web Crypto. Claims are {name, role, exp} plus a keyed fingerprint of the API token
// that signed in, so a session ends as soon as its token is removed from API_TOKENS or its role
// changes, not only when it expires. The same key derives the CSRF tokens of the page's forms.
//
// The key comes from SESSION_SECRET alone (see session-secret.ts): without a good one there is no
// key, sign-in is off and no cookie is read, whatever it claims.
import { z } from 'zod';
import type { Env } from '../env.ts';
import { loadTokens, Role, type Principal } from '../http/auth.ts';
import { sha256Hex } from '../http/secrets.ts';
import { checkSessionSecret } from './session-secret.ts';

/** `__Host-`: only this origin over HTTPS (or localhost) may set it, with Path=/ and no Domain. */
export const SESSION_COOKIE = '__Host-lanyard_session';
/** Holds the sign-in form's nonce until the form comes back: the CSRF check of the sign-in itself. */
export const SIGN_IN_COOKIE = '__Host-lanyard_sign_in';
export const SESSION_LIFETIME_SECONDS = 8 * 3600;
export const SIGN_IN_LIFETIME_SECONDS = 30 * 60;

const SessionClaims = z
  .object({ v: z.literal(1), name: z.string().min(1), role: Role, exp: z.number().int(), tok: z.string().min(1) })
  .strict();
type SessionClaims = z.infer<typeof SessionClaims>;

export interface Session {
  principal: Principal;
  /** The cookie's value: what the CSRF token is bound to. */
  cookie: string;
  expiresAt: number;
}

const encoder = new TextEncoder();

function toBase64Url(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let text = '';
  for (const b of view) text += String.fromCharCode(b);
  return btoa(text).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

let keyCache: { secret: string; key: CryptoKey } | null = null;

/** The HMAC key of sessions and CSRF tokens, or why there is none (and sign-in is off). */
export type SessionKey = { ok: true; key: CryptoKey } | { ok: false; problem: string };

export async function sessionKey(env: Env): Promise<SessionKey> {
  const verdict = checkSessionSecret(env);
  if (!verdict.ok) return { ok: false, problem: verdict.message };
  if (keyCache?.secret === verdict.secret) return { ok: true, key: keyCache.key };
  const base = await crypto.subtle.importKey('raw', encoder.encode(`SESSION_SECRET\n${verdict.secret}`), 'HKDF', false, ['deriveKey']);
  const key = await crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: encoder.encode('lanyard status page'), info: encoder.encode('session and csrf v1') },
    base,
    { name: 'HMAC', hash: 'SHA-256', length: 256 },
    false,
    ['sign', 'verify'],
  );
  keyCache = { secret: verdict.secret, key };
  return { ok: true, key };
}

/** HMAC over `purpose \n data`: one key, separate purposes, so no value of one kind passes as another. */
async function mac(key: CryptoKey, purpose: string, data: string): Promise<string> {
  return toBase64Url(await crypto.subtle.sign('HMAC', key, encoder.encode(`${purpose}\n${data}`)));
}

async function macMatches(key: CryptoKey, purpose: string, data: string, given: string): Promise<boolean> {
  const signature = fromBase64Url(given);
  if (!signature || signature.byteLength !== 32) return false;
  // verify() compares in constant time.
  return crypto.subtle.verify('HMAC', key, signature, encoder.encode(`${purpose}\n${data}`));
}

/** A token fingerprint that says nothing about the token without the key. */
function tokenFingerprint(key: CryptoKey, tokenDigest: string): Promise<string> {
  return mac(key, 'token', tokenDigest);
}

/** The cookie value of a new session for someone who signed in with `token` (already identified). */
export async function issueSession(key: CryptoKey, principal: Principal, token: string, now: number): Promise<Session> {
  const expiresAt = now + SESSION_LIFETIME_SECONDS * 1000;
  const claims: SessionClaims = { v: 1, name: principal.name, role: principal.role, exp: Math.floor(expiresAt / 1000), tok: await tokenFingerprint(key, await sha256Hex(token)) };
  const payload = toBase64Url(encoder.encode(JSON.stringify(claims)));
  const cookie = `${payload}.${await mac(key, 'session', payload)}`;
  return { principal, cookie, expiresAt };
}

/** The session a cookie stands for, or null: bad signature, expired, or its token no longer in API_TOKENS with that name and role. */
export async function readSession(key: CryptoKey, env: Env, cookie: string | undefined, now: number): Promise<Session | null> {
  if (!cookie || cookie.length > 1024) return null;
  const [payload, signature, extra] = cookie.split('.');
  if (!payload || !signature || extra !== undefined) return null;
  if (!(await macMatches(key, 'session', payload, signature))) return null;
  const bytes = fromBase64Url(payload);
  if (!bytes) return null;
  let claims: SessionClaims;
  try {
    claims = SessionClaims.parse(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    return null;
  }
  if (claims.exp * 1000 <= now) return null;
  let current: { name: string; role: Role } | null = null;
  for (const entry of await loadTokens(env.API_TOKENS)) {
    if ((await tokenFingerprint(key, entry.digest)) === claims.tok) current = entry;
  }
  if (!current || current.name !== claims.name || current.role !== claims.role) return null;
  return { principal: { name: claims.name, role: claims.role }, cookie, expiresAt: claims.exp * 1000 };
}

/** The CSRF token of a session's forms: bound to that one cookie, so it is worthless for anyone else. */
export function csrfToken(key: CryptoKey, session: Session): Promise<string> {
  return mac(key, 'csrf', session.cookie);
}

export function csrfTokenMatches(key: CryptoKey, session: Session, given: string | undefined): Promise<boolean> {
  return given ? macMatches(key, 'csrf', session.cookie, given) : Promise.resolve(false);
}

/** A fresh nonce for the sign-in form's cookie. */
export function signInNonce(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(18)));
}

export function signInToken(key: CryptoKey, nonce: string): Promise<string> {
  return mac(key, 'sign-in', nonce);
}

export function signInTokenMatches(key: CryptoKey, nonce: string | undefined, given: string | undefined): Promise<boolean> {
  return nonce && given ? macMatches(key, 'sign-in', nonce, given) : Promise.resolve(false);
}
