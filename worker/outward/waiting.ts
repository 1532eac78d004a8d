// Why the newest commit is not deploying: a target that deploys after a workflow (or on a
// repository_dispatch) has seen the branch move, and nothing has been queued for that commit yet.
// When the workflow already concluded without success for that commit, it says so instead of
// "waiting": nothing will deploy it unless a fix is pushed or the workflow is re-run.
import type { TargetStatus, Waiting } from '../../shared/api.ts';
import type { TargetConfig } from '../config/targets.ts';
import type { StoredVerdict } from '../hub/workflow-verdicts.ts';

export function waitingFor(
  config: TargetConfig,
  head: TargetStatus['branchHead'],
  queuedForSha: (sha: string) => boolean,
  verdictFor: (sha: string) => StoredVerdict | null = () => null,
): Waiting | null {
  // A tag target deploys tags, not the branch's head: it waits for no one about the head (issue 18's tags show their own state).
  if (!head || config.trigger.type === 'push' || config.trigger.type === 'tag' || queuedForSha(head.sha)) return null;
  const short = head.sha.slice(0, 7);
  if (config.trigger.type === 'workflow_run') {
    const workflow = config.trigger.workflow;
    // A verdict is about one commit and the workflow the target waits for now.
    const verdict = verdictFor(head.sha);
    const known = verdict && verdict.workflow === workflow ? verdict : null;
    return {
      for: 'workflow',
      workflow,
      eventType: null,
      sha: head.sha,
      message: head.message,
      since: head.seenAt,
      conclusion: known?.conclusion ?? null,
      url: known?.url ?? null,
      text: known?.conclusion
        ? `workflow "${workflow}" concluded ${known.conclusion} on ${short}: not deployed; push a fix or re-run the workflow`
        : known
          ? `waiting for workflow "${workflow}" on ${short}: it is running`
          : `waiting for workflow "${workflow}" on ${short}`,
    };
  }
  return {
    for: 'dispatch',
    workflow: null,
    eventType: config.trigger.eventType,
    sha: head.sha,
    message: head.message,
    since: head.seenAt,
    conclusion: null,
    url: null,
    text: `waiting for a repository_dispatch "${config.trigger.eventType}" to deploy ${short}`,
  };
}
