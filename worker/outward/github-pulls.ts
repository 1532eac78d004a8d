// GitHub pull requests for captures: one open pull request per capture branch. The open one for the
// head is looked up first (GET …/pulls?head=owner:branch&state=open) and its body updated (PATCH);
// otherwise one is created (POST …/pulls). A 422 on create means one appeared meanwhile: looked up
// again and updated. The token needs "Pull requests: read and write" (fine-grained) on the repository.
import { z } from 'zod';
import { attempt } from './attempt.ts';
import type { PullRequestPayload } from './capture-pull.ts';
import { githubHeaders, repoPath, type GithubApi, type GithubOutcome } from './github.ts';

const PullRequest = z.object({ number: z.number().int(), html_url: z.string() });

function pullsPath(api: GithubApi, repo: string): string {
  return `${api.apiUrl}${repoPath(repo)}/pulls`;
}

async function findOpen(api: GithubApi, p: PullRequestPayload): Promise<GithubOutcome<z.infer<typeof PullRequest> | null>> {
  const owner = p.repo.split('/')[0] ?? '';
  const query = new URLSearchParams({ head: `${owner}:${p.head}`, state: 'open', per_page: '10' });
  const answer = await attempt(`${pullsPath(api, p.repo)}?${query}`, { method: 'GET', headers: githubHeaders(api) });
  if (!answer.ok) return answer;
  const listed = z.array(PullRequest).safeParse(answer.body);
  return { ok: true, value: listed.success ? (listed.data[0] ?? null) : null };
}

async function update(api: GithubApi, p: PullRequestPayload, number: number): Promise<GithubOutcome<string>> {
  const answer = await attempt(`${pullsPath(api, p.repo)}/${number}`, { method: 'PATCH', headers: githubHeaders(api), body: JSON.stringify({ title: p.title, body: p.body }) });
  if (!answer.ok) return answer;
  const parsed = PullRequest.safeParse(answer.body);
  return { ok: true, value: parsed.success ? parsed.data.html_url : '' };
}

/** Opens the pull request for the capture's branch, or updates the one already open; its URL. */
export async function openOrUpdatePull(api: GithubApi, p: PullRequestPayload): Promise<GithubOutcome<string>> {
  const open = await findOpen(api, p);
  if (!open.ok) return open;
  if (open.value) return update(api, p, open.value.number);
  const created = await attempt(pullsPath(api, p.repo), {
    method: 'POST',
    headers: githubHeaders(api),
    body: JSON.stringify({ title: p.title, head: p.head, base: p.base, body: p.body, maintainer_can_modify: false }),
  });
  if (!created.ok) {
    if (created.error.includes(' 422')) {
      // "A pull request already exists": made between the look-up and now (an earlier attempt whose answer was lost).
      const again = await findOpen(api, p);
      if (again.ok && again.value) return update(api, p, again.value.number);
    }
    return created;
  }
  const parsed = PullRequest.safeParse(created.body);
  return { ok: true, value: parsed.success ? parsed.data.html_url : '' };
}
