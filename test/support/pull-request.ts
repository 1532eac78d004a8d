// A pull request as GitHub has it, for end-to-end tests of plans (issue 20): the head commit pushed
// to a branch of the bare config repository, `refs/pull/<n>/head` set there as GitHub keeps it, and
// the signed `pull_request` delivery GitHub would send for it.
import { TEST_REPO, TEST_SECRETS } from './house.ts';
import { webhookRequestInit } from './webhook-delivery.ts';

export interface PullRequestDelivery {
  action: 'opened' | 'synchronize' | 'reopened' | 'closed' | 'edited';
  number: number;
  headSha: string;
  headRef?: string;
  baseRef?: string;
  /** The head's repository; null for a deleted fork. Default: the base repository (same repository). */
  headRepo?: string | null;
  title?: string;
  /** The base repository (default TEST_REPO). */
  repo?: string;
}

export function pullRequestPayload(p: PullRequestDelivery): Record<string, unknown> {
  const base = p.repo ?? TEST_REPO;
  const headRepo = p.headRepo === undefined ? base : p.headRepo;
  const repository = { id: 1296269, full_name: base, name: base.split('/')[1], private: true, owner: { login: base.split('/')[0] } };
  return {
    action: p.action,
    number: p.number,
    pull_request: {
      number: p.number,
      state: p.action === 'closed' ? 'closed' : 'open',
      title: p.title ?? `Change #${p.number}`,
      user: { login: headRepo && headRepo !== base ? headRepo.split('/')[0] : 'ada' },
      head: { label: `${(headRepo ?? 'ghost/ha-config').split('/')[0]}:${p.headRef ?? `change-${p.number}`}`, ref: p.headRef ?? `change-${p.number}`, sha: p.headSha, repo: headRepo === null ? null : { full_name: headRepo, fork: headRepo !== TEST_REPO } },
      base: { label: `octo-home:${p.baseRef ?? 'main'}`, ref: p.baseRef ?? 'main', sha: 'f'.repeat(40), repo: repository },
    },
    repository,
    sender: { login: 'ada' },
  };
}

/** Sends the signed delivery; answers GitHub's view of it (status and body). */
export async function sendPullRequest(edgeUrl: string, p: PullRequestDelivery, secret: string = TEST_SECRETS.webhookSecret): Promise<{ status: number; body: Record<string, unknown> }> {
  const init = await webhookRequestInit({ event: 'pull_request', payload: pullRequestPayload(p), secret });
  const response = await fetch(`${edgeUrl}/webhooks/github`, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
