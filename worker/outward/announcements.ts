// What the outside world is told when a deployment changes state. Pure: the hub notices the change
// and hands it here; the answer is the list of messages to put in the outbox, in the order they must
// arrive.
//
//   Lanyard status            GitHub deployment status         Slack / webhook
//   queued, dispatched        queued (after creating it)       -
//   running                   in_progress                      -
//   succeeded                 success; then the deployment it  only if asked (notifyOnSuccess),
//                             replaced becomes inactive        always for a rollback job or a
//                                                              corrected "relay lost"
//   rolled_back               failure ("Rolled back: …")       always
//   failed                    failure, or error (relay lost)   always
//   superseded, cancelled     inactive (if GitHub knew it)     -
import { tagOfRef } from '../../shared/release-tag.ts';
import type { DeploymentView, OutwardChannel } from '../../shared/api.ts';
import type { DeploymentStatus } from '../../shared/deployment.ts';
import { firstLine } from '../../shared/commit.ts';
import { RAN_STATUSES } from '../../shared/deployment.ts';
import type { TargetConfig } from '../config/targets.ts';
import { description, type GithubDeploymentRequest, type GithubState, type GithubStatusRequest } from './github.ts';
import type { PullRequestPayload } from './capture-pull.ts';
import type { AlertOutboxMessage } from './alerts.ts';
import type { PlanCheckPayload } from './plan-checks.ts';
import { notificationEvent, type OutwardEvent } from './notification.ts';
import { deploymentPageUrl, type OutwardSettings } from './settings.ts';
import { slackMessage, type SlackMessage } from './slack.ts';
import type { OtlpTraceRequest } from '../traces/otlp-json.ts';

export type OutboxMessage =
  | { channel: 'github'; kind: 'github.deployment'; deploymentId: string; what: string; payload: { repo: string; request: GithubDeploymentRequest } }
  | {
      channel: 'github';
      kind: 'github.status';
      deploymentId: string;
      what: string;
      /** `githubOf`: the deployment whose GitHub deployment gets the status, when not `deploymentId` itself. */
      payload: { repo: string; request: GithubStatusRequest; githubOf?: string };
    }
  /** A capture's pull request (capture-pull.ts); `deploymentId` holds the capture's id. */
  | { channel: 'github'; kind: 'github.pull'; deploymentId: string; what: string; payload: PullRequestPayload }
  /** A pull request's plan as a check run or commit status (plan-checks.ts); `deploymentId` holds the plan's id. */
  | { channel: 'github'; kind: 'github.plan'; deploymentId: string; what: string; payload: PlanCheckPayload }
  | { channel: 'slack'; kind: 'slack.message'; deploymentId: string; what: string; payload: { message: SlackMessage } }
  | { channel: 'webhook'; kind: 'webhook.event'; deploymentId: string; what: string; payload: { event: OutwardEvent } }
  /** Issue 20: the deployment's trace, once it ended (worker/traces/trace-export.ts). */
  | { channel: 'otlp'; kind: 'otlp.trace'; deploymentId: string; what: string; payload: { request: OtlpTraceRequest } }
  /** Alerts (issue 18): to the house's notify services through the relay, and by email (alerts.ts). */
  | AlertOutboxMessage;

export type OutboxKind = OutboxMessage['kind'];

/** Messages of one deployment on one channel arrive in the order they were queued. */
export function streamOf(message: { channel: OutwardChannel; deploymentId: string }): string {
  return `${message.channel}:${message.deploymentId}`;
}

export interface Change {
  deployment: DeploymentView;
  /** The status last announced for it; null: never announced. */
  announcedStatus: DeploymentStatus | null;
  /** The GitHub state last queued for it; null: none. */
  announcedGithubState: GithubState | null;
  /** GitHub has, or is about to get, a deployment for it (false for one made before outward messages were on). */
  githubKnown: boolean;
  /** The edge gave up on the relay (`relay lost`): an outcome nobody knows. */
  relayLost: boolean;
  /** For a success: the deployment that was live until now, if GitHub knows it. */
  replaced: DeploymentView | null;
  config: TargetConfig;
  settings: OutwardSettings;
  /** A fresh id for a notification. */
  newDeliveryId: () => string;
}

export interface Announcement {
  messages: OutboxMessage[];
  /** What to remember as announced (the GitHub state stays as it was when none was queued). */
  githubState: GithubState | null;
}

export function githubState(status: DeploymentStatus, relayLost: boolean): GithubState {
  switch (status) {
    case 'queued':
    case 'dispatched':
    case 'waiting_for_window':
      return 'queued';
    case 'running':
      return 'in_progress';
    case 'succeeded':
      return 'success';
    case 'rolled_back':
      return 'failure';
    case 'failed':
      return relayLost ? 'error' : 'failure';
    case 'superseded':
    case 'cancelled':
      return 'inactive';
    default: {
      const unreachable: never = status;
      throw new Error(`unknown status ${String(unreachable)}`);
    }
  }
}


