// A deploy asked for by a workflow_run or a repository_dispatch names a commit, and nothing in it
// says when it was asked: a re-run of an old workflow, a dispatch sent late, or a signed body sent
// again after the ledger forgot it, names a commit the branch may have left long ago. Deployed, it
// would move the house behind the branch. The hub knows where the branch stood (push-transitions.ts),
// and by the same rule as for pushes: a commit some push moved the branch on from is behind, unless
// it is the head again (a force push back to it, delivered in order). Such a deploy is refused with
// the reason, which the delivery ledger shows; an operator can still deploy any commit by hand.
import { refused } from './hub-result.ts';
import type { PushTransitions } from './push-transitions.ts';
import type { EnqueueDeploy } from './requests.ts';

type Refusal = ReturnType<typeof refused>;

/** The refusal of a workflow_run or dispatch deploy of a commit the branch has moved on from; null when it may deploy. */
export function behindBranch(request: EnqueueDeploy, head: string | null, pushes: PushTransitions): Refusal | null {
  if (request.trigger !== 'workflow_run' && request.trigger !== 'dispatch') return null;
  // Without a sha a dispatch deploys the head, which is never behind.
  if (!request.sha || request.sha === head) return null;
  const onward = pushes.movedOnFrom(request.sha);
  if (!onward) return null;
  const what = request.trigger === 'workflow_run' ? 'workflow run' : 'repository_dispatch';
  return refused(
    409,
    'behind_branch',
    `${what} for ${short(request.sha)} refused: a push moved the branch on from it (to ${short(onward.after)})` +
      `${head ? ` and its head is ${short(head)}` : ''}, so deploying it would take the house back behind the branch. Deploy it by hand if that is what you want.`,
  );
}

function short(sha: string): string {
  return sha.slice(0, 7);
}
