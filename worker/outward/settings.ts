// Where a target's outward messages go, read from the Worker's vars and secrets: GitHub
// Deployments, a Slack incoming webhook, a signed JSON webhook. A channel without its secret is
// simply off. Read when a message is sent, not when it is queued, so a rotated secret is used at once
// and no secret ever sits in the outbox.
import type { TargetConfig } from '../config/targets.ts';
import { secretNamed, type Env } from '../env.ts';
import type { GithubAppSettings } from './github-app.ts';
import { otlpHeaders } from './otlp.ts';
import type { AlertEmailSettings } from './email-alert.ts';

export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';

export interface OutwardSettings {
  github: { apiUrl: string; token: string } | null;
  /** A GitHub App (GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY): pull-request plans as check runs (plan-checks.ts). */
  githubApp?: GithubAppSettings | null;
  slack: { url: string } | null;
  webhook: { url: string; secret: string } | null;
  /** Issue 20: where deployments' traces go (OTLP/HTTP JSON), with their headers; absent or null: no traces. */
  otlp?: { url: string; headers: Record<string, string> } | null;
  /** Successful deploys notify too (failures and rollbacks always do). */
  notifyOnSuccess: boolean;
  /** `${PUBLIC_URL}/targets/<name>?deployment=<id>` without the id, or null without PUBLIC_URL. */
  statusPageUrl: string | null;
  retry: RetryPolicy;
  /** Email alerts (issue 18): the target's `alerts.email` with the `ALERT_EMAIL` binding; null when either is missing. */
  alertEmail?: AlertEmailSettings | null;
}

export interface RetryPolicy {
  /** First delay; doubles with every failed attempt up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A message still undelivered this long after it was queued is given up on. */
  giveUpAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseDelayMs: 5_000, maxDelayMs: 10 * 60_000, giveUpAfterMs: 24 * 60 * 60_000 };

function httpUrl(value: string | undefined): string | null {
  if (!value) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : null;
  } catch {
    return null;
  }
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

export function retryPolicy(env: Env): RetryPolicy {
  const base = Number(env.OUTBOX_RETRY_BASE_MS);
  if (!Number.isFinite(base) || base <= 0) return DEFAULT_RETRY;
  return { ...DEFAULT_RETRY, baseDelayMs: base, maxDelayMs: Math.max(base, Math.min(DEFAULT_RETRY.maxDelayMs, base * 64)) };
}

export function outwardSettings(env: Env, target: TargetConfig): OutwardSettings {
  const token = secretNamed(env, target.githubTokenSecret);
  const apiUrl = httpUrl(env.GITHUB_API_URL) ?? DEFAULT_GITHUB_API_URL;
  const slack = httpUrl(env.SLACK_WEBHOOK_URL);
  const webhookUrl = httpUrl(env.NOTIFY_WEBHOOK_URL);
  const webhookSecret = env.NOTIFY_WEBHOOK_SECRET;
  const publicUrl = httpUrl(env.PUBLIC_URL);
  const otlpUrl = httpUrl(env.OTLP_ENDPOINT);
  return {
    github: token ? { apiUrl: withoutTrailingSlash(apiUrl), token } : null,
    githubApp: env.GITHUB_APP_ID && env.GITHUB_APP_PRIVATE_KEY ? { apiUrl: withoutTrailingSlash(apiUrl), appId: env.GITHUB_APP_ID, privateKeyPem: env.GITHUB_APP_PRIVATE_KEY } : null,
    slack: slack ? { url: slack } : null,
    // An unsigned webhook would let anyone who learns the URL forge notifications: no secret, no webhook.
    webhook: webhookUrl && webhookSecret ? { url: webhookUrl, secret: webhookSecret } : null,
    otlp: otlpUrl ? { url: otlpUrl, headers: otlpHeaders(env.OTLP_HEADERS) } : null,
    notifyOnSuccess: target.notifyOnSuccess ?? env.NOTIFY_ON_SUCCESS === 'true',
    statusPageUrl: publicUrl ? `${withoutTrailingSlash(publicUrl)}/targets/${encodeURIComponent(target.name)}` : null,
    retry: retryPolicy(env),
    alertEmail: env.ALERT_EMAIL && target.alerts.email ? { binding: env.ALERT_EMAIL, from: target.alerts.email.from, to: target.alerts.email.to } : null,
  };
}

/** The status page of one deployment, the `log_url` of its GitHub statuses and the link in notifications. */
export function deploymentPageUrl(settings: Pick<OutwardSettings, 'statusPageUrl'>, deploymentId: string): string | null {
  return settings.statusPageUrl ? `${settings.statusPageUrl}?deployment=${encodeURIComponent(deploymentId)}` : null;
}
