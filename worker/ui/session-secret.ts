// Whether SESSION_SECRET can sign the status page's sessions. There is no fallback: the key used to
// be derived from the API_TOKENS text when SESSION_SECRET was unset, and API_TOKENS may hold only
// SHA-256 digests, which are not secret (they are kept hashed precisely so that they may be seen),
// so whoever read that list could sign an admin session. Now a missing, short or reused
// SESSION_SECRET turns sign-in off, and no session cookie is accepted, until it is put right.
import type { Env } from '../env.ts';

/**
 * At least 32 characters. A session cookie carries an HMAC of its claims, so anyone holding one
 * cookie can test guesses of the secret offline, as fast as they can compute HMACs; the secret must
 * be out of reach of such a search. 32 characters of hex, the least dense of the generators below,
 * carry 128 bits; the generators give 32 random bytes (256 bits). A length is all the edge can
 * check: a 32-character sentence is long and still guessable, hence the one-liners.
 */
export const MIN_SESSION_SECRET_LENGTH = 32;

/** How to set it, in the words every refusal uses. */
export const SET_SESSION_SECRET =
  'Set it to 32 random bytes: `openssl rand -base64 32 | npx wrangler secret put SESSION_SECRET` ' +
  '(without openssl: `node -e "console.log(require(\'node:crypto\').randomBytes(32).toString(\'base64\'))"`, then `npx wrangler secret put SESSION_SECRET`; ' +
  'locally, put SESSION_SECRET in the env file wrangler dev reads).';

export type SessionSecretVerdict =
  | { ok: true; secret: string }
  | { ok: false; code: 'session_secret_missing' | 'session_secret_short' | 'session_secret_reused'; message: string };

/** The names of the other secrets SESSION_SECRET must not equal: whoever holds one could sign any session. */
function reusedAs(env: Env, secret: string): string | null {
  if (env.API_TOKENS?.includes(secret)) return 'API_TOKENS';
  for (const [name, value] of Object.entries(env as unknown as Record<string, unknown>)) {
    if (name !== 'SESSION_SECRET' && value === secret) return name;
  }
  return null;
}

export function checkSessionSecret(env: Env): SessionSecretVerdict {
  const secret = env.SESSION_SECRET ?? '';
  if (!secret) {
    return {
      ok: false,
      code: 'session_secret_missing',
      message: `Sign-in is off: this edge has no SESSION_SECRET, the key that signs the status page's sessions. ${SET_SESSION_SECRET} Until then nobody can sign in and no session cookie is accepted; the API, webhooks and relays work as before.`,
    };
  }
  if (secret.length < MIN_SESSION_SECRET_LENGTH) {
    return {
      ok: false,
      code: 'session_secret_short',
      message: `Sign-in is off: SESSION_SECRET is ${secret.length} characters; it must be at least ${MIN_SESSION_SECRET_LENGTH} random ones, because anyone holding a session cookie can test guesses of it offline. ${SET_SESSION_SECRET}`,
    };
  }
  const other = reusedAs(env, secret);
  if (other) {
    return {
      ok: false,
      code: 'session_secret_reused',
      message: `Sign-in is off: SESSION_SECRET also appears in ${other}, so whoever holds that could sign a session of any role. Give it a value of its own. ${SET_SESSION_SECRET}`,
    };
  }
  return { ok: true, secret };
}
