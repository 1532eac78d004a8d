// Why the newest commit is not deploying: a target that deploys after a workflow (or on a
// repository_dispatch) has seen the branch move, and nothing has been queued for that commit yet.
import type { TargetStatus, Waiting } from '../../shared/api.ts';
import type { TargetConfig } from '../config/targets.ts';

export function waitingFor(config: TargetConfig, head: TargetStatus['branchHead'], queuedForSha: (sha: string) => boolean): Waiting | null {
  if (!head || config.trigger.type === 'push' || queuedForSha(head.sha)) return null;
  const short = head.sha.slice(0, 7);
  if (config.trigger.type === 'workflow_run') {
    return {
      for: 'workflow',
      workflow: config.trigger.workflow,
      eventType: null,
      sha: head.sha,
      message: head.message,
      since: head.seenAt,
      text: `waiting for workflow "${config.trigger.workflow}" on ${short}`,
    };
  }
  return {
    for: 'dispatch',
    workflow: null,
    eventType: config.trigger.eventType,
    sha: head.sha,
    message: head.message,
    since: head.seenAt,
    text: `waiting for a repository_dispatch "${config.trigger.eventType}" to deploy ${short}`,
  };
}
