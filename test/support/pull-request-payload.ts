// The `pull_request` delivery GitHub sends (issue 20: plans), for tests in Node and in workerd alike
// (this file imports nothing of Node's).

/** The repository the tests' `home` target deploys. */
const DEFAULT_REPO = 'octo-home/ha-config';

export interface PullRequestDelivery {
  action: 'opened' | 'synchronize' | 'reopened' | 'closed' | 'edited';
  number: number;
  headSha: string;
  headRef?: string;
  baseRef?: string;
  /** The head's repository; null for a deleted fork. Default: the base repository (same repository). */
  headRepo?: string | null;
  title?: string;
  /** The base repository (default octo-home/ha-config). */
  repo?: string;
}

export function pullRequestPayload(p: PullRequestDelivery): Record<string, unknown> {
  const base = p.repo ?? DEFAULT_REPO;
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
      head: { label: `${(headRepo ?? 'ghost/ha-config').split('/')[0]}:${p.headRef ?? `change-${p.number}`}`, ref: p.headRef ?? `change-${p.number}`, sha: p.headSha, repo: headRepo === null ? null : { full_name: headRepo, fork: headRepo !== base } },
      base: { label: `octo-home:${p.baseRef ?? 'main'}`, ref: p.baseRef ?? 'main', sha: 'f'.repeat(40), repo: repository },
    },
    repository,
    sender: { login: 'ada' },
  };
}
