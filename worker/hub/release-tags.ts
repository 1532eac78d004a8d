// Release tags at the hub (issue 18): which pushed tag is deployed, which tags were seen (name →
// commit), and the gate a pushed tag passes before it is queued. A tag lower than the one in force
// (deployed, or already on its way), or one that is no semantic version, is recorded as ignored
// with the reason (audit `tag.ignored`; the delivery ledger shows it ignored) and deploys nothing.
// An operator may deploy or roll back to any tag seen, lower or not (API `deploy {tag}`,
// `rollback {tag}`): those are deploys of the tag's commit with the tag as their ref, and the
// relay checks the tag on its own remote all the same (relay/pipeline/git-tag.ts).
//
// "The tag in force" is the highest of: the tag of the newest deployment that succeeded with a tag
// (an operator's deploy of a lower tag, or a rollback to one, makes that lower tag the deployed one),
// and the tags queued or with the relay now (so a lower tag pushed after a higher one never
// supersedes it in the queue).
import { firstLine } from '../../shared/commit.ts';
import { newId } from '../../shared/ids.ts';
import { compareSemanticVersions, formatVersion, parseReleaseTag, tagOfRef, type SemanticVersion } from '../../shared/release-tag.ts';
import { quoteInput } from '../http/quote-input.ts';
import type { Hub } from './hub.ts';
import { accepted, refused, type HubResult } from './hub-result.ts';
import { takeDeploy } from './intake.ts';
import type { EnqueueDeploy, EnqueueOutcome } from './requests.ts';

/** The code of a pushed tag the hub did not deploy: the webhook router records the delivery as ignored, not refused. */
export const TAG_IGNORED = 'tag_ignored';

/** Tags seen are few (one a release); a bound all the same, the oldest forgotten first. */
const MAX_TAGS_SEEN = 2_000;

const CREATE_RELEASE_TAGS = `
CREATE TABLE IF NOT EXISTS release_tags (
  name TEXT PRIMARY KEY,
  sha TEXT NOT NULL,
  message TEXT NOT NULL,
  author TEXT,
  seen_at INTEGER NOT NULL
);`;

export interface SeenTag {
  name: string;
  sha: string;
  message: string;
  author: string | null;
  seenAt: number;
}

function prepare(hub: Hub): void {
  hub.sql.exec(CREATE_RELEASE_TAGS);
}

/** Remembers a pushed tag's commit (a tag pushed again, e.g. after a delete, takes its new commit). */
export function rememberTag(hub: Hub, tag: SeenTag): void {
  prepare(hub);
  hub.sql.exec(
    `INSERT INTO release_tags (name, sha, message, author, seen_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET sha = excluded.sha, message = excluded.message, author = excluded.author, seen_at = excluded.seen_at`,
    tag.name, tag.sha, tag.message, tag.author, tag.seenAt,
  );
  hub.sql.exec('DELETE FROM release_tags WHERE name NOT IN (SELECT name FROM release_tags ORDER BY seen_at DESC LIMIT ?)', MAX_TAGS_SEEN);
}

export function seenTag(hub: Hub, name: string): SeenTag | null {
  prepare(hub);
  const row = hub.sql.exec('SELECT name, sha, message, author, seen_at FROM release_tags WHERE name = ?', name).toArray()[0];
  if (!row) return null;
  return { name: String(row.name), sha: String(row.sha), message: String(row.message), author: row.author === null ? null : String(row.author), seenAt: Number(row.seen_at) };
}

/** The tag of the newest deployment that succeeded with one; null when none did. */
export function deployedTag(hub: Hub): { tag: string; deploymentId: string } | null {
  const row = hub.sql
    .exec("SELECT id, ref FROM deployments WHERE status = 'succeeded' AND ref LIKE 'refs/tags/%' ORDER BY seq DESC LIMIT 1")
    .toArray()[0];
  const tag = row ? tagOfRef(String(row.ref)) : null;
  return row && tag ? { tag, deploymentId: String(row.id) } : null;
}

interface TagInForce {
  tag: string;
  version: SemanticVersion;
  deploymentId: string;
  how: string;
}

/** The highest tag deployed, queued or with the relay, as semantic versions under the trigger's pattern. */
function tagInForce(hub: Hub, pattern: string): TagInForce | null {
  const candidates: { tag: string; deploymentId: string; how: string }[] = [];
  const deployed = deployedTag(hub);
  if (deployed) candidates.push({ ...deployed, how: 'deployed' });
  for (const d of hub.deployments.withStatus(['queued', 'dispatched', 'running', 'waiting_for_window'])) {
    const tag = tagOfRef(d.ref);
    if (tag) candidates.push({ tag, deploymentId: d.id, how: d.status });
  }
  let best: TagInForce | null = null;
  for (const c of candidates) {
    const parsed = parseReleaseTag(c.tag, pattern);
    if (parsed.ok && (!best || compareSemanticVersions(parsed.version, best.version) > 0)) best = { ...c, version: parsed.version };
  }
  return best;
}

