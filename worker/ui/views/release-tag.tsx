/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Release tags on the status page (issue 18): the tag a deployment deployed, beside its commit in
// the history and the deployment's facts; and, for a target deploying tags, what its trigger is.
import type { DeploymentView } from '../../../shared/api.ts';
import { tagOfRef } from '../../../shared/release-tag.ts';
import type { TargetConfig } from '../../config/targets.ts';

/** The release tag of a deployment whose ref is `refs/tags/<tag>`; nothing for a branch deployment. */
export function ReleaseTagLabel(props: { deployment: DeploymentView }) {
  const tag = tagOfRef(props.deployment.ref);
  if (!tag) return null;
  return (
    <span class="badge" data-tag={tag} title={`release tag ${tag}`}>
      {tag}
    </span>
  );
}

/** " · deploys tags v*" after the target's name, for a target whose trigger is a tag glob. */
export function TagTriggerSummary(props: { target: TargetConfig }) {
  const trigger = props.target.trigger;
  if (trigger.type !== 'tag') return null;
  return <span data-trigger="tag"> · deploys tags {trigger.pattern}</span>;
}
