// A GitHub App's installation token, for check runs: GitHub lets only Apps create check runs (a
// personal access token is refused), so a pull request's plan is posted with the App when one is
// configured (GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY). The App signs a short JWT with its private key
// (RS256, WebCrypto), asks which installation covers the repository, and exchanges the JWT for that
// installation's token, kept until five minutes before it expires. Never throws; the key never
// leaves this module, and no token is ever written to storage.
import { z } from 'zod';
import { attempt } from './attempt.ts';
import { GITHUB_API_VERSION, repoPath, USER_AGENT, type GithubOutcome } from './github.ts';

export interface GithubAppSettings {
  apiUrl: string;
  appId: string;
  privateKeyPem: string;
}

/** Tokens by `apiUrl appId repo`, with when to stop using them; held in memory only (an evicted hub asks again). */
const tokens = new Map<string, { token: string; useUntil: number }>();
/** Stop using an installation token this long before GitHub says it expires. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

const Installation = z.object({ id: z.number().int() });
const AccessToken = z.object({ token: z.string().min(1), expires_at: z.string() });

function base64url(bytes: Uint8Array | string): string {
  const raw = typeof bytes === 'string' ? bytes : String.fromCharCode(...bytes);
  return btoa(raw).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let n = length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** A PKCS#1 RSA key (GitHub's "BEGIN RSA PRIVATE KEY") wrapped as PKCS#8, the form WebCrypto imports. */
function pkcs1ToPkcs8(pkcs1: Uint8Array): Uint8Array {
  const algorithm = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
  const octets = [0x04, ...derLength(pkcs1.length)];
  const body = [0x02, 0x01, 0x00, ...algorithm, ...octets];
  const total = body.length + pkcs1.length;
  const out = new Uint8Array([0x30, ...derLength(total), ...body, ...pkcs1]);
  return out;
}

async function importKey(pem: string): Promise<CryptoKey> {
  const pkcs1 = /-----BEGIN RSA PRIVATE KEY-----/.test(pem);
  // A key pasted with literal \n for its line breaks (one line in an env file) is read the same.
  const base64 = pem.replace(/\\n/g, '\n').replace(/-----(BEGIN|END)[^-]+-----/g, '').replace(/\s+/g, '');
  const der = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return crypto.subtle.importKey('pkcs8', pkcs1 ? pkcs1ToPkcs8(der) : der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
}

/** The App's JWT: issued a minute ago (clock drift), valid nine minutes (GitHub allows ten). */
export async function appJwt(app: GithubAppSettings, now = Date.now()): Promise<string> {
  const seconds = Math.floor(now / 1000);
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const payload = base64url(JSON.stringify({ iat: seconds - 60, exp: seconds + 540, iss: app.appId }));
  const key = await importKey(app.privateKeyPem);
  const signature = new Uint8Array(await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key, new TextEncoder().encode(`${header}.${payload}`)));
  return `${header}.${payload}.${base64url(signature)}`;
}

function appHeaders(jwt: string): Record<string, string> {
  return { Authorization: `Bearer ${jwt}`, Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': GITHUB_API_VERSION, 'User-Agent': USER_AGENT };
}

/** The installation token for the repository, from the cache while it is good. */
export async function installationToken(app: GithubAppSettings, repo: string, now = Date.now()): Promise<GithubOutcome<string>> {
  const key = `${app.apiUrl} ${app.appId} ${repo.toLowerCase()}`;
  const cached = tokens.get(key);
  if (cached && cached.useUntil > now) return { ok: true, value: cached.token };
  let jwt: string;
  try {
    jwt = await appJwt(app, now);
  } catch (error) {
    return { ok: false, retry: false, error: `GITHUB_APP_PRIVATE_KEY is not an RSA private key in PEM form (${error instanceof Error ? error.message : String(error)})`, retryAfterMs: null };
  }
  const found = await attempt(`${app.apiUrl}${repoPath(repo)}/installation`, { method: 'GET', headers: appHeaders(jwt) });
  if (!found.ok) return { ...found, error: `the GitHub App is not installed on ${repo}, or cannot be asked: ${found.error}` };
  const installation = Installation.safeParse(found.body);
  if (!installation.success) return { ok: false, retry: false, error: `GitHub answered without an installation for ${repo}`, retryAfterMs: null };
  const exchanged = await attempt(`${app.apiUrl}/app/installations/${installation.data.id}/access_tokens`, { method: 'POST', headers: appHeaders(jwt) });
  if (!exchanged.ok) return exchanged;
  const token = AccessToken.safeParse(exchanged.body);
  if (!token.success) return { ok: false, retry: false, error: 'GitHub answered without an installation token', retryAfterMs: null };
  const expires = Date.parse(token.data.expires_at);
  tokens.set(key, { token: token.data.token, useUntil: (Number.isFinite(expires) ? expires : now + 60 * 60_000) - EXPIRY_MARGIN_MS });
  return { ok: true, value: token.data.token };
}