/**
 * A pushed tag (trigger `tag`): remembered, then queued through the usual intake when it is a
 * semantic version higher than the tag in force; otherwise recorded as ignored, with the reason.
 */
export function takeTagPush(hub: Hub, request: EnqueueDeploy): HubResult<EnqueueOutcome> {
  const tag = tagOfRef(request.ref);
  const trigger = hub.config().trigger;
  if (!tag || !request.sha) return refused(400, 'not_a_tag', 'A tag deploy names refs/tags/<tag> and its commit.');
  if (request.deliveryId && hub.deployments.byDelivery(request.deliveryId)) return takeDeploy(hub, request);
  const now = Date.now();
  rememberTag(hub, { name: tag, sha: request.sha, message: request.message ?? '', author: request.author, seenAt: now });
  const ignore = (reason: string) => {
    hub.audit.record({ at: now, actor: request.actor, action: 'tag.ignored', detail: { tag, sha: request.sha, reason, deliveryId: request.deliveryId }, source: request.source });
    hub.changed();
    return refused(409, TAG_IGNORED, reason);
  };
  if (trigger.type !== 'tag') return ignore(`tag ${tag} not deployed: ${hub.meta.targetName()} no longer deploys tags`);
  const byHand = `an operator may still deploy it (POST …/deploy {"tag": "${tag}"})`;
  const parsed = parseReleaseTag(tag, trigger.pattern);
  if (!parsed.ok) return ignore(`${parsed.reason}, so it is not deployed on push; ${byHand}`);
  const inForce = tagInForce(hub, trigger.pattern);
  if (inForce) {
    const order = compareSemanticVersions(parsed.version, inForce.version);
    if (order <= 0) {
      const relation = order === 0 ? `the same version as ${inForce.tag}` : `lower than ${inForce.tag}`;
      return ignore(`tag ${tag} (${formatVersion(parsed.version)}) is ${relation}, ${inForce.how} as ${inForce.deploymentId}; not deployed on push; ${byHand}`);
    }
  }
  return takeDeploy(hub, request);
}

/** An operator's deploy of a tag seen: its commit, with the tag as the ref, whatever its version. */
export function takeTagDeploy(hub: Hub, request: { tag: string; actor: string; source: string | null }): HubResult<EnqueueOutcome> {
  const seen = seenTag(hub, request.tag);
  if (!seen) return unknownTag(hub, request.tag);
  return takeDeploy(hub, {
    target: hub.meta.targetName(),
    sha: seen.sha,
    ref: `refs/tags/${seen.name}`,
    trigger: 'manual',
    actor: request.actor,
    message: seen.message,
    author: seen.author,
    deliveryId: null,
    source: request.source,
  });
}

/** A rollback to a tag seen: its commit deployed through the pipeline as a rollback, the tag its ref. */
export function takeTagRollback(hub: Hub, request: { tag: string; actor: string; source: string | null }): HubResult<{ deploymentId: string }> {
  const seen = seenTag(hub, request.tag);
  if (!seen) return unknownTag(hub, request.tag);
  const now = Date.now();
  const id = newId('dep', now);
  const message = `Roll back to tag ${seen.name} (${seen.sha.slice(0, 7)} ${firstLine(seen.message)})`.trimEnd();
  hub.deployments.insert({
    id,
    kind: 'rollback',
    sha: seen.sha,
    ref: `refs/tags/${seen.name}`,
    trigger: 'rollback',
    actor: request.actor,
    message,
    author: null,
    deliveryId: null,
    rollbackOf: null,
    restoreBackupId: null,
    createdAt: now,
  });
  hub.audit.record({ at: now, actor: request.actor, action: 'rollback.queued', detail: { deploymentId: id, sha: seen.sha, tag: seen.name, rollbackOf: null, backupId: null }, source: request.source });
  hub.pump();
  hub.changed();
  return accepted({ deploymentId: id });
}

function unknownTag(hub: Hub, tag: string) {
  return refused(
    404,
    'unknown_tag',
    `No tag ${quoteInput(tag)} was pushed to ${hub.config().repo} since ${hub.meta.targetName()} began deploying tags: Lanyard knows a tag's commit only from GitHub's push of it. Push the tag (again), or deploy its commit by sha.`,
  );
}
