// The parts of GitHub's webhook payloads that Lanyard reads. Loose objects: GitHub adds fields
// often, and an extra field must never turn a real push into an error.
import { z } from 'zod';

const Repository = z.looseObject({ full_name: z.string() });
const Author = z.looseObject({ name: z.string().optional(), username: z.string().optional() });

export const PushEvent = z.looseObject({
  ref: z.string(),
  before: z.string().optional(),
  after: z.string(),
  created: z.boolean().optional(),
  deleted: z.boolean().optional(),
  forced: z.boolean().optional(),
  repository: Repository,
  head_commit: z.looseObject({ id: z.string(), message: z.string(), author: Author.optional() }).nullable().optional(),
  pusher: z.looseObject({ name: z.string().optional() }).optional(),
  sender: z.looseObject({ login: z.string() }).optional(),
});
export type PushEvent = z.infer<typeof PushEvent>;

export const WorkflowRunEvent = z.looseObject({
  action: z.string(),
  repository: Repository,
  workflow_run: z.looseObject({
    name: z.string().nullable().optional(),
    path: z.string().optional(),
    head_sha: z.string(),
    head_branch: z.string().nullable(),
    event: z.string(),
    status: z.string().nullable().optional(),
    conclusion: z.string().nullable(),
    head_repository: Repository.nullable().optional(),
    head_commit: z.looseObject({ message: z.string(), author: Author.nullable().optional() }).nullable().optional(),
    html_url: z.string().optional(),
  }),
  sender: z.looseObject({ login: z.string() }).optional(),
});
export type WorkflowRunEvent = z.infer<typeof WorkflowRunEvent>;

export const RepositoryDispatchEvent = z.looseObject({
  action: z.string(),
  branch: z.string().optional(),
  client_payload: z.looseObject({ sha: z.string().optional(), ref: z.string().optional() }).nullable().optional(),
  repository: Repository,
  sender: z.looseObject({ login: z.string() }).optional(),
});
export type RepositoryDispatchEvent = z.infer<typeof RepositoryDispatchEvent>;

export const PingEvent = z.looseObject({
  zen: z.string().optional(),
  hook_id: z.number().optional(),
  repository: Repository.optional(),
});

/**
 * A pull request's event (issue 20: plans). What decides whether the relay fetches anything is
 * strict: the head's sha is a full sha, the base's ref and both repositories are named; the head's
 * repository is null when its fork was deleted. The rest stays loose, as GitHub adds fields.
 */
export const PullRequestEvent = z.looseObject({
  action: z.string(),
  number: z.number().int().positive(),
  repository: Repository,
  pull_request: z.looseObject({
    number: z.number().int().positive(),
    title: z.string().optional(),
    user: z.looseObject({ login: z.string() }).nullable().optional(),
    head: z.looseObject({ sha: z.string().regex(/^[0-9a-f]{40}$/, 'a full 40-character sha'), ref: z.string().optional(), repo: Repository.nullable() }),
    base: z.looseObject({ ref: z.string().min(1).max(255), repo: Repository }),
  }),
  sender: z.looseObject({ login: z.string() }).optional(),
});
export type PullRequestEvent = z.infer<typeof PullRequestEvent>;
