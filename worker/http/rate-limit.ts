// Rate limits on what an anonymous client can repeat: refused sign-ins, refused API tokens and
// refused relay tokens, per client address (client-address.ts), with the Workers Rate Limiting
// binding (wrangler.toml, `[[ratelimits]]`, one per surface).
//
// Only refusals are counted. A valid token is never counted, so a real operator, a script that
// polls the API, the status page and a relay reconnecting with the right token never meet a limit,
// however often they ask. Once an address has been refused more often than its surface allows in
// a period, the binding says no, and from then on, for one period, this isolate answers 429 to
// everything from that address on that surface *before* looking at its token, the right token
// included: a throttled address learns nothing about its guesses, and its refusals write no access
// log or audit row and wake no hub. The binding counts per Cloudflare location and approximately,
// and the memory of throttled addresses is per isolate: a limit, not an exact count.
//
// Separate bindings per surface: each has its own honest rate (a person signing in, a relay's
// backoff, a script), and a flood on one does not lock the same address out of another.
import type { Env } from '../env.ts';
import { clientAddress } from './client-address.ts';
import { ApiError } from './errors.ts';

export type LimitedSurface = 'sign_in' | 'api' | 'relay';

/** Each surface's binding in wrangler.toml. */
export const RATE_LIMIT_BINDINGS = { sign_in: 'SIGN_IN_RATE_LIMIT', api: 'API_RATE_LIMIT', relay: 'RELAY_RATE_LIMIT' } as const satisfies Record<
  LimitedSurface,
  keyof Env
>;

/** The `period` of every binding in wrangler.toml: how long a throttled address waits. */
export const RATE_LIMIT_PERIOD_SECONDS = 60;

/** Enough for every address that floods one isolate at once; beyond it the oldest are forgotten. */
const MAX_THROTTLED = 10_000;

/** `surface address` → until when (ms) this isolate answers 429 to that address. */
const throttled = new Map<string, number>();

const WHAT: Record<LimitedSurface, { refused: string; then: string }> = {
  sign_in: { refused: 'refused sign-ins', then: 'then sign in with an API token of this edge (an admin can give you one).' },
  api: { refused: 'refused API tokens', then: 'check the token your client sends (`Authorization: Bearer <token>`, one of API_TOKENS) before trying again.' },
  relay: {
    refused: 'refused relay tokens',
    then: 'meanwhile check that edge.token in the relay\'s config is the token stored in the Worker secret its target\'s relayTokenSecret names (`relay doctor` checks it).',
  },
};

function remember(key: string, until: number, now: number): void {
  throttled.delete(key);
  if (throttled.size >= MAX_THROTTLED) {
    for (const [k, t] of throttled) if (t <= now) throttled.delete(k);
    // Still full: forget the oldest (a Map iterates in insertion order).
    while (throttled.size >= MAX_THROTTLED) throttled.delete(throttled.keys().next().value!);
  }
  throttled.set(key, until);
}

function tooMany(surface: LimitedSurface, until: number, now: number): ApiError {
  const seconds = Math.max(1, Math.ceil((until - now) / 1000));
  const what = WHAT[surface];
  return new ApiError(
    429,
    'rate_limited',
    `Too many ${what.refused} from your address in the last minute: this edge answers nothing else to it for ${seconds} s, the right token included. Wait ${seconds} s, ${what.then}`,
    undefined,
    { 'Retry-After': String(seconds) },
  );
}

/** Throws 429 while `request`'s address is throttled on `surface`; called before any token is looked at. */
export function refuseWhileThrottled(request: Request, surface: LimitedSurface, now = Date.now()): void {
  const key = `${surface} ${clientAddress(request)}`;
  const until = throttled.get(key);
  if (until === undefined) return;
  if (until <= now) {
    throttled.delete(key);
    return;
  }
  throw tooMany(surface, until, now);
}

/**
 * Counts one refusal of `request`'s address on `surface`; throws 429 instead when the address has
 * been refused too often, so the caller neither logs nor answers the refusal itself. Without the
 * binding (a wrangler.toml from before it; /healthz names it) nothing is counted.
 */
export async function countRefusal(env: Env, request: Request, surface: LimitedSurface, now = Date.now()): Promise<void> {
  const binding = env[RATE_LIMIT_BINDINGS[surface]];
  if (!binding) return;
  const address = clientAddress(request);
  let success: boolean;
  try {
    ({ success } = await binding.limit({ key: address }));
  } catch (error) {
    // A limiter that cannot answer must not turn a 401 into a 500: the refusal stands, uncounted.
    console.error(`rate limit ${RATE_LIMIT_BINDINGS[surface]} could not count a refusal`, error);
    return;
  }
  if (success) return;
  const until = now + RATE_LIMIT_PERIOD_SECONDS * 1000;
  remember(`${surface} ${address}`, until, now);
  throw tooMany(surface, until, now);
}

/** The bindings wrangler.toml should have and this Worker lacks. */
export function missingRateLimits(env: Env): string[] {
  return Object.values(RATE_LIMIT_BINDINGS).filter((name) => !env[name]);
}
