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
  /** A bearer token for GET /metrics only (a Prometheus scraper), or `sha256:<hex>` of it; API tokens scrape too. */
  METRICS_TOKEN?: string;
  /** The public base URL of the status page, for links in notifications. */
  PUBLIC_URL?: string;
  /** Signs the status page's session cookies and CSRF tokens (at least 32 random characters); unset: sign-in is off. */
  SESSION_SECRET?: string;
  /** Refused sign-ins per client address (wrangler.toml `[[ratelimits]]`; see worker/http/rate-limit.ts). */
  SIGN_IN_RATE_LIMIT?: RateLimit;
  /** Refused API tokens per client address. */
  API_RATE_LIMIT?: RateLimit;
  /** Refused relay tokens at /relay/connect per client address. */
  RELAY_RATE_LIMIT?: RateLimit;
  /** GitHub's REST API (default https://api.github.com; GitHub Enterprise: https://HOST/api/v3). */
  GITHUB_API_URL?: string;
  /** Token for GitHub Deployments (fine-grained, "Deployments: read and write"); the secret a target's `githubTokenSecret` names. */
  GITHUB_TOKEN?: string;
  /** A GitHub App's id: pull-request plans are posted as check runs, which only an App may create (docs/pull-request-plans.md). */
  GITHUB_APP_ID?: string;
  /** That App's private key (PEM, PKCS#1 as GitHub hands it out, or PKCS#8); signs the RS256 JWT exchanged for installation tokens. */
  GITHUB_APP_PRIVATE_KEY?: string;
  /** A Slack incoming webhook URL: a message when a deploy fails or is rolled back (and on success if asked). */
  SLACK_WEBHOOK_URL?: string;
  /** A URL that receives every notification as signed JSON (see docs/outward.md). */
  NOTIFY_WEBHOOK_URL?: string;
  /** The HMAC-SHA256 key of `X-Lanyard-Signature`; required with NOTIFY_WEBHOOK_URL. */
  NOTIFY_WEBHOOK_SECRET?: string;
  /** `true`: notify successes too, for targets that do not set `notifyOnSuccess`. */
  NOTIFY_ON_SUCCESS?: string;
  /** Issue 20, traces: where each deployment's OpenTelemetry trace is POSTed as OTLP/HTTP JSON, e.g. http://127.0.0.1:4318/v1/traces (docs/traces.md); unset: no traces. */
  OTLP_ENDPOINT?: string;
  /** Headers for OTLP_ENDPOINT, as OTEL_EXPORTER_OTLP_HEADERS writes them: `Authorization=Bearer x,X-Scope-OrgID=home` (a secret). */
  OTLP_HEADERS?: string;
  /** First retry delay of the outbox in ms (default 5000, doubling to 10 minutes); tests make it short. */
  OUTBOX_RETRY_BASE_MS?: string;
  /** Email alerts (issue 18): a `send_email` binding (wrangler.toml `[[send_email]]`); a target's `alerts.email` sends through it. */
  ALERT_EMAIL?: SendEmail;
}

/** Secrets named by configuration (each target's relay token) are looked up by name. */
export function secretNamed(env: Env, name: string): string | undefined {
  const value = (env as unknown as Record<string, unknown>)[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
