// The API of release tags (issue 18): `POST …/deploy {tag}` deploys the commit of a tag the target
// has seen pushed, lower than the one deployed or not (an operator's choice, unlike a push); and
// `POST …/rollback {tag}` deploys it as a rollback. Both go through the queue and the relay's
// pipeline like any deploy, with `refs/tags/<tag>` as the ref, so the relay checks the tag on its
// own remote. An unknown tag is a 404 that says Lanyard only knows tags it saw pushed.
import type { Context } from 'hono';
import type { AppContext } from '../http/access.ts';
import { requestSource } from '../http/request-source.ts';
import { hubFor } from '../hub/hub-for.ts';
import { unwrap } from '../hub/hub-result.ts';

/** `POST …/deploy {tag}`: 202 with the deployment (and what it superseded), as a deploy by sha answers. */
export async function deployTag(c: Context<AppContext>, target: string, tag: string, actor: string): Promise<Response> {
  const hub = hubFor(c.env, target);
  const outcome = unwrap(await hub.deployTag(target, tag, actor, requestSource(c.req.raw)));
  const { deployment } = unwrap(await hub.deployment(target, outcome.deploymentId));
  return c.json({ deployment, superseded: outcome.superseded }, 202);
}

/** `POST …/rollback {tag}`: 202 with the rollback deployment, as a rollback by deploymentId answers. */
export async function rollbackToTag(c: Context<AppContext>, target: string, tag: string, actor: string): Promise<Response> {
  const hub = hubFor(c.env, target);
  const { deploymentId } = unwrap(await hub.rollbackToTag(target, tag, actor, requestSource(c.req.raw)));
  const { deployment } = unwrap(await hub.deployment(target, deploymentId));
  return c.json({ deployment }, 202);
}