function seconds(d: DeploymentView): string {
  return d.startedAt !== null && d.finishedAt !== null ? ` in ${((d.finishedAt - d.startedAt) / 1000).toFixed(1)} s` : '';
}

function statusDescription(d: DeploymentView, state: GithubState): string {
  const doing = d.kind === 'rollback' ? `Rollback of ${d.target}` : `Deploy to ${d.target}`;
  switch (state) {
    case 'queued':
      return description(`Queued: ${d.kind === 'rollback' ? firstLine(d.message) : `${d.trigger} by ${d.actor}`}`);
    case 'in_progress':
      return description(`${doing} running on the relay`);
    case 'success':
      return description(`${doing} succeeded${seconds(d)}`);
    case 'failure':
      return description(d.status === 'rolled_back' ? `Rolled back: ${d.reason ?? 'a step failed'}` : `Failed: ${d.reason ?? 'a step failed'}`);
    case 'error':
      return description(`The relay stopped answering during the deploy (${d.reason ?? 'relay lost'}); outcome unknown`);
    case 'inactive':
      return description(d.status === 'superseded' ? `Superseded by ${d.supersededBy ?? 'a newer commit'}` : `Not deployed: ${d.reason ?? d.status}`);
    default: {
      const unreachable: never = state;
      throw new Error(`unknown state ${String(unreachable)}`);
    }
  }
}

function statusRequest(d: DeploymentView, state: GithubState, change: Change, text: string): GithubStatusRequest {
  const request: GithubStatusRequest = { state, description: text };
  const logUrl = deploymentPageUrl(change.settings, d.id);
  if (logUrl) request.log_url = logUrl;
  if (change.config.environmentUrl && state !== 'inactive') request.environment_url = change.config.environmentUrl;
  if (state === 'success') request.auto_inactive = false;
  return request;
}

export function announcementsFor(change: Change): Announcement {
  const d = change.deployment;
  const messages: OutboxMessage[] = [];
  const repo = change.config.repo;
  let remembered = change.announcedGithubState;

  if (change.settings.github) {
    const neverRan = change.announcedStatus === null && (d.status === 'superseded' || d.status === 'cancelled');
    if (!neverRan && (change.announcedStatus === null || change.githubKnown)) {
      if (change.announcedStatus === null) {
        messages.push({
          channel: 'github',
          kind: 'github.deployment',
          deploymentId: d.id,
          what: 'github deployment',
          payload: {
            repo,
            request: {
              // A release tag's deployment carries the tag as its ref (issue 18); every other, the commit.
              ref: tagOfRef(d.ref) ?? d.sha,
              task: 'deploy',
              auto_merge: false,
              required_contexts: change.config.requiredContexts,
              environment: change.config.environment,
              description: description(d.kind === 'rollback' ? d.message : `${firstLine(d.message) || d.sha.slice(0, 7)} → ${d.target}`),
              payload: { lanyard: { deploymentId: d.id, target: d.target, kind: d.kind, trigger: d.trigger, actor: d.actor } },
              transient_environment: false,
            },
          },
        });
      }
      const state = githubState(d.status, change.relayLost);
      if (state !== change.announcedGithubState) {
        messages.push({ channel: 'github', kind: 'github.status', deploymentId: d.id, what: `github status ${state}`, payload: { repo, request: statusRequest(d, state, change, statusDescription(d, state)) } });
        remembered = state;
      }
      if (state === 'success' && change.replaced) {
        const r = change.replaced;
        const why = d.kind === 'rollback' ? `Rolled back by ${d.id}` : `Replaced by ${d.id} (${d.sha.slice(0, 7)})`;
        // In this deployment's stream, so GitHub hears "replaced" only after it heard "success".
        messages.push({
          channel: 'github',
          kind: 'github.status',
          deploymentId: d.id,
          what: `github status inactive for ${r.id}`,
          payload: { repo, request: statusRequest(r, 'inactive', change, description(why)), githubOf: r.id },
        });
      }
    }
  }

  const ran = RAN_STATUSES.includes(d.status);
  if (ran && d.status !== change.announcedStatus && (change.settings.slack || change.settings.webhook)) {
    const corrected = change.announcedStatus !== null && RAN_STATUSES.includes(change.announcedStatus);
    const wanted = d.status !== 'succeeded' || d.kind === 'rollback' || corrected || change.settings.notifyOnSuccess;
    if (wanted) {
      const event = notificationEvent(d, {
        repo,
        environment: change.config.environment,
        url: deploymentPageUrl(change.settings, d.id),
        corrected,
        deliveryId: change.newDeliveryId(),
      });
      if (change.settings.slack) messages.push({ channel: 'slack', kind: 'slack.message', deploymentId: d.id, what: `slack ${d.status}`, payload: { message: slackMessage(event) } });
      if (change.settings.webhook) messages.push({ channel: 'webhook', kind: 'webhook.event', deploymentId: d.id, what: `webhook ${event.event}`, payload: { event } });
    }
  }
  return { messages, githubState: remembered };
}
