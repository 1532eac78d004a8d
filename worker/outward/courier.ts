// Delivers what the outbox holds: run from the hub's alarm, one message per stream at a time (a
// deployment's GitHub statuses arrive in order), streams side by side. Each attempt is counted and
// its retry time written before the request goes out, so a hub evicted mid-request tries again at
// that time. A failure that may pass (network, 5xx, 429) is retried with a doubling delay; one that
// will not (401, 404, 422) or a message older than a day is given up on. Both are written to the
// audit trail and shown in the status, and neither ever touches the deployment itself.
import type { AuditEntry } from '../hub/audit.ts';
import type { Attempt } from './attempt.ts';
import type { PullRequestPayload } from './capture-pull.ts';
import { openOrUpdatePull } from './github-pulls.ts';
import { createDeployment, createStatus, findDeployment, type GithubDeploymentRequest, type GithubStatusRequest } from './github.ts';
import type { OutwardEvent } from './notification.ts';
import type { Outbox, OutboxEntry } from './outbox.ts';
import { DEFAULT_RETRY, type OutwardSettings, type RetryPolicy } from './settings.ts';
import { sendPlanCheck, type PlanCheckPayload } from './plan-checks.ts';
import { postSlack, type SlackMessage } from './slack.ts';
import { postWebhook } from './webhook.ts';
import { postOtlp } from './otlp.ts';
import type { OtlpTraceRequest } from '../traces/otlp-json.ts';
import type { AlertMessage } from '../../shared/alert.ts';
import type { EmailAlertPayload } from './alerts.ts';
import { sendAlertEmail } from './email-alert.ts';
import { sendHouseAlert, type AwaitingAnswer, type RelayLink } from './house-alert.ts';

/** Stop after this long and let the next alarm carry on, so one alarm never runs for minutes. */
const DRAIN_BUDGET_MS = 25_000;
const BATCH = 10;

export interface CourierContext {
  outbox: Outbox;
  /** Settings of the hub's target, read now (null: the target is no longer configured). */
  settings: () => OutwardSettings | null;
  audit: (entry: AuditEntry) => void;
  /** Wake the hub at this time (the hub keeps its earliest alarm). */
  wakeAt: (at: number) => void;
  /** A capture's pull request was opened or updated at this URL. */
  pulled?: (captureId: string, url: string) => void;
  /** The target's relay, connected and welcomed, for alerts to the house (null: none now). */
  relay?: () => RelayLink | null;
}

/** Delivered, failed, or (an alert to the house) sent and waiting for the relay's answer. */
export type Outcome = { ok: true } | Extract<Attempt, { ok: false }> | AwaitingAnswer;

export function retryDelay(policy: RetryPolicy, attempts: number): number {
  const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  // A little jitter so targets that failed together do not retry together.
  return Math.round(delay * (1 + Math.random() * 0.1));
}

/** Sends what is due; says how many attempts it made and when the next message is due (null: nothing pending). */
export async function deliverDue(context: CourierContext): Promise<{ attempted: number; nextDueAt: number | null }> {
  const started = Date.now();
  const { outbox } = context;
  let attempted = 0;
  for (;;) {
    const now = Date.now();
    if (now - started > DRAIN_BUDGET_MS) break;
    const batch = outbox.due(now, BATCH);
    if (!batch.length) break;
    const settings = context.settings();
    // Claim the whole batch synchronously before the first request, then send side by side.
    for (const e of batch) {
      const retryAt = now + retryDelay(settings?.retry ?? DEFAULT_RETRY, e.attempts + 1);
      outbox.claim(e.seq, retryAt);
      context.wakeAt(retryAt);
    }
    attempted += batch.length;
    await Promise.all(batch.map((e) => deliverOne(context, settings, { ...e, attempts: e.attempts + 1 })));
  }
  outbox.prune(Date.now());
  return { attempted, nextDueAt: outbox.nextDueAt() };
}

async function deliverOne(context: CourierContext, settings: OutwardSettings | null, e: OutboxEntry): Promise<void> {
  let outcome: Outcome;
  try {
    // No settings: TARGETS is invalid right now or lost this target; a fixed configuration resumes.
    outcome = settings ? await send(context, settings, e) : { ok: false, retry: true, error: 'the edge cannot read this target\'s configuration', retryAfterMs: null };
  } catch (error) {
    outcome = { ok: false, retry: true, error: `unexpected: ${error instanceof Error ? error.message : String(error)}`, retryAfterMs: null };
  }
  recordOutcome(context, settings?.retry ?? DEFAULT_RETRY, e, outcome);
}

/**
 * What an attempt's outcome does to its message: delivered, retried with a doubling delay, given up
 * on (refused for good, or too old), or (sent to the relay) waiting for its answer until a deadline.
 * Also how the relay's `alerted` settles an alert (worker/hub/alert-answers.ts).
 */
