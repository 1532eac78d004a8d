// Capture end to end (issue 17), the whole stack on 127.0.0.1: the edge under wrangler dev, the
// GitHub stand-in, a relay process deploying over a real sshd, the config repository a bare git
// repository. After a deploy, the host is edited as Home Assistant's UI would (automations.yaml),
// a file is added and one removed, and secrets.yaml changes; a capture then pushes a branch whose
// tree is the deployed tree plus those edits (never the secret), and opens a pull request. Merged
// into main and deployed, the host and the commit agree: no drift, and no file rewritten.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGithubStandIn, type GithubStandIn } from '../support/github-standin.ts';
import { git, TEST_REPO, waitForDeployment, type ApiClient, type House, type TestEdge } from '../support/house.ts';
import { sendPush } from '../support/push.ts';
import type { RelayProcess } from '../support/relay-process.ts';
import type { Sshd } from '../support/sshd.ts';
import { startSshHouse, stopSshHouse } from '../support/ssh-house.ts';

const run = promisify(execFile);
const GITHUB_TOKEN = 'github_pat_lanyard_capture_0123456789';
const SECRET_MARKER = `never-pushed-${randomBytes(8).toString('hex')}`;
const finalStates = ['succeeded', 'failed', 'rolled_back'];

let sshd: Sshd;
let github: GithubStandIn;
let edge: TestEdge;
let house: House;
let relay: RelayProcess;
let api: ApiClient;

async function bare(...args: string[]): Promise<string> {
  return (await run('git', ['-C', house.bare, ...args], { maxBuffer: 64 * 1024 * 1024 })).stdout;
}

/** path → "mode oid" of a commit's whole tree in the bare remote. */
async function treeOf(rev: string): Promise<Map<string, string>> {
  const out = await bare('ls-tree', '-r', '-z', rev);
  const entries = new Map<string, string>();
  for (const record of out.split('\0').filter(Boolean)) {
    const [meta, path] = record.split('\t');
    const [mode, , oid] = meta!.split(' ');
    entries.set(path!, `${mode} ${oid}`);
  }
  return entries;
}

async function blobOf(content: string): Promise<string> {
  const path = join(house.dir, 'blob.tmp');
  await writeFile(path, content);
  return (await run('git', ['hash-object', path])).stdout.trim();
}

async function deployCommit(sha: string, message: string) {
  const id = await sendPush(edge.url, sha, message);
  return waitForDeployment(api, id, finalStates, 90_000);
}

