// A push of a tag (issue 18, release tags): deployed by each target whose trigger is
// `{ type: "tag", pattern }` and whose glob it matches; every other target says why not.
//
// What GitHub's push carries for a tag: `ref` is `refs/tags/<tag>`; `after` is what the ref points
// at, which for an annotated tag is the tag OBJECT, not a commit; `head_commit` is the commit the tag
// points at (for both kinds, consistently since GitHub's change of 2021-10-01). So the job's commit
// is `head_commit.id`, never `after`. The relay checks it itself: the tag, fetched from its own
// remote, must peel to that commit (relay/pipeline/git-tag.ts).
//
// Whether a matching tag is lower than the one deployed, or no semantic version at all, is the
// hub's to judge (worker/hub/release-tags.ts): only it knows what is deployed.
import { tagMatches } from '../../shared/release-tag.ts';
import type { TargetConfig } from '../config/targets.ts';
import type { PushEvent } from './github-events.ts';
import type { DeliveryRoute } from './route-delivery.ts';

const ZERO_SHA = /^0{40}$/;
const SHA = /^[0-9a-f]{40}$/;

/** Routes a `refs/tags/…` push for the targets of its repository (`mine`), into `route`. */
export function routeTagPush(push: PushEvent, mine: readonly TargetConfig[], route: DeliveryRoute): DeliveryRoute {
  const tag = push.ref.slice('refs/tags/'.length);
  const tagTargets = mine.filter((t) => t.trigger.type === 'tag');
  if (!tagTargets.length) {
    route.ignored.push({ target: null, reason: `tag push (${tag}); only branch pushes deploy` });
    return route;
  }
  const commit = push.head_commit?.id ?? null;
  if (commit && SHA.test(commit)) route.sha = commit;
  const actor = push.pusher?.name ?? push.sender?.login ?? 'github';
  const message = push.head_commit?.message ?? null;
  const author = push.head_commit?.author?.name ?? push.head_commit?.author?.username ?? null;
  for (const t of mine) {
    if (t.trigger.type !== 'tag') {
      route.ignored.push({ target: t.name, reason: `tag push (${tag}); ${t.name} deploys branch ${t.branch}, not tags` });
      continue;
    }
    const pattern = t.trigger.pattern;
    if (push.deleted || ZERO_SHA.test(push.after)) {
      route.ignored.push({ target: t.name, reason: `tag ${tag} was deleted; a deletion deploys nothing (${t.name} stays as it is)` });
      continue;
    }
    if (!tagMatches(pattern, tag)) {
      route.ignored.push({ target: t.name, reason: `tag ${tag} does not match "${pattern}", the tags ${t.name} deploys` });
      continue;
    }
    if (!commit || !SHA.test(commit)) {
      // `after` may be an annotated tag's own object: deploying it as a commit would only fail later.
      route.ignored.push({ target: t.name, reason: `the push of tag ${tag} names no commit (no head_commit); deploy it by hand with its commit's sha` });
      continue;
    }
    route.deploy.push({ target: t.name, sha: commit, ref: push.ref, trigger: 'tag', actor, message, author });
  }
  return route;
}
