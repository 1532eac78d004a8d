// Release tags end to end (issue 18): the Worker under `wrangler dev` with the demo's two targets of
// one repository, `home` deploying pushes and `releases` deploying tags v*; a real relay for
// `releases` (started by the demo step, as the demo starts it) deploying from a real git remote with
// the Home Assistant stand-in; GitHub's Deployments stand-in; and headless Chromium. The demo's own
// step (demo/release-tags.ts) pushes v1.0.0 (deployed), then
// v0.9.0 on an older commit (ignored, lower), then an operator deploys v0.9.0; the delivery ledger
// and the audit trail say why v0.9.0 was ignored, and the status page's history shows each tag.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReleaseTagsStep } from '../../demo/release-tags.ts';
import { startGithubStandIn, type GithubStandIn } from '../support/github-standin.ts';
import { DESKTOP, guardedContext, launchBrowser, screenshot, signIn, type GuardedContext } from '../support/browser.ts';
import { apiClient, createHouse, git, startTestEdge, TEST_REPO, TEST_SECRETS, type ApiClient, type House, type TestEdge } from '../support/house.ts';

let dir: string;
let edge: TestEdge;
let house: House;
let api: ApiClient;
let admin: ApiClient;
let browser: Browser;
let github: GithubStandIn;
const GITHUB_TOKEN = 'release-tags-github-token-0123456789';
const RELEASES_RELAY_TOKEN = 'release-tags-relay-token-0123456789';
const contexts: GuardedContext[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lanyard-release-tags-'));
  github = await startGithubStandIn({ token: GITHUB_TOKEN });
  edge = await startTestEdge(dir, {
    GITHUB_API_URL: github.url,
    GITHUB_TOKEN,
    TARGETS: JSON.stringify([
      { name: 'home', repo: TEST_REPO, branch: 'main', relayTokenSecret: 'RELAY_TOKEN_HOME' },
      { name: 'releases', repo: TEST_REPO, branch: 'main', trigger: { type: 'tag', pattern: 'v*' }, relayTokenSecret: 'RELAY_TOKEN_RELEASES' },
    ]),
    RELAY_TOKEN_RELEASES: RELEASES_RELAY_TOKEN,
    SESSION_SECRET: 'release-tags-test-session-secret-0123456789',
  });
  // The house's git remote and Home Assistant; its own relay (for `home`) is not needed here.
  house = await createHouse({ edgeUrl: edge.url });
  api = apiClient(edge.url, TEST_SECRETS.operatorToken);
  admin = apiClient(edge.url, TEST_SECRETS.adminToken);
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await edge?.stop();
  await house?.close();
  await github?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('release tags through the whole stack', () => {
  it('v1.0.0 deploys, v0.9.0 is ignored with the reason, an operator deploys v0.9.0, and the page shows the tags', async () => {
    const step = await runReleaseTagsStep({
      edgeUrl: edge.url,
      webhookSecret: TEST_SECRETS.webhookSecret,
      repo: TEST_REPO,
      target: 'releases',
      work: house.work,
      git,
      api: async (path, init) => (init ? api.post(path, init.body) : { status: 200, body: await api.get(path) }),
      waitUntil,
      step: (text) => console.log(`▶ ${text}`),
      relay: { dir: join(dir, 'releases'), token: RELEASES_RELAY_TOKEN, remote: house.bare, homeAssistant: { url: house.ha.url, token: TEST_SECRETS.haToken } },
    });
    expect(step, step.result).toMatchObject({ ok: true, result: 'tag v1.0.0 succeeded, tag v0.9.0 ignored (lower), deploy {tag: v0.9.0} succeeded' });

    const { deliveries } = await api.get('/deliveries?verdict=ignored');
    // The same tag pushes reach `home`, which deploys branches: ignored there, and nothing queued for it.
    expect(deliveries.find((d: any) => d.ref === 'refs/tags/v0.9.0')?.reason).toContain('tag push (v0.9.0); home deploys branch main, not tags');
    expect((await api.get('/deployments/home/history')).deployments).toEqual([]);
    expect(deliveries.find((d: any) => d.ref === 'refs/tags/v0.9.0')?.reason).toMatch(/releases: tag v0\.9\.0 \(0\.9\.0\) is lower than v1\.0\.0, deployed as dep_\w+; not deployed on push/);
    const trail = (await admin.get('/deployments/releases/audit?action=tag.ignored')).entries;
    expect(trail.map((e: any) => e.detail.tag)).toEqual(['v0.9.0']);
    // The relay says it checks tags.
    expect((await admin.get('/deployments/releases/audit?action=relay.hello')).entries[0].detail.capabilities).toContain('release-tags');

    // GitHub's deployments carry the tag as their ref (the outbox sends them shortly after).
    const tagged = (await api.get('/deployments/releases/history')).deployments.filter((d: any) => d.ref.startsWith('refs/tags/'));
    expect(tagged).toHaveLength(2);
    await waitUntil('GitHub to hear of both tag deployments', async () => tagged.every((d: any) => github.deploymentFor(d.id) !== undefined), 30_000);
    expect(tagged.map((d: any) => github.deploymentFor(d.id)!.ref)).toEqual(['v0.9.0', 'v1.0.0']);

    const viewer = await guardedContext(browser, DESKTOP);
    contexts.push(viewer);
    const page = await viewer.newPage();
    await signIn(page, edge.url, TEST_SECRETS.operatorToken, '/targets/releases');
    expect(await page.locator('h1 [data-trigger="tag"]').textContent()).toBe(' · deploys tags v*');
    const tags = await page.locator('#history tr[data-deployment] [data-tag]').evaluateAll((els) => els.map((e) => e.getAttribute('data-tag')));
    expect(tags).toEqual(['v0.9.0', 'v1.0.0']);
    expect(await page.locator('#history tr[data-deployment]').first().getAttribute('data-status')).toBe('succeeded');
    await screenshot(page, 'release-tags-history');
    expect(viewer.offsite).toEqual([]);
    expect(viewer.console).toEqual([]);
  });
});