async function waitForCapture(id: string, done: (c: Record<string, any>) => boolean): Promise<Record<string, any>> {
  const deadline = Date.now() + 60_000;
  let last: Record<string, any> | undefined;
  while (Date.now() < deadline) {
    last = (await api.get('/deployments/home/captures')).captures.find((c: { id: string }) => c.id === id);
    if (last && done(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`capture ${id} never finished: ${JSON.stringify(last)}`);
}

beforeAll(async () => {
  github = await startGithubStandIn({ token: GITHUB_TOKEN });
  ({ sshd, edge, house, relay, api } = await startSshHouse({
    edgeVars: {
      TARGETS: JSON.stringify([{ name: 'home', repo: TEST_REPO, branch: 'main', relayTokenSecret: 'RELAY_TOKEN_HOME', capture: 'manual' }]),
      GITHUB_API_URL: github.url,
      GITHUB_TOKEN,
      OUTBOX_RETRY_BASE_MS: '300',
    },
    // The push remote is the config repository itself (a local path: no key needed).
    // The host edits here and the commits' changes would merge (docs/drift.md#merging-ui-edits);
    // these tests are about drift that stops a deploy, so this relay merges nothing.
    relayOverrides: { capture: {}, deploy: { mergeFiles: [] } },
  }));
});

afterAll(async () => {
  await stopSshHouse({ relay, edge, house, sshd });
  await github?.close();
});

describe('capture: host edits become a pull request', () => {
  let deployedSha: string;
  let captured: Record<string, any>;
  let uiEdit: string;

  it('pushes a branch whose tree is the deployed tree plus the host edits, and nothing protected', async () => {
    deployedSha = await house.commit({ 'www/welcome.txt': 'Welcome home\n', 'www/hours.txt': 'Open all day\n' }, 'Add a welcome page');
    const first = await deployCommit(deployedSha, 'Add a welcome page');
    expect(first.deployment.status, JSON.stringify(first.steps)).toBe('succeeded');

    // Edits on the host, as the UI and a person with a shell would make them.
    uiEdit = `${await readFile(join(house.configRoot, 'automations.yaml'), 'utf8')}- id: made_in_the_ui\n  alias: Made in the UI\n  trigger: []\n  action: []\n`;
    await writeFile(join(house.configRoot, 'automations.yaml'), uiEdit);
    await writeFile(join(house.configRoot, 'www/notes.txt'), 'Written on the host\n');
    await rm(join(house.configRoot, 'www/hours.txt'));
    await writeFile(join(house.configRoot, 'secrets.yaml'), `weather_api_key: "${SECRET_MARKER}"\n`);

    const asked = await api.post('/deployments/home/capture', {});
    expect(asked.status).toBe(202);
    expect(asked.body.capture.id).toMatch(/^cap_/);
    captured = await waitForCapture(asked.body.capture.id, (c) => c.status !== 'queued' && c.status !== 'sent' && (c.status !== 'pushed' || c.pullRequestUrl));
    expect(captured.status, captured.reason).toBe('pushed');
    const day = new Date().toISOString().slice(0, 10);
    expect(captured.branch).toBe(`lanyard/host-edits/home/${day}`);
    expect(captured.base).toBe(deployedSha);
    expect(captured.files).toEqual([
      { path: 'automations.yaml', change: 'modified' },
      { path: 'www/hours.txt', change: 'deleted' },
      { path: 'www/notes.txt', change: 'added' },
    ]);

    // The pushed commit sits on the deployed one, and its tree is the deployed tree plus the edits.
    expect((await bare('rev-parse', `refs/heads/${captured.branch}`)).trim()).toBe(captured.commit);
    expect((await bare('rev-parse', `${captured.commit}^`)).trim()).toBe(deployedSha);
    expect((await bare('log', '-1', '--format=%an <%ae>|%cn <%ce>', captured.commit)).trim()).toBe('Lanyard relay <home>|Lanyard relay <home>');
    const expected = await treeOf(deployedSha);
    expected.set('automations.yaml', `100644 ${await blobOf(uiEdit)}`);
    expected.set('www/notes.txt', `100644 ${await blobOf('Written on the host\n')}`);
    expected.delete('www/hours.txt');
    expect(await treeOf(captured.commit)).toEqual(expected);
    // main is where it was: a capture pushes its own branch only.
    expect((await bare('rev-parse', 'refs/heads/main')).trim()).toBe(deployedSha);

    // The changed secrets.yaml reached no object of the remote.
    const everything = (await run('git', ['-C', house.bare, 'cat-file', '--batch-all-objects', '--batch'], { maxBuffer: 256 * 1024 * 1024, encoding: 'buffer' })).stdout;
    expect(everything.includes(Buffer.from(SECRET_MARKER))).toBe(false);
  });

  it('opens a pull request that says what changed, on which commit, who asked and what to do', async () => {
    const pull = github.openPullFor(captured.branch);
    expect(pull).toBeDefined();
    expect(pull!.base).toBe('main');
    expect(captured.pullRequestUrl).toBe(`${github.url}/octo-home/ha-config/pull/${pull!.number}`);
    expect(pull!.body).toContain('modified: `automations.yaml`');
    expect(pull!.body).toContain('added: `www/notes.txt`');
    expect(pull!.body).toContain('deleted: `www/hours.txt`');
    expect(pull!.body).toContain(deployedSha);
    expect(pull!.body).toContain('**home**');
    expect(pull!.body).toContain('`otto`');
    expect(pull!.body).toMatch(/merge this pull request into `main`/);
    expect(pull!.body).not.toContain('secrets.yaml:');
    expect(github.refusals).toEqual([]);
  });

  it('a second capture the same day updates the same pull request instead of opening another', async () => {
    await writeFile(join(house.configRoot, 'www/notes.txt'), 'Written on the host, then again\n');
    const asked = await api.post('/deployments/home/capture', {});
    const again = await waitForCapture(asked.body.capture.id, (c) => c.status !== 'queued' && c.status !== 'sent' && (c.status !== 'pushed' || c.pullRequestUrl));
    expect(again.status, again.reason).toBe('pushed');
    expect(again.branch).toBe(captured.branch);
    expect(github.pulls.filter((p) => p.head === captured.branch)).toHaveLength(1);
    expect(github.openPullFor(captured.branch)!.body).toContain(again.commit);
    captured = again;
  });

  it('merged and deployed, the host and the commit agree: no drift, and no file rewritten', async () => {
    const before = await stat(join(house.configRoot, 'automations.yaml'));
    await git(house.work, 'fetch', '--quiet', 'origin', `${captured.branch}:refs/remotes/origin/captured`);
    await git(house.work, 'merge', '--quiet', '--no-ff', '-m', 'Merge the host edits', 'origin/captured');
    await git(house.work, 'push', '--quiet', 'origin', 'HEAD:main');
    github.closePull(github.openPullFor(captured.branch)!.number);
    const merged = await git(house.work, 'rev-parse', 'HEAD');
    const { deployment, steps } = await deployCommit(merged, 'Merge the host edits');
    expect(deployment.status, JSON.stringify(steps)).toBe('succeeded');
    expect(deployment.summary).toMatchObject({ drift: [], filesChanged: [], filesDeleted: [], bytesSent: 0 });
    expect((await stat(join(house.configRoot, 'automations.yaml'))).mtimeMs).toBe(before.mtimeMs);
    expect(await readFile(join(house.configRoot, 'secrets.yaml'), 'utf8')).toContain(SECRET_MARKER);

    // And there is nothing left to capture.
    const asked = await api.post('/deployments/home/capture', {});
    const nothing = await waitForCapture(asked.body.capture.id, (c) => c.status !== 'queued' && c.status !== 'sent');
    expect(nothing.status, nothing.reason).toBe('nothing_to_capture');
  });

  it('the capture drift choice: a deploy stopped on drift captures the edits, then deploys the rest keeping them', async () => {
    const hostEdit = `${await readFile(join(house.configRoot, 'automations.yaml'), 'utf8')}- id: second_ui_edit\n  alias: Second UI edit\n  trigger: []\n  action: []\n`;
    await writeFile(join(house.configRoot, 'automations.yaml'), hostEdit);
    const sha = await house.commit({ 'automations.yaml': '[]\n', 'www/hours.txt': 'Open from nine\n' }, 'Replace automations, open from nine');
    const stopped = await deployCommit(sha, 'Replace automations, open from nine');
    expect(stopped.deployment.status).toBe('failed');
    expect(stopped.deployment.summary.drift).toEqual(['automations.yaml']);

    const chosen = await api.post('/deployments/home/retry', { deploymentId: stopped.deployment.id, drift: 'capture' });
    expect(chosen.status).toBe(202);
    const capture = await waitForCapture(chosen.body.capture.id, (c) => c.status !== 'queued' && c.status !== 'sent' && (c.status !== 'pushed' || c.pullRequestUrl));
    expect(capture.status, capture.reason).toBe('pushed');
    expect(capture.files).toEqual([{ path: 'automations.yaml', change: 'modified' }]);
    expect(await bare('cat-file', 'blob', `${capture.commit}:automations.yaml`)).toBe(hostEdit);

    // The retry follows by itself, keeping the host's automations.yaml and deploying the rest.
    let retried: Record<string, any> | undefined;
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      retried = (await api.get('/deployments/home/history?limit=5')).deployments.find((d: { trigger: string; status: string }) => d.trigger === 'retry' && finalStates.includes(d.status));
      if (retried) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(retried?.status, JSON.stringify(retried)).toBe('succeeded');
    expect(retried!.sha).toBe(sha);
    expect(retried!.summary.filesChanged).toEqual(['www/hours.txt']);
    expect(await readFile(join(house.configRoot, 'automations.yaml'), 'utf8')).toBe(hostEdit);
    expect(await readFile(join(house.configRoot, 'www/hours.txt'), 'utf8')).toBe('Open from nine\n');
  });
});
