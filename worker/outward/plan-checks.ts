// Sending a pull request's plan to GitHub (plan-report.ts says what): with a GitHub App, a check run
// on the head commit — created once (POST …/check-runs) and updated after (PATCH …/check-runs/{id}),
// its id kept beside the plan — and with only a token, a commit status (POST …/statuses/{sha}, context
// `lanyard/plan/<target>`), since GitHub lets only Apps create check runs. The status's link is the
// target's status page, where the whole plan shows.
import { z } from 'zod';
import { attempt } from './attempt.ts';
import { installationToken, type GithubAppSettings } from './github-app.ts';
import { description, githubHeaders, repoPath, type GithubApi, type GithubOutcome } from './github.ts';
import type { Outbox } from './outbox.ts';
import { checkRunName, statusContext, type PlanReport } from './plan-report.ts';

export interface PlanCheckPayload {
  repo: string;
  target: string;
  planId: string;
  sha: string;
  report: PlanReport;
  /** The target's status page, where the plan shows in full; null without PUBLIC_URL. */
  detailsUrl: string | null;
}

export interface PlanCheckAuth {
  app: GithubAppSettings | null;
  token: GithubApi | null;
}

const CheckRun = z.object({ id: z.number().int() });

export async function sendPlanCheck(outbox: Outbox, auth: PlanCheckAuth, p: PlanCheckPayload): Promise<GithubOutcome<null>> {
  if (auth.app) return sendCheckRun(outbox, auth.app, p);
  if (auth.token) return sendCommitStatus(auth.token, p);
  return { ok: false, retry: false, error: 'no GitHub App or token is configured any more', retryAfterMs: null };
}

async function sendCheckRun(outbox: Outbox, app: GithubAppSettings, p: PlanCheckPayload): Promise<GithubOutcome<null>> {
  const token = await installationToken(app, p.repo);
  if (!token.ok) return token;
  const api = { apiUrl: app.apiUrl, token: token.value };
  const { report } = p;
  const body = {
    status: report.status,
    ...(report.conclusion ? { conclusion: report.conclusion, completed_at: new Date().toISOString() } : {}),
    ...(p.detailsUrl ? { details_url: p.detailsUrl } : {}),
    output: { title: report.title, summary: report.summary },
  };
  // The check run's id is kept where the GitHub deployment of a deployment is (the plan's id stands in).
  const known = outbox.githubId(p.planId);
  if (known !== null) {
    const patched = await attempt(`${api.apiUrl}${repoPath(p.repo)}/check-runs/${known}`, { method: 'PATCH', headers: githubHeaders(api), body: JSON.stringify(body) });
    return patched.ok ? { ok: true, value: null } : patched;
  }
  const created = await attempt(`${api.apiUrl}${repoPath(p.repo)}/check-runs`, {
    method: 'POST',
    headers: githubHeaders(api),
    body: JSON.stringify({ name: checkRunName(p.target), head_sha: p.sha, external_id: p.planId, ...body }),
  });
  if (!created.ok) return created;
  const parsed = CheckRun.safeParse(created.body);
  if (!parsed.success) return { ok: false, retry: false, error: 'GitHub answered without a check run', retryAfterMs: null };
  outbox.linkGithub(p.planId, parsed.data.id, Date.now());
  return { ok: true, value: null };
}

async function sendCommitStatus(api: GithubApi, p: PlanCheckPayload): Promise<GithubOutcome<null>> {
  const answer = await attempt(`${api.apiUrl}${repoPath(p.repo)}/statuses/${p.sha}`, {
    method: 'POST',
    headers: githubHeaders(api),
    body: JSON.stringify({ state: p.report.statusState, context: statusContext(p.target), description: description(p.report.statusLine), ...(p.detailsUrl ? { target_url: p.detailsUrl } : {}) }),
  });
  return answer.ok ? { ok: true, value: null } : answer;
}
