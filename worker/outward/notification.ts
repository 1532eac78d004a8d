// A notification: what Slack and the signed webhook are told when a deployment ends. Failures and
// rollbacks always; successes when the target (or NOTIFY_ON_SUCCESS) asks for them. The JSON
// webhook's body is this object plus `timestamp`, so its shape is part of Lanyard's public surface.
import type { DeploymentView } from '../../shared/api.ts';
import type { DriftNotificationEvent } from './drift-notice.ts';

export const NOTIFICATION_EVENTS = ['deployment.succeeded', 'deployment.failed', 'deployment.rolled_back'] as const;
export type NotificationEventName = (typeof NOTIFICATION_EVENTS)[number];

export interface NotificationEvent {
  event: NotificationEventName;
  /** Unique per notification and the same on every retry of it: receivers deduplicate on it. */
  deliveryId: string;
  target: string;
  repo: string;
  environment: string;
  /** This verdict replaces an earlier one (the edge had given the relay up as lost). */
  corrected: boolean;
  /** The deployment's page on the status page, when PUBLIC_URL is set. */
  url: string | null;
  deployment: {
    id: string;
    kind: DeploymentView['kind'];
    status: DeploymentView['status'];
    sha: string;
    ref: string;
    message: string;
    author: string | null;
    reason: string | null;
    trigger: DeploymentView['trigger'];
    actor: string;
    rollbackOf: string | null;
    createdAt: number;
    startedAt: number | null;
    finishedAt: number | null;
    durationMs: number | null;
    backupId: string | null;
    filesChanged: number;
    drift: string[];
  };
}

/** Everything the signed webhook carries: a deployment's end, or new drift on the host (drift-notice.ts). */
export type OutwardEvent = NotificationEvent | DriftNotificationEvent;

export function notificationEvent(d: DeploymentView, context: { repo: string; environment: string; url: string | null; corrected: boolean; deliveryId: string }): NotificationEvent {
  const event: NotificationEventName = d.status === 'succeeded' ? 'deployment.succeeded' : d.status === 'rolled_back' ? 'deployment.rolled_back' : 'deployment.failed';
  return {
    event,
    deliveryId: context.deliveryId,
    target: d.target,
    repo: context.repo,
    environment: context.environment,
    corrected: context.corrected,
    url: context.url,
    deployment: {
      id: d.id,
      kind: d.kind,
      status: d.status,
      sha: d.sha,
      ref: d.ref,
      message: d.message,
      author: d.author,
      reason: d.reason,
      trigger: d.trigger,
      actor: d.actor,
      rollbackOf: d.rollbackOf,
      createdAt: d.createdAt,
      startedAt: d.startedAt,
      finishedAt: d.finishedAt,
      durationMs: d.startedAt !== null && d.finishedAt !== null ? d.finishedAt - d.startedAt : null,
      backupId: d.summary?.backupId ?? null,
      filesChanged: d.summary?.filesChanged.length ?? 0,
      drift: d.summary?.drift ?? [],
    },
  };
}

/** "deploy of 1a2b3c4 rolled back", "rollback to 1a2b3c4 succeeded": the headline both channels use. */
export function headline(e: NotificationEvent): string {
  const what = e.deployment.kind === 'rollback' ? `rollback to ${e.deployment.sha.slice(0, 7)}` : `deploy of ${e.deployment.sha.slice(0, 7)}`;
  const verdict = e.deployment.status === 'rolled_back' ? 'rolled back' : e.deployment.status;
  return `${e.target}: ${what} ${verdict}${e.corrected ? ' (corrected)' : ''}`;
}
