// Whether a delivery refused for its signature looks like one GitHub sent: the headers GitHub puts
// on every delivery, an event Lanyard subscribes to, and a body of that event's shape. Anyone can
// imitate all of it, so this proves nothing; it separates GitHub with a wrong secret (the setup
// mistake the overview warns about) from scanners and junk, so that these neither raise the warning
// nor put their text in the ledger. Only the look is judged: nothing of an unsigned body is kept.
import type { z } from 'zod';
import { PingEvent, PullRequestEvent, PushEvent, RepositoryDispatchEvent, WorkflowRunEvent } from './github-events.ts';

/** The events Lanyard asks GitHub for, each with the shape GitHub gives its body. */
const SHAPES = {
  push: PushEvent,
  workflow_run: WorkflowRunEvent,
  repository_dispatch: RepositoryDispatchEvent,
  pull_request: PullRequestEvent,
  ping: PingEvent.required({ zen: true, hook_id: true }),
} as const satisfies Record<string, z.ZodType>;

export type GithubEventName = keyof typeof SHAPES;

export const GITHUB_EVENT_NAMES = Object.keys(SHAPES) as GithubEventName[];

export function isGithubEventName(value: string | null): value is GithubEventName {
  return value !== null && Object.hasOwn(SHAPES, value);
}

/** GitHub's delivery ids are GUIDs. */
const DELIVERY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Every delivery GitHub sends has this user agent. */
const HOOKSHOT = /^GitHub-Hookshot\/[0-9a-f]{1,40}$/;
/** What GitHub sends for a webhook with a secret; without one it sends no signature at all. */
const SIGNATURE = /^sha256=[0-9a-f]{64}$/;
/** A refused body larger than this is not parsed to judge its look: junk costs at most this much. */
export const LOOK_LIMIT_BYTES = 1024 * 1024;

/** GitHub's headers, from its user agent to an event Lanyard subscribes to. */
export function headersLookLikeGithub(headers: Headers): boolean {
  const signature = headers.get('X-Hub-Signature-256');
  return (
    HOOKSHOT.test(headers.get('User-Agent') ?? '') &&
    isGithubEventName(headers.get('X-GitHub-Event')) &&
    DELIVERY_ID.test(headers.get('X-GitHub-Delivery') ?? '') &&
    (signature === null || SIGNATURE.test(signature)) &&
    /^application\/json\b/i.test(headers.get('Content-Type') ?? '')
  );
}

/** GitHub's headers and a JSON body of the shape GitHub gives that event. */
export function looksLikeGithub(headers: Headers, body: Uint8Array): boolean {
  if (!headersLookLikeGithub(headers) || body.byteLength > LOOK_LIMIT_BYTES) return false;
  const event = headers.get('X-GitHub-Event') as GithubEventName;
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return false;
  }
  return SHAPES[event].safeParse(payload).success;
}