export function recordOutcome(context: Pick<CourierContext, 'outbox' | 'audit' | 'wakeAt'>, policy: RetryPolicy, e: OutboxEntry, outcome: Outcome): void {
  const { outbox } = context;
  const now = Date.now();
  const detail = { channel: e.channel, deploymentId: e.deploymentId, what: e.what, attempts: e.attempts };
  if (outcome.ok === 'sent') {
    const deadline = now + outcome.answerWithinMs;
    outbox.awaiting(e.seq, deadline, outcome.note);
    context.wakeAt(deadline);
    return;
  }
  if (outcome.ok) {
    outbox.delivered(e.seq, now);
    if (e.attempts > 1) context.audit({ at: now, actor: 'edge', action: 'outward.delivered', detail: { ...detail, after: e.lastError }, source: null });
    return;
  }
  const tooOld = now - e.createdAt > policy.giveUpAfterMs;
  if (!outcome.retry || tooOld) {
    const why = outcome.retry ? `${outcome.error}; gave up after ${e.attempts} attempts` : outcome.error;
    outbox.abandon(e.seq, why, now);
    context.audit({ at: now, actor: 'edge', action: 'outward.abandoned', detail: { ...detail, error: why }, source: null });
    console.warn(`outward ${e.what} for ${e.deploymentId} given up: ${why}`);
    return;
  }
  const delay = Math.max(retryDelay(policy, e.attempts), outcome.retryAfterMs ?? 0);
  const retryAt = now + Math.min(delay, 60 * 60_000);
  outbox.failed(e.seq, outcome.error, retryAt);
  context.wakeAt(retryAt);
  if (e.attempts === 1) context.audit({ at: now, actor: 'edge', action: 'outward.retrying', detail: { ...detail, error: outcome.error, retryAt }, source: null });
  console.warn(`outward ${e.what} for ${e.deploymentId} failed (attempt ${e.attempts}), retrying: ${outcome.error}`);
}

async function send(context: CourierContext, settings: OutwardSettings, e: OutboxEntry): Promise<Outcome> {
  const { outbox } = context;
  switch (e.kind) {
    case 'github.deployment': {
      if (!settings.github) return { ok: false, retry: false, error: 'no GitHub token is configured any more', retryAfterMs: null };
      const { repo, request } = e.payload as { repo: string; request: GithubDeploymentRequest };
      if (e.attempts > 1) {
        // An earlier attempt may have created it with the answer lost: adopt it instead of making a second.
        const found = await findDeployment(settings.github, repo, request);
        if (!found.ok) return found;
        if (found.value !== null) {
          outbox.linkGithub(e.deploymentId, found.value, Date.now());
          return { ok: true };
        }
      }
      const created = await createDeployment(settings.github, repo, request);
      if (!created.ok) return created;
      outbox.linkGithub(e.deploymentId, created.value, Date.now());
      return { ok: true };
    }
    case 'github.status': {
      if (!settings.github) return { ok: false, retry: false, error: 'no GitHub token is configured any more', retryAfterMs: null };
      const { repo, request, githubOf } = e.payload as { repo: string; request: GithubStatusRequest; githubOf?: string };
      const githubId = outbox.githubId(githubOf ?? e.deploymentId);
      if (githubId === null) return { ok: false, retry: false, error: 'GitHub has no deployment for it (creating one failed)', retryAfterMs: null };
      return createStatus(settings.github, repo, githubId, request);
    }
    case 'github.pull': {
      if (!settings.github) return { ok: false, retry: false, error: 'no GitHub token is configured any more', retryAfterMs: null };
      const payload = e.payload as PullRequestPayload;
      const pulled = await openOrUpdatePull(settings.github, payload);
      if (!pulled.ok) return pulled;
      context.pulled?.(payload.captureId, pulled.value);
      return { ok: true };
    }
    case 'github.plan':
      return sendPlanCheck(outbox, { app: settings.githubApp ?? null, token: settings.github }, e.payload as PlanCheckPayload);
    case 'slack.message': {
      if (!settings.slack) return { ok: false, retry: false, error: 'SLACK_WEBHOOK_URL is not set any more', retryAfterMs: null };
      return postSlack(settings.slack.url, (e.payload as { message: SlackMessage }).message);
    }
    case 'webhook.event': {
      if (!settings.webhook) return { ok: false, retry: false, error: 'NOTIFY_WEBHOOK_URL or NOTIFY_WEBHOOK_SECRET is not set any more', retryAfterMs: null };
      return postWebhook(settings.webhook.url, settings.webhook.secret, (e.payload as { event: OutwardEvent }).event, Date.now());
    }
    case 'otlp.trace': {
      if (!settings.otlp) return { ok: false, retry: false, error: 'OTLP_ENDPOINT is not set any more', retryAfterMs: null };
      return postOtlp(settings.otlp, (e.payload as { request: OtlpTraceRequest }).request);
    }
    case 'house.alert': {
      const alert = (e.payload as { alert: AlertMessage }).alert;
      // Sent and never answered for as long as any message is tried: given up on like one.
      if (e.attempts > 1 && e.lastError === null && Date.now() - e.createdAt > settings.retry.giveUpAfterMs) {
        return { ok: false, retry: false, error: `the relay never answered the alert; gave up after ${e.attempts - 1} attempts`, retryAfterMs: null };
      }
      return sendHouseAlert(context.relay?.() ?? null, e, alert);
    }
    case 'email.alert': {
      if (!settings.alertEmail) return { ok: false, retry: false, error: 'the target has no `alerts.email` any more, or the ALERT_EMAIL binding is gone', retryAfterMs: null };
      return sendAlertEmail(settings.alertEmail, e.payload as EmailAlertPayload, new Date());
    }
    default: {
      const unreachable: never = e.kind;
      return { ok: false, retry: false, error: `unknown message kind ${String(unreachable)}`, retryAfterMs: null };
    }
  }
}
