// Pull-request plans end to end (issue 20), the whole stack on 127.0.0.1: the edge under wrangler
// dev, the GitHub stand-in (with a GitHub App: check runs need one), a relay process planning over a
// real sshd, the config repository a bare git repository whose `refs/pull/<n>/head` the test sets as
// GitHub would. Each pull request's check run must say what a merge would do — reloads, a restart, a
// refused link with its fix, a conflict with an edit made on the host — and the host must be
// byte-identical after every plan. A fork's head is never fetched: the relay's git (a wrapper on its
// PATH that logs every call) never names its pull request.
import { generateKeyPairSync, createHash } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGithubStandIn, type GithubStandIn } from '../support/github-standin.ts';
import type { StandInCheckRun } from '../support/github-checks.ts';
import { apiClient, createHouse, git, sshTransportOf, startTestEdge, TEST_SECRETS, waitForDeployment, type ApiClient, type House, type TestEdge } from '../support/house.ts';
import { sendPush } from '../support/push.ts';
import { sendPullRequest } from '../support/pull-request.ts';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';

const GITHUB_TOKEN = 'github_pat_lanyard_plans_0123456789';
const APP_ID = '424242';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
// As GitHub hands an App's key out: PKCS#1, "BEGIN RSA PRIVATE KEY".
const APP_KEY_PEM = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const CHECK_NAME = 'Lanyard plan (home)';

let dir: string;
let sshd: Sshd;
let github: GithubStandIn;
let edge: TestEdge;
let house: House;
let relay: RelayProcess;
let api: ApiClient;
let gitLog: string;
let relayEnv: Record<string, string>;

/** path → sha256 (or link text) of every file under the config folder and the backup folder. */
async function snapshot(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(root: string, folder: string, prefix: string) {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const full = join(folder, entry.name);
      const key = `${prefix}${full.slice(root.length + 1)}`;
      const stats = await lstat(full);
      if (stats.isSymbolicLink()) out.set(key, `link:${await readlink(full)}`);
      else if (stats.isDirectory()) await walk(root, full, prefix);
      else out.set(key, `${stats.mode.toString(8)}:${createHash('sha256').update(await readFile(full)).digest('hex')}`);
    }
  }
  await walk(house.configRoot, house.configRoot, 'config/');
  await walk(house.backupDir, house.backupDir, 'backup/');
  return out;
}

/** The pull request's head: a branch off main with these changes, and `refs/pull/<n>/head` on it as GitHub keeps it. */
async function pullHead(number: number, files: Record<string, string | { link: string } | null>, base = 'main'): Promise<string> {
  await git(house.work, 'checkout', '--quiet', '-B', `change-${number}`, base);
  for (const [path, content] of Object.entries(files)) {
    const full = join(house.work, path);
    await rm(full, { force: true });
    if (content === null) continue;
    await mkdir(dirname(full), { recursive: true });
    if (typeof content === 'string') await writeFile(full, content);
    else await symlink(content.link, full);
  }
  await git(house.work, 'add', '-A');
  await git(house.work, 'commit', '--quiet', '-m', `Change for pull request #${number}`);
  const sha = await git(house.work, 'rev-parse', 'HEAD');
  await git(house.work, 'push', '--quiet', '--force', 'origin', `HEAD:refs/heads/change-${number}`);
  await git(house.bare, 'update-ref', `refs/pull/${number}/head`, sha);
  await git(house.work, 'checkout', '--quiet', 'main');
  return sha;
}

