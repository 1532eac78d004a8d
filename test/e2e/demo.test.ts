// The newcomer's first command: `npm run demo` deploys a change and rolls back an invalid one, then
// brings a UI edit back to git (drift, capture, pull request, merge, deploy), on 127.0.0.1 only; its status page, opened in real headless Chromium and signed in with the token
// it prints, shows that deploy and that rollback; Ctrl-C stops it and it cleans up after itself.
// A screenshot for a person to look at goes to test-output/demo/.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { guardedContext, launchBrowser, screenshot, signIn, type GuardedContext } from '../support/browser.ts';
import { freePort } from '../support/ports.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SCREENSHOTS = join(ROOT, 'test-output', 'demo');
/** The demo's pushes, as demo/run-demo.ts and demo/ui-edit-loop.ts make them. */
const FIRST = 'Close the garage at night';
const INVALID = 'Add sensors (forgot the file)';
const REVERT = `Revert "${INVALID}"`;
const MERGE = /Merge pull request #(\d+) from demo-owner\/(lanyard\/host-edits\/home\/\d{4}-\d{2}-\d{2})/;

interface Demo {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when the process has exited and its output is all read. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `npm run demo -- --port P --dir D`, without `--once`, as the npm script runs it but with node
 * itself as the process (`node --import tsx`): the tsx CLI and npm would sit between the test and
 * the demo, and a signal must reach the demo.
 */
function startDemo(port: number, dir: string): Demo {
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/run-demo.ts', '--port', String(port), '--dir', dir], {
    cwd: ROOT,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => r({ code, signal }));
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    closed,
  };
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Resolves with the output once a line matches, rejects if the demo ends first or the time runs out. */
async function waitForOutput(demo: Demo, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = `${demo.stdout}\n${demo.stderr}`;
    if (pattern.test(out)) return out;
    if (!running(demo.child)) throw new Error(`the demo ended (exit ${demo.child.exitCode ?? demo.child.signalCode}) before printing ${pattern}:\n${out.slice(-6000)}`);
    if (Date.now() > deadline) throw new Error(`the demo did not print ${pattern} within ${timeoutMs} ms:\n${out.slice(-6000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Whatever happened: stop the demo as a person would (it then stops wrangler and removes its folder), by force if it will not. */
async function stopDemo(demo: Demo): Promise<void> {
  if (!running(demo.child)) return;
  demo.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (running(demo.child)) demo.child.kill('SIGKILL');
  }, 30_000);
  await demo.closed.catch(() => undefined);
  clearTimeout(timer);
}

let parent: string;
let dir: string;
let port: number;
let demo: Demo | undefined;
let output = '';
let browser: Browser | undefined;
const contexts: GuardedContext[] = [];

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close().catch(() => {});
  if (demo) await stopDemo(demo);
  if (parent) await rm(parent, { recursive: true, force: true });
}, 60_000);

describe('npm run demo', () => {
  it('shows a deploy and an automatic rollback, and prints the status page and a token', async () => {
    parent = await mkdtemp(join(tmpdir(), 'lanyard-demo-test-'));
    dir = join(parent, 'demo');
    port = await freePort();
    demo = startDemo(port, dir);
    // Warnings (a failed step) go to stderr, the rest to stdout; a person sees both.
    output = await waitForOutput(demo, /DEMO RESULT: .*\n/, 420_000);
    expect(output).toContain('DEMO RESULT: deploy succeeded, invalid config rolled_back, UI edit merged succeeded, files changed 0, drift cleared');
    expect(output).toMatch(/check: failed after .*Unable to read file .*sensors\.yaml/);
    expect(output).toMatch(/rollback: restored 1 file/);
    expect(output).toContain('configuration.yaml on the host is back to what it was');
    // GitHub (its stand-in on 127.0.0.1) heard each deployment's statuses in order.
    expect(output).toMatch(/GitHub deployment #\d+ \(production\): queued → in_progress → success\n/);
    expect(output).toMatch(/GitHub deployment #\d+ \(production\): queued → in_progress → failure\n/);
    expect(output).toContain(`status page: http://127.0.0.1:${port}/  (sign in with the API token below)`);
    expect(output).toMatch(/API token: +demo-operator-[0-9a-f]{24}/);
    // Every step of the relay's work is shown with its duration.
    for (const step of ['fetch', 'plan', 'backup', 'apply', 'check', 'activate', 'verify', 'record']) expect(output).toMatch(new RegExp(`${step}: .*\\(\\d+ ms\\)`));
  }, 430_000);

  it('lives with it on the same stack: an alert, a pull-request plan, a freeze, a restart window, Home Assistant\'s own backup, release tags, a trace and a scrape', () => {
    expect(output, 'the demo did not get to its result').toContain('DEMO RESULT:');
    const result = /DEMO RESULT: (.*)\n/.exec(output)![1]!;
    // The rolled-back deploy reached the phone (the stand-in's notify.mobile_app_* service), tap and all.
    expect(result).toContain('alert on the phone (delivered)');
    expect(output).toMatch(/tap: +http:\/\/127\.0\.0\.1:\d+\/targets\/home\?deployment=dep_/);
    // Pull request #2 got a check run (the demo's GitHub App) with the plan of what merging it does.
    expect(result).toContain('pull request plan success');
    expect(output).toMatch(/check run "Lanyard plan \(home\)": success — 1 file to write, 0 files to delete; reloads group/);
    expect(result).toContain('freeze held the push, unfreeze deployed it succeeded');
    expect(result).toContain('restart held waiting_for_window, restart now succeeded');
    expect(result).toMatch(/HA backup [0-9a-f]{8} before a restart, a failed one stopped the deploy with nothing written/);
    expect(result).toContain('tag v1.0.0 succeeded, tag v0.9.0 ignored (lower), deploy {tag: v0.9.0} succeeded');
    // The first deploy's trace, as the collector stand-in got it: the relay's steps under the dispatch span.
    expect(output).toMatch(/trace [0-9a-f]{32}\n/);
    expect(output).toMatch(/ {2,}fetch +lanyard-relay /);
    // The scrape: one line a Prometheus user would graph.
    expect(output).toMatch(/lanyard_deployments_total\{target="home",outcome="succeeded"\} [1-9]\d*\n/);
  });

  it('brings a UI edit back to git: drift on the edge, a pull request at GitHub, merged and deployed with nothing rewritten', async () => {
    expect(output, 'the demo did not get to its result').toContain('DEMO RESULT:');
    const url = /status page: (\S+)\//.exec(output)![1]!;
    const token = /API token: +(\S+)/.exec(output)![1]!;
    const api = async (path: string) => {
      const response = await fetch(`${url}/api${path}`, { headers: { Authorization: `Bearer ${token}` } });
      expect(response.status, path).toBe(200);
      return (await response.json()) as Record<string, any>;
    };
    // The UI edit went through Home Assistant's automation editor, and the edge showed it as drift.
    expect(output).toContain('POST /api/config/automation/config/porch_light_at_sunset → HTTP 200');
    expect(output).toMatch(/GET \/api\/deployments\/home\/drift\)\S*\n(?:.*\n)*? {2}modified: automations\.yaml\n {6}[-+] {2}alias: Porch light/);
    expect(output).toContain('+  alias: Porch light 15 minutes before sunset');

    // The pull request the GitHub stand-in received (printed from its record), and the same one on the edge.
    const [, branch] = /\n {2}branch (lanyard\/host-edits\/home\/\d{4}-\d{2}-\d{2})\n/.exec(output)!;
    const githubUrl = /Deployments API: .*\n {2}(http:\/\/127\.0\.0\.1:\d+)\n/.exec(output)![1]!;
    const printed = /pull request #(\d+) (\S+) \((\S+) → (\S+)\): "(.*)"\n((?: {4}.*\n)+)/.exec(output)!;
    expect(printed, 'the pull request line').not.toBeNull();
    const [, number, pullUrl, head, base, title, body] = printed;
    expect({ head, base }).toEqual({ head: branch, base: 'main' });
    expect(pullUrl).toBe(`${githubUrl}/demo-owner/home-assistant-config/pull/${number}`);
    expect(title).toContain('home');
    expect(body).toContain('**home**');
    const captures = (await api('/deployments/home/captures')).captures as Record<string, any>[];
    expect(captures.map((c) => ({ status: c.status, branch: c.branch, files: c.files, pullRequestUrl: c.pullRequestUrl }))).toEqual([
      { status: 'pushed', branch, files: [{ path: 'automations.yaml', change: 'modified' }], pullRequestUrl: pullUrl },
    ]);

    // Merged as GitHub would and deployed: nothing rewritten, no drift at the deploy, none left on the edge.
    const merge = MERGE.exec(output)!;
    expect({ number: merge[1], branch: merge[2] }).toEqual({ number, branch });
    // The demo's first four deploys, oldest first (the living-with-it steps come after them).
    const history = ((await api('/deployments/home/history?limit=50')).deployments as Record<string, any>[]).slice().reverse().slice(0, 4);
    expect(history.map((d) => [d.message.split('\n')[0], d.status])).toEqual([
      [FIRST, 'succeeded'],
      [INVALID, 'rolled_back'],
      [REVERT, 'succeeded'],
      [merge[0], 'succeeded'],
    ]);
    const [merged, reverted] = [history[3], history[2]];
    expect(merged!.summary).toMatchObject({ filesChanged: [], filesDeleted: [], drift: [] });
    expect(reverted!.summary).toMatchObject({ filesChanged: [], filesDeleted: [] });
    expect(output).toContain('→ succeeded: files changed: none, drift: none');
    expect((await api('/deployments/home/drift')).drift?.files ?? []).toEqual([]);
    expect(output).toContain('drift on the edge: none');
  }, 30_000);

  it('shows those deploys and that rollback on its status page, in Chromium, signed in with the printed token', async () => {
    expect(output, 'the demo did not get to its result').toContain('DEMO RESULT:');
    // What a person reads off the terminal: the page, the token, the two commits pushed.
    const url = /status page: (\S+)\//.exec(output)![1]!;
    const token = /API token: +(\S+)/.exec(output)![1]!;
    const firstSha = new RegExp(`signed push of ([0-9a-f]{7}) "${FIRST}"`).exec(output)![1]!;
    const invalidSha = new RegExp(`signed push of ([0-9a-f]{7}) "${INVALID.replace(/[()]/g, '\\$&')}"`).exec(output)![1]!;
    const revertSha = new RegExp(`signed push of ([0-9a-f]{7}) "${REVERT.replace(/[()]/g, '\\$&')}"`).exec(output)![1]!;
    const mergeSha = new RegExp(`signed push of ([0-9a-f]{7}) "${MERGE.source}"`).exec(output)![1]!;
    const mergeMessage = MERGE.exec(output)![0];
    const printedReason = /→ rolled_back: (.*)/.exec(output)![1]!.trim();
    expect(url).toBe(`http://127.0.0.1:${port}`);

    browser = await launchBrowser();
    const c = await guardedContext(browser);
    contexts.push(c);
    const page = await c.newPage();

    // The target is private: the page asks for a sign-in first, and the printed token opens it.
    await page.goto(`${url}/`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await signIn(page, url, token, '/');
    await expect(page.locator('[data-signed-in]').getAttribute('data-signed-in')).resolves.toBe('demo');

    // `/`: the two targets; home idle, its relay connected, deployed at the last commit that
    // succeeded, and its last result the deploy the failing Home Assistant backup stopped.
    await expect(page.locator('[data-target]').evaluateAll((els) => els.map((e) => e.getAttribute('data-target')))).resolves.toEqual(['home', 'releases']);
    const home = page.locator('[data-target="home"]');
    const lastSucceeded = /→ succeeded: Home Assistant backup [0-9a-f]{8} "Lanyard dep_\S+ before ([0-9a-f]{7})"/.exec(output)![1]!;
    await expect(home.locator('[data-fact="state"]').getAttribute('data-state')).resolves.toBe('idle');
    await expect(home.locator('[data-fact="relay"]').getAttribute('data-connected')).resolves.toBe('true');
    await expect(home.locator('[data-fact="deployed"]').getAttribute('data-sha')).resolves.toMatch(new RegExp(`^${lastSucceeded}[0-9a-f]{33}$`));
    await expect(home.locator('[data-fact="last-result"]').getAttribute('data-status')).resolves.toBe('failed');
    await screenshot(page, 'overview', SCREENSHOTS);

    // `/targets/home`: the history ends with the demo's first four pushes (newest first; the living-with-it steps above them).
    await Promise.all([page.waitForURL(`${url}/targets/home`), home.locator('h2 a').click()]);
    const rows = await page.locator('#history tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({
        status: tr.getAttribute('data-status'),
        sha: tr.querySelector('[data-col="commit"] .sha')?.textContent ?? null,
        message: tr.querySelector('[data-col="commit"] .message')?.textContent ?? null,
      })),
    );
    expect(rows.slice(-4)).toEqual([
      { status: 'succeeded', sha: mergeSha, message: mergeMessage },
      { status: 'succeeded', sha: revertSha, message: REVERT },
      { status: 'rolled_back', sha: invalidSha, message: INVALID },
      { status: 'succeeded', sha: firstSha, message: FIRST },
    ]);
    await expect(page.locator(`#history tr[data-status="rolled_back"] .status`).innerText()).resolves.toContain('sensors.yaml');

    // The rolled-back deployment's own page: Home Assistant's reason, the failed check, the rollback.
    await Promise.all([page.waitForURL(/\/targets\/home\?deployment=dep_/), page.locator('#history tr[data-status="rolled_back"] td.id > a').click()]);
    const deployment = page.locator('#deployment');
    await expect(deployment.getAttribute('data-status')).resolves.toBe('rolled_back');
    await expect(deployment.getAttribute('data-deployment')).resolves.toBe(new URL(page.url()).searchParams.get('deployment'));
    await expect(deployment.locator('[data-commit-message]').textContent()).resolves.toBe(INVALID);
    const reason = (await deployment.locator('[data-fact="reason"]').textContent()) ?? '';
    expect(reason).toMatch(/invalid.*sensors\.yaml/s);
    // The same reason the demo printed in the terminal.
    expect(reason).toContain(printedReason);
    await expect(deployment.locator('li[data-step="check"]').getAttribute('data-status')).resolves.toBe('failed');
    await expect(deployment.locator('li[data-step="check"] .step-message').textContent()).resolves.toMatch(/sensors\.yaml/);
    await expect(deployment.locator('li[data-step="rollback"]').getAttribute('data-status')).resolves.toBe('succeeded');
    await expect(deployment.locator('li[data-step="rollback"] .step-message').textContent()).resolves.toMatch(/restored 1 file/);
    await screenshot(page, 'rolled-back-deployment', SCREENSHOTS);

    // The first push's page: deployed, what it changed.
    await page.goto(`${url}/targets/home`);
    await Promise.all([page.waitForURL(/\/targets\/home\?deployment=dep_/), page.locator('#history tr[data-status="succeeded"]').filter({ hasText: FIRST }).locator('td.id > a').click()]);
    await expect(deployment.getAttribute('data-status')).resolves.toBe('succeeded');
    await expect(deployment.locator('[data-commit-message]').textContent()).resolves.toBe(FIRST);
    await expect(deployment.locator('[data-fact="files-changed"] code').allTextContents()).resolves.toEqual(['automations.yaml']);

    expect(c.console, 'console errors (a CSP violation would show here)').toEqual([]);
    // Closed before the demo stops, so the page's live socket does not see the edge go away.
    await c.close();
  }, 120_000);

  it('stops on Ctrl-C with exit code 0 and removes everything it made', async () => {
    expect(demo, 'the demo never started').toBeDefined();
    const d = demo!;
    expect(running(d.child), 'the demo should still be running until Ctrl-C').toBe(true);
    expect(`${d.stdout}\n${d.stderr}`).toContain('Running until Ctrl-C.');
    d.child.kill('SIGINT');
    const timer = setTimeout(() => d.child.kill('SIGKILL'), 60_000);
    const { code, signal } = await d.closed;
    clearTimeout(timer);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(d.stdout).toContain('Cleaning up');
    expect(await readdir(parent)).toEqual([]);
    // Nothing is left serving the edge's port.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  }, 90_000);

  it('never let the browser reach anything but 127.0.0.1', () => {
    expect(contexts.length).toBeGreaterThan(0);
    for (const c of contexts) expect(c.offsite).toEqual([]);
  });
});
