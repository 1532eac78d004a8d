// How a plan reaches GitHub (worker/outward/plan-checks.ts), against the GitHub stand-in: with only a
// personal access token, a commit status with context `lanyard/plan/<target>` (GitHub refuses check
// runs to such a token, as the stand-in does); with a GitHub App, one check run created and then
// updated in place, authenticated by an installation token the App's JWT was exchanged for.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGithubStandIn, type GithubStandIn } from '../support/github-standin.ts';

// The Worker's module, loaded by a path the Node typecheck does not follow (its types name
// Cloudflare's runtime); the shapes it takes are spelled here.
interface PlanReport { status: string; conclusion: string | null; title: string; summary: string; statusState: string; statusLine: string }
interface PlanCheckPayload { repo: string; target: string; planId: string; sha: string; report: PlanReport; detailsUrl: string | null }
interface Outbox { githubId(id: string): number | null; linkGithub(id: string, githubId: number, now: number): void }
type Auth = { app: { apiUrl: string; appId: string; privateKeyPem: string } | null; token: { apiUrl: string; token: string } | null };
const PLAN_CHECKS = '../../worker/outward/plan-checks.ts';
const { sendPlanCheck } = (await import(PLAN_CHECKS)) as { sendPlanCheck: (outbox: Outbox, auth: Auth, p: PlanCheckPayload) => Promise<unknown> };

const TOKEN = 'github_pat_plan_checks_0123456789';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
let github: GithubStandIn;

const report = (over: Partial<PlanReport>): PlanReport => ({ status: 'queued', conclusion: null, title: 'Waiting for the relay', summary: 'queued', statusState: 'pending', statusLine: 'Plan waiting for the relay', ...over });
const payload = (sha: string, r: PlanReport): PlanCheckPayload => ({ repo: 'octo-home/ha-config', target: 'home', planId: 'pln_0000000000000000000b', sha, report: r, detailsUrl: 'http://127.0.0.1:1/targets/home#pull-plans' });

/** The one thing of the outbox a check run needs: where its id is kept. */
function memoryOutbox(): Outbox {
  const ids = new Map<string, number>();
  return { githubId: (id: string) => ids.get(id) ?? null, linkGithub: (id: string, githubId: number) => void ids.set(id, githubId) };
}

beforeAll(async () => {
  github = await startGithubStandIn({ token: TOKEN, app: { appId: '99', publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), installationId: 12 } });
});
afterAll(async () => github?.close());

describe('a plan on GitHub', () => {
  it('is a commit status with only a token', async () => {
    const sha = 'c'.repeat(40);
    const token = { apiUrl: github.url, token: TOKEN };
    expect(await sendPlanCheck(memoryOutbox(), { app: null, token }, payload(sha, report({})))).toEqual({ ok: true, value: null });
    const done = report({ status: 'completed', conclusion: 'neutral', title: '1 file to write, 0 files to delete; Home Assistant will restart', statusState: 'success', statusLine: '1 file to write, 0 files to delete; Home Assistant will restart' });
    expect(await sendPlanCheck(memoryOutbox(), { app: null, token }, payload(sha, done))).toEqual({ ok: true, value: null });
    expect(github.checks.commitStatuses.map((s) => [s.sha, s.context, s.state, s.description])).toEqual([
      [sha, 'lanyard/plan/home', 'pending', 'Plan waiting for the relay'],
      [sha, 'lanyard/plan/home', 'success', '1 file to write, 0 files to delete; Home Assistant will restart'],
    ]);
    expect(github.checks.checkRuns).toHaveLength(0);
  });

  it('is one check run, created then updated, with a GitHub App (PKCS#1 key as GitHub hands it out)', async () => {
    const sha = 'd'.repeat(40);
    const outbox = memoryOutbox();
    const app = { apiUrl: github.url, appId: '99', privateKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() };
    expect(await sendPlanCheck(outbox, { app, token: null }, payload(sha, report({})))).toEqual({ ok: true, value: null });
    const finished = report({ status: 'completed', conclusion: 'success', title: '1 file to write; reloads group', summary: '### Files to write (1)' });
    expect(await sendPlanCheck(outbox, { app, token: null }, payload(sha, finished))).toEqual({ ok: true, value: null });
    const runs = github.checks.runsOn(sha);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ name: 'Lanyard plan (home)', externalId: 'pln_0000000000000000000b', status: 'completed', conclusion: 'success', history: ['queued/', 'completed/success'] });
    // The installation token was asked for once and reused.
    expect(github.requests.filter((r) => r.path === '/app/installations/12/access_tokens')).toHaveLength(1);
  });

  it('cannot be a check run made with a personal access token (GitHub answers 403)', async () => {
    const answer = await fetch(`${github.url}/repos/octo-home/ha-config/check-runs`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28', 'User-Agent': 't' },
      body: JSON.stringify({ name: 'x', head_sha: 'e'.repeat(40) }),
    });
    expect(answer.status).toBe(403);
  });
});