async function waitForCheck(sha: string, done: (run: StandInCheckRun) => boolean = (r) => r.status === 'completed', timeoutMs = 90_000): Promise<StandInCheckRun> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const run = github.checks.runsOn(sha).at(-1);
    if (run && done(run)) return run;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no finished check run on ${sha.slice(0, 7)}: ${JSON.stringify(github.checks.runsOn(sha))}\nrelay log:\n${relay.log.slice(-3000)}`);
}

/** Opens a pull request and waits for its finished check run; the host must be unchanged by the plan. */
async function planOf(number: number, files: Record<string, string | { link: string } | null>): Promise<StandInCheckRun> {
  const sha = await pullHead(number, files);
  const before = await snapshot();
  const delivered = await sendPullRequest(edge.url, { action: 'opened', number, headSha: sha });
  expect(delivered.status).toBe(202);
  const run = await waitForCheck(sha);
  expect(await snapshot()).toEqual(before);
  return run;
}

async function startRelay(): Promise<void> {
  relay = startRelayProcess(house.relayConfigPath, ['run'], relayEnv);
  await relay.waitForLog(/edge ready/);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lanyard-plans-'));
  // The relay's git, logged: every call it makes, one line each.
  gitLog = join(dir, 'git-calls.log');
  const bin = join(dir, 'bin');
  await mkdir(bin);
  const realGit = (await import('node:child_process')).execFileSync('sh', ['-c', 'command -v git']).toString().trim();
  await writeFile(join(bin, 'git'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${gitLog}'\nexec '${realGit}' "$@"\n`);
  await chmod(join(bin, 'git'), 0o755);
  relayEnv = { PATH: `${bin}:${process.env.PATH ?? ''}` };

  github = await startGithubStandIn({ token: GITHUB_TOKEN, app: { appId: APP_ID, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), installationId: 77 } });
  sshd = await startSshd();
  edge = await startTestEdge(join(dir, 'edge'), {
    GITHUB_API_URL: github.url,
    GITHUB_TOKEN,
    GITHUB_APP_ID: APP_ID,
    GITHUB_APP_PRIVATE_KEY: APP_KEY_PEM,
    OUTBOX_RETRY_BASE_MS: '300',
  });
  house = await createHouse({ edgeUrl: edge.url, transport: sshTransportOf(sshd) });
  api = apiClient(edge.url, TEST_SECRETS.operatorToken);
  await startRelay();
  // What a plan compares with: the first deploy, so the host has a manifest.
  const head = await git(house.bare, 'rev-parse', 'main');
  const first = await waitForDeployment(api, await sendPush(edge.url, head, 'Initial configuration'), ['succeeded', 'failed', 'rolled_back'], 90_000);
  expect(first.deployment.status).toBe('succeeded');
}, 180_000);

