// GitHub Deployments: the requests Lanyard makes so a repository's "Deployments" and its
// environment show what the house runs. One GitHub deployment per Lanyard deployment (ref = the
// commit, or the release tag of a tag deployment), then its statuses in order: queued, in_progress, success | failure | error, and inactive
// once something replaced it.
import { z } from 'zod';
import { attempt, type Attempt } from './attempt.ts';

export const GITHUB_API_VERSION = '2022-11-28';
export const USER_AGENT = 'lanyard-edge/0.1.0';

/** GitHub's deployment states that Lanyard uses. */
export type GithubState = 'queued' | 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

/** The body of `POST /repos/{owner}/{repo}/deployments`. */
export interface GithubDeploymentRequest {
  ref: string;
  task: 'deploy';
  auto_merge: false;
  required_contexts: string[];
  environment: string;
  description: string;
  payload: { lanyard: { deploymentId: string; target: string; kind: string; trigger: string; actor: string } };
  transient_environment: false;
}

/** The body of `POST /repos/{owner}/{repo}/deployments/{id}/statuses`. */
export interface GithubStatusRequest {
  state: GithubState;
  description: string;
  log_url?: string;
  environment_url?: string;
  /** Lanyard marks the deployment a success replaced inactive itself (GitHub never does for production environments). */
  auto_inactive?: boolean;
}

export interface GithubApi {
  apiUrl: string;
  token: string;
}

/** The headers of every GitHub REST call the edge makes (deployments, statuses, pull requests). */
export function githubHeaders(api: GithubApi): Record<string, string> {
  return {
    Authorization: `Bearer ${api.token}`,
    Accept: 'application/vnd.github+json',
    'X-GitHub-Api-Version': GITHUB_API_VERSION,
    'User-Agent': USER_AGENT,
    'Content-Type': 'application/json',
  };
}

/** `/repos/<owner>/<name>`, each part encoded. */
export function repoPath(repo: string): string {
  const [owner = '', name = ''] = repo.split('/');
  return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
}

const CreatedDeployment = z.object({ id: z.number().int() });
const ListedDeployments = z.array(z.object({ id: z.number().int(), payload: z.unknown() }));

export type GithubOutcome<T> = { ok: true; value: T } | Extract<Attempt, { ok: false }>;

/** GitHub's description field holds 140 characters. */
export function description(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= 140 ? line : `${line.slice(0, 139)}…`;
}

export async function createDeployment(api: GithubApi, repo: string, request: GithubDeploymentRequest): Promise<GithubOutcome<number>> {
  const answer = await attempt(`${api.apiUrl}${repoPath(repo)}/deployments`, { method: 'POST', headers: githubHeaders(api), body: JSON.stringify(request) });
  if (!answer.ok) return answer;
  // 202 means GitHub merged the default branch into the ref instead of deploying: not with auto_merge false.
  const parsed = CreatedDeployment.safeParse(answer.body);
  if (answer.status !== 201 || !parsed.success) {
    return { ok: false, retry: false, error: `GitHub answered ${answer.status} without a deployment: ${JSON.stringify(answer.body).slice(0, 200)}`, retryAfterMs: null };
  }
  return { ok: true, value: parsed.data.id };
}

/**
 * The GitHub deployment already made for this Lanyard deployment, if an earlier attempt created it
 * but its answer was lost (a timeout, or the hub evicted mid-request): creating it again would leave
 * a duplicate on the repository.
 */
export async function findDeployment(api: GithubApi, repo: string, request: GithubDeploymentRequest): Promise<GithubOutcome<number | null>> {
  // A commit is looked up by `sha`, a release tag (issue 18) by `ref`: GitHub lists by either.
  const byRef: Record<string, string> = /^[0-9a-f]{40}$/.test(request.ref) ? { sha: request.ref } : { ref: request.ref };
  const query = new URLSearchParams({ ...byRef, environment: request.environment, task: request.task, per_page: '100' });
  const answer = await attempt(`${api.apiUrl}${repoPath(repo)}/deployments?${query}`, { method: 'GET', headers: githubHeaders(api) });
  if (!answer.ok) return answer;
  const parsed = ListedDeployments.safeParse(answer.body);
  if (!parsed.success) return { ok: true, value: null };
  const mine = parsed.data.find((d) => {
    const payload = (typeof d.payload === 'string' ? safeJson(d.payload) : d.payload) as { lanyard?: { deploymentId?: unknown } } | null;
    return payload?.lanyard?.deploymentId === request.payload.lanyard.deploymentId;
  });
  return { ok: true, value: mine?.id ?? null };
}

export async function createStatus(api: GithubApi, repo: string, githubId: number, request: GithubStatusRequest): Promise<GithubOutcome<null>> {
  const answer = await attempt(`${api.apiUrl}${repoPath(repo)}/deployments/${githubId}/statuses`, { method: 'POST', headers: githubHeaders(api), body: JSON.stringify(request) });
  return answer.ok ? { ok: true, value: null } : answer;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
