// The Worker's bindings, as wrangler.toml and `wrangler secret put` provide them.
import type { TargetHub } from './hub/target-hub.ts';

export interface Env {
  TARGET_HUB: DurableObjectNamespace<TargetHub>;
  LEDGER: D1Database;
  /** JSON array of targets (see worker/config/targets.ts), as a string or a TOML table. */
  TARGETS: unknown;
  /** The webhook secret GitHub signs with. */
  WEBHOOK_SECRET?: string;
  /** The previous webhook secret, accepted too while a rotation is under way. */
  WEBHOOK_SECRET_PREVIOUS?: string;
  /** JSON array of API tokens: `[{name, role, token}]` or `[{name, role, sha256}]`. */
  API_TOKENS?: string;
  /** The public base URL of the status page, for links in notifications. */
  PUBLIC_URL?: string;
}

/** Secrets named by configuration (each target's relay token) are looked up by name. */
export function secretNamed(env: Env, name: string): string | undefined {
  const value = (env as unknown as Record<string, unknown>)[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