afterAll(async () => {
  await relay?.kill('SIGTERM');
  await edge?.stop();
  await house?.close();
  await sshd?.stop();
  await github?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a plan on a pull request from the same repository', () => {
  it('passes a reload-only change, naming the file and the reload', async () => {
    const groups = (await readFile(join(house.work, 'groups.yaml'), 'utf8')) + 'upstairs:\n  name: Upstairs\n  entities:\n    - light.landing\n';
    const run = await planOf(1, { 'groups.yaml': groups });
    expect(run.name).toBe(CHECK_NAME);
    expect(run.conclusion).toBe('success');
    expect(run.title).toMatch(/1 file to write, 0 files to delete; reloads group/);
    expect(run.summary).toContain('`groups.yaml`');
    expect(run.summary).toMatch(/Reloads: `group`/);
    // Created queued, then updated (PATCH) to its conclusion: one check run per head.
    expect(github.checks.runsOn(run.headSha)).toHaveLength(1);
    expect(run.history[0]).toMatch(/^queued\//);
    expect(run.history.at(-1)).toBe('completed/success');
    // The App's installation token made it: a personal access token cannot create check runs.
    expect(github.requests.some((r) => r.path.startsWith('/app/installations/77/access_tokens'))).toBe(true);
  });

  it('marks a change that needs a restart neutral, and says Home Assistant will restart and why', async () => {
    const garden = (await readFile(join(house.work, 'packages/garden.yaml'), 'utf8')) + '\ninput_number:\n  garden_minutes:\n    name: Garden minutes\n    min: 0\n    max: 60\n';
    const run = await planOf(2, { 'packages/garden.yaml': garden });
    expect(run.conclusion).toBe('neutral');
    expect(run.title).toMatch(/Home Assistant will restart/);
    expect(run.summary).toMatch(/### Home Assistant will restart\n\n- `packages\/garden.yaml`: a package can hold any integration/);
  });

  it('fails a link out of the config folder, with the fix a deploy would give', async () => {
    const run = await planOf(3, { 'passwords.yaml': { link: '../../../etc/passwd' } });
    expect(run.conclusion).toBe('failure');
    expect(run.title).toMatch(/Refused: 1 path cannot be deployed safely/);
    expect(run.summary).toContain('`passwords.yaml`');
    expect(run.summary).toMatch(/fix: /);
  });

  it('fails a change to a file edited on the host since the last deploy, naming the conflict', async () => {
    const hostPath = join(house.configRoot, 'groups.yaml');
    const original = await readFile(hostPath, 'utf8');
    await writeFile(hostPath, `${original}# edited on the host\n`);
    try {
      const groups = original.replace('Downstairs', 'Ground floor');
      const run = await planOf(4, { 'groups.yaml': groups });
      expect(run.conclusion).toBe('failure');
      expect(run.title).toMatch(/Conflicts with 1 file edited on the host/);
      expect(run.summary).toMatch(/- `groups.yaml`: edited on the host since the last deploy; the pull request changes it too/);
    } finally {
      await writeFile(hostPath, original);
    }
  });
});

describe('a pull request from a fork', () => {
  it('is never fetched or planned, and its check says why', async () => {
    const sha = await pullHead(5, { 'groups.yaml': 'mallory: {}\n' });
    const before = await snapshot();
    const delivered = await sendPullRequest(edge.url, { action: 'opened', number: 5, headSha: sha, headRepo: 'mallory/ha-config' });
    expect(delivered.status).toBe(200);
    const run = await waitForCheck(sha);
    expect(run.conclusion).toBe('neutral');
    expect(run.title).toBe('Not planned: the pull request comes from a fork');
    expect(run.summary).toContain('`mallory/ha-config`');
    // The relay's git was called for the other pull requests, never for this one.
    const calls = await readFile(gitLog, 'utf8');
    expect(calls).toContain('refs/pull/1/head');
    expect(calls).not.toContain('refs/pull/5/');
    expect(relay.log).not.toMatch(/pull request #5/);
    expect(await snapshot()).toEqual(before);
  });
});

describe('plans and deploys at the relay', () => {
  it('plans only the latest head of a pull request; the one it superseded says so', async () => {
    await relay.kill('SIGTERM');
    const first = await pullHead(6, { 'scenes.yaml': '[]\n' });
    await sendPullRequest(edge.url, { action: 'opened', number: 6, headSha: first });
    const second = await pullHead(6, { 'groups.yaml': (await readFile(join(house.work, 'groups.yaml'), 'utf8')).replace('Downstairs', 'Downstairs and hall') });
    await sendPullRequest(edge.url, { action: 'synchronize', number: 6, headSha: second });
    await startRelay();
    const latest = await waitForCheck(second);
    expect(latest.conclusion).toBe('success');
    const superseded = await waitForCheck(first);
    expect(superseded.conclusion).toBe('neutral');
    expect(superseded.title).toBe('Superseded by a newer push');
    expect(relay.log).not.toContain(`at ${first.slice(0, 7)}`);
    expect(relay.log).toContain(`at ${second.slice(0, 7)}`);
    const open = await api.get('/deployments/home/pull-plans');
    expect(open.plans.find((p: { pullNumber: number }) => p.pullNumber === 6)).toMatchObject({ headSha: second, status: 'planned' });
  });

  it('lets a deploy queued beside a plan deploy, and the plan still reports', async () => {
    await relay.kill('SIGTERM');
    const sha = await pullHead(7, { 'scripts.yaml': 'porch_on:\n  sequence: []\n' });
    await sendPullRequest(edge.url, { action: 'opened', number: 7, headSha: sha });
    await startRelay();
    const pushed = await house.commit({ 'groups.yaml': (await readFile(join(house.work, 'groups.yaml'), 'utf8')) + 'attic:\n  name: Attic\n  entities: []\n' }, 'Attic group');
    const deployed = await waitForDeployment(api, await sendPush(edge.url, pushed, 'Attic group'), ['succeeded', 'failed', 'rolled_back'], 90_000);
    expect(deployed.deployment.status).toBe('succeeded');
    const run = await waitForCheck(sha);
    expect(['success', 'failure']).toContain(run.conclusion);
    expect(run.summary).toContain('`scripts.yaml`');
  });

  it('drops the plan of a closed pull request from the open plans', async () => {
    const before = (await api.get('/deployments/home/pull-plans')).plans.map((p: { pullNumber: number }) => p.pullNumber);
    expect(before).toContain(1);
    await sendPullRequest(edge.url, { action: 'closed', number: 1, headSha: github.checks.checkRuns.find((r) => r.summary.includes('#1 '))!.headSha });
    const after = (await api.get('/deployments/home/pull-plans')).plans.map((p: { pullNumber: number }) => p.pullNumber);
    expect(after).not.toContain(1);
  });
});
