// A demo step (issue 20): a pull request gets a plan. A branch with a change to groups.yaml is
// pushed to the demo's config repository and `refs/pull/<n>/head` is set on it, as GitHub keeps
// it. The signed `pull_request` webhook goes to the edge, the relay plans the head read-only against
// the live host, and the edge posts the result to the GitHub stand-in. With a GitHub App
// configured (GITHUB_APP_ID / GITHUB_APP_PRIVATE_KEY on the edge, `app` on the stand-in) that is a
// check run; with only a token it is a commit status (docs/pull-request-plans.md says why).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GithubStandIn } from '../test/support/github-standin.ts';
import { sendPullRequest } from '../test/support/pull-request.ts';

export interface PullRequestPlanDemo {
  edgeUrl: string;
  webhookSecret: string;
  /** The repository as TARGETS names it, e.g. `demo/home-assistant-config`. */
  repo: string;
  /** The demo's working clone and its bare origin (the relay's `git.remote`). */
  work: string;
  bare: string;
  git: (cwd: string, ...args: string[]) => Promise<string>;
  github: GithubStandIn;
  waitUntil: (what: string, probe: () => Promise<boolean>, timeoutMs: number) => Promise<void>;
  step: (text: string) => void;
  /** The pull request's number (default 1). */
  number?: number;
  /** The target whose plan is shown (every target deploying the base branch plans it); default `home`. */
  target?: string;
}

/** Opens the pull request, sends its webhook, and prints the check (or status) it got; ok when one came. */
export async function showPullRequestPlan(d: PullRequestPlanDemo): Promise<{ ok: boolean; conclusion: string | null }> {
  const number = d.number ?? 1;
  d.step(`A pull request (#${number}) gets a plan: what merging it would do to the house, nothing written`);
  const branch = `more-lights-${number}`;
  await d.git(d.work, 'checkout', '--quiet', '-B', branch, 'main');
  const groups = join(d.work, 'groups.yaml');
  await writeFile(groups, `${await readFile(groups, 'utf8').catch(() => '')}\nupstairs:\n  name: Upstairs\n  entities:\n    - light.landing\n`);
  await d.git(d.work, 'add', '-A');
  await d.git(d.work, 'commit', '--quiet', '-m', 'Group the upstairs lights');
  const sha = await d.git(d.work, 'rev-parse', 'HEAD');
  await d.git(d.work, 'push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`);
  await d.git(d.bare, 'update-ref', `refs/pull/${number}/head`, sha);
  await d.git(d.work, 'checkout', '--quiet', 'main');
  const sent = await sendPullRequest(d.edgeUrl, { action: 'opened', number, headSha: sha, headRef: branch, repo: d.repo, title: 'Group the upstairs lights' }, d.webhookSecret);
  console.log(`  webhook: ${sent.status} ${String(sent.body.reason ?? '')}`);
  const checks = d.github.checks;
  const target = d.target ?? 'home';
  const runs = () => checks.runsOn(sha).filter((r) => r.name === `Lanyard plan (${target})`);
  const statuses = () => checks.commitStatuses.filter((s) => s.sha === sha && s.context === `lanyard/plan/${target}`);
  const finished = () => runs().some((r) => r.status === 'completed') || statuses().some((s) => s.state !== 'pending');
  await d.waitUntil(`the plan of #${number} on GitHub`, async () => finished(), 60_000).catch(() => undefined);
  const run = runs().at(-1);
  if (run) {
    console.log(`  check run "${run.name}": ${run.conclusion} — ${run.title}\n${run.summary.split('\n').map((l) => `    ${l}`).join('\n')}`);
    return { ok: run.status === 'completed', conclusion: run.conclusion };
  }
  const status = statuses().at(-1);
  if (status) {
    console.log(`  commit status ${status.context}: ${status.state} — ${status.description}${status.targetUrl ? ` (${status.targetUrl})` : ''}`);
    return { ok: status.state !== 'pending', conclusion: status.state };
  }
  console.log('  no plan reached GitHub');
  return { ok: false, conclusion: null };
}
