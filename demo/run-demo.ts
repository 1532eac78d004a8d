// `npm run demo`: the whole system on 127.0.0.1 — the Worker under `wrangler dev` with local
// Durable Objects and D1, a sample Home Assistant configuration as a local git repository, the
// relay with the local transport against a demo config folder, the Home Assistant stand-in, and a
// stand-in of GitHub's Deployments API that shows the statuses the edge sends.
// It sends a signed push and shows the deploy, then pushes an invalid config and shows the
// automatic rollback, then brings a UI edit back to git through a capture, a pull request, a merge
// and a deploy (demo/ui-edit-loop.ts), then lives with it (demo/living-with-it.ts: a freeze, a
// restart window, Home Assistant's own backup, release tags on a second target), shows the first
// deploy's trace as an OTLP collector got it and a Prometheus scrape, then keeps running (status page URL and token printed) until Ctrl-C.
// Ctrl-C (or SIGTERM) at any moment stops it and removes everything it made; a second one quits at once.
//
// Nothing here talks to anything but 127.0.0.1.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { sign } from '@octokit/webhooks-methods';
import { stringify } from 'yaml';
import { resolveRelayConfig } from '../relay/config.ts';
import { startRelay } from '../relay/daemon.ts';
import { consoleLogger } from '../relay/log.ts';
import { createPipeline } from '../relay/pipeline/deploy-pipeline.ts';
import { startGithubStandIn } from '../test/support/github-standin.ts';
import { startHomeAssistantStandIn } from '../test/support/home-assistant-standin.ts';
import { startLocalEdge } from './local-edge.ts';
import { DEMO_PHONE, showAlertOnThePhone } from './alerts.ts';
import { runLivingWithIt } from './living-with-it.ts';
import { showPullRequestPlan } from './pull-request-plan.ts';
import { showPrometheusScrape } from './metrics.ts';
import { DEMO_TIME_ZONE, shutRestartWindow } from './restart-window.ts';
import { startTraceDemo } from './traces.ts';
import { runUiEditLoop, type DemoDeployment } from './ui-edit-loop.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
const REPO = 'demo-owner/home-assistant-config';
const DEMO_APP_ID = '4242';

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Demo Homeowner',
  GIT_AUTHOR_EMAIL: 'demo@example.com',
  GIT_COMMITTER_NAME: 'Demo Homeowner',
  GIT_COMMITTER_EMAIL: 'demo@example.com',
};

const say = (text: string) => console.log(`\n\u001b[1m▶ ${text}\u001b[0m`);

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await run('git', args, { cwd, env: GIT_ENV })).stdout.trim();
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((r) => {
    const server = createServer();
    server.once('error', () => r(false));
    server.listen(port, '127.0.0.1', () => server.close(() => r(true)));
  });
}

async function choosePort(wanted: number): Promise<number> {
  if (wanted && (await portIsFree(wanted))) return wanted;
  return new Promise((r) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => r(port));
    });
  });
}

type DeploymentView = DemoDeployment;

export async function runDemo(options: { port: number; once: boolean; dir: string }): Promise<number> {
  const dir = options.dir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const secrets = {
    webhook: randomBytes(16).toString('hex'),
    relay: randomBytes(16).toString('hex'),
    releasesRelay: randomBytes(16).toString('hex'),
    operator: `demo-operator-${randomBytes(12).toString('hex')}`,
    ha: randomBytes(16).toString('hex'),
    github: `demo-github-${randomBytes(12).toString('hex')}`,
  };
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  // wrangler runs in its own process group, so a Ctrl-C in the terminal never reaches it: the
  // demo must stop it itself, whenever the signal comes. The first signal stops the demo at its
  // next step (and ends any wait); a second one quits at once.
  const interrupted = new AbortController();
  const onSignal = () => {
    if (interrupted.signal.aborted) process.exit(130);
    interrupted.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const step = (text: string) => {
    if (interrupted.signal.aborted) throw new Error('interrupted');
    say(text);
  };
  const waitUntil = (what: string, probe: () => Promise<boolean>, timeoutMs: number) => waitUntilOrStopped(what, probe, timeoutMs, interrupted.signal);

  try {
    step('A sample Home Assistant configuration, as a git repository');
    const bare = join(dir, 'home-assistant-config.git');
    const work = join(dir, 'work');
    await git(dir, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
    await git(dir, 'clone', '--quiet', bare, work);
    await cp(join(ROOT, 'demo/sample-config'), work, { recursive: true });
    await git(work, 'add', '-A');
    await git(work, 'commit', '--quiet', '-m', 'Initial configuration');
    await git(work, 'push', '--quiet', 'origin', 'HEAD:main');
    console.log(`  ${bare}`);

    step('The Home Assistant host: a config folder with its own secrets and state, and the stand-in API');
    const configRoot = join(dir, 'homeassistant/config');
    const backupDir = join(dir, 'homeassistant/backup');
    await cp(join(ROOT, 'demo/sample-config'), configRoot, { recursive: true });
    await writeFile(join(configRoot, 'secrets.yaml'), 'weather_api_key: "kept-on-the-host"\n');
    await mkdir(join(configRoot, '.storage'), { recursive: true });
    await writeFile(join(configRoot, '.storage/core.config_entries'), '{"version": 1, "data": {"entries": []}}\n');
    await mkdir(backupDir, { recursive: true });
    const ha = await startHomeAssistantStandIn({ configDir: configRoot, token: secrets.ha, restartDelayMs: 1500 });
    cleanups.push(() => ha.close());
    console.log(`  config ${configRoot}\n  API    ${ha.url}/api/`);

    step('GitHub\'s Deployments API: a stand-in on 127.0.0.1 that checks and records what the edge sends');
    // A GitHub App of the demo's own (a key pair made now): only an App may post check runs.
    const app = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const github = await startGithubStandIn({ token: secrets.github, app: { appId: DEMO_APP_ID, publicKeyPem: app.publicKey.export({ type: 'spki', format: 'pem' }).toString(), installationId: 1 } });
    cleanups.push(() => github.close());
    console.log(`  ${github.url}`);

    step('An OpenTelemetry collector: a stand-in on 127.0.0.1 that keeps the traces the edge exports');
    const traces = await startTraceDemo();
    cleanups.push(() => traces.close());

    step('The edge: the Worker under wrangler dev, local Durable Objects and D1');
    const port = await choosePort(options.port);
    const edge = await startLocalEdge({
      port,
      persistDir: join(dir, 'edge-state'),
      logFile: join(dir, 'edge.log'),
      vars: {
        TARGETS: JSON.stringify([
          // Restarts only in a window shut while the demo runs; the page links HA's backups on the stand-in.
          { name: 'home', repo: REPO, branch: 'main', relayTokenSecret: 'RELAY_TOKEN_HOME', restartWindows: [shutRestartWindow(DEMO_TIME_ZONE)], timeZone: DEMO_TIME_ZONE, environmentUrl: ha.url },
          { name: 'releases', repo: REPO, branch: 'main', trigger: { type: 'tag', pattern: 'v*' }, relayTokenSecret: 'RELAY_TOKEN_RELEASES' },
        ]),
        WEBHOOK_SECRET: secrets.webhook,
        RELAY_TOKEN_HOME: secrets.relay,
        RELAY_TOKEN_RELEASES: secrets.releasesRelay,
        ...traces.vars,
        API_TOKENS: JSON.stringify([{ name: 'demo', role: 'operator', token: secrets.operator }]),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        GITHUB_API_URL: github.url,
        GITHUB_TOKEN: secrets.github,
        GITHUB_APP_ID: DEMO_APP_ID,
        GITHUB_APP_PRIVATE_KEY: app.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      },
    });
    cleanups.push(() => edge.stop());
    console.log(`  ${edge.url}  (log: ${join(dir, 'edge.log')})`);

    step('The relay, with the local transport');
    const relayConfigPath = join(dir, 'relay.yaml');
    const relayConfig = {
      relayId: 'demo-relay',
      stateDir: join(dir, 'relay-state'),
      edge: { url: edge.url, target: 'home', token: secrets.relay, heartbeatSeconds: 30, maxBackoffSeconds: 5 },
      git: { remote: bare, branch: 'main' },
      host: { transport: 'local', configRoot, backupDir },
      // Home Assistant backs itself up (the stand-in's Supervisor) before every restart.
      homeAssistant: { url: ha.url, token: secrets.ha, verifyTimeoutSeconds: 60, backup: { enabled: true, timeoutSeconds: 60 } },
      // Looks at the host every 2 s (300 by default), so the UI edit shows on the edge at once.
      watch: { intervalSeconds: 2 },
      // Captures go to the demo's own repository (a local path: no key needed).
      capture: { pushRemote: bare },
      // The edge's alerts (a failure, a rollback, drift, a freeze) go to this phone's notify service.
      alerts: { notify: [DEMO_PHONE] },
    };
    await writeFile(relayConfigPath, stringify(relayConfig));
    const loaded = await resolveRelayConfig(relayConfig, relayConfigPath, {});
    const logger = consoleLogger('relay');
    const pipeline = await createPipeline(loaded, logger);
    const relay = await startRelay(loaded, pipeline, logger);
    cleanups.push(async () => {
      await relay.stop();
      await pipeline.close();
    });
    await waitUntil('the relay to connect', async () => relay.connection.current === 'ready', 30_000);

    const call = async (path: string, init?: { method: 'POST'; body: unknown }) => {
      const response = await fetch(`${edge.url}/api${path}`, {
        method: init?.method ?? 'GET',
        headers: { Authorization: `Bearer ${secrets.operator}`, ...(init ? { 'Content-Type': 'application/json' } : {}) },
        body: init ? JSON.stringify(init.body) : undefined,
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const api = async (path: string) => (await call(path)).body;
    /** GitHub's signed push webhook for a commit already on main; the deployment it queued. */
    const deliverPush = async (sha: string, message: string): Promise<string> => {
      const body = JSON.stringify({
        ref: 'refs/heads/main',
        before: '0'.repeat(40),
        after: sha,
        repository: { full_name: REPO },
        pusher: { name: 'demo' },
        head_commit: { id: sha, message, author: { name: 'Demo Homeowner' } },
      });
      const response = await fetch(`${edge.url}/webhooks/github`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-GitHub-Event': 'push',
          'X-GitHub-Delivery': crypto.randomUUID(),
          'X-Hub-Signature-256': await sign(secrets.webhook, body),
        },
        body,
      });
      const answer = (await response.json()) as { deployments?: { deploymentId: string }[]; reason?: string };
      console.log(`  signed push of ${sha.slice(0, 7)} "${message}" → HTTP ${response.status} ${answer.reason ?? ''}`);
      const id = answer.deployments?.[0]?.deploymentId;
      if (!id) throw new Error('the edge did not queue the push');
      return id;
    };
    const push = async (files: Record<string, string>, message: string): Promise<string> => {
      for (const [path, content] of Object.entries(files)) await writeFile(join(work, path), content);
      await git(work, 'commit', '--quiet', '-am', message);
      await git(work, 'push', '--quiet', 'origin', 'HEAD:main');
      return deliverPush(await git(work, 'rev-parse', 'HEAD'), message);
    };
    const finished = async (id: string): Promise<DeploymentView> => {
      let view: DeploymentView | null = null;
      await waitUntil(`deployment ${id} to finish`, async () => {
        view = ((await api(`/deployments/home/logs?deploymentId=${id}`)).deployment ?? null) as DeploymentView | null;
        return view !== null && ['succeeded', 'failed', 'rolled_back'].includes(view.status);
      }, 180_000);
      return view!;
    };

    /** What GitHub heard about a deployment, once its status there is final (the outbox sends it shortly after). */
    const onGithub = async (id: string): Promise<string> => {
      await waitUntil(`GitHub to hear how ${id} ended`, async () => ['success', 'failure', 'error'].includes(github.statesOf(id).at(-1) ?? ''), 30_000).catch(() => undefined);
      const made = github.deploymentFor(id);
      return made ? `GitHub deployment #${made.id} (${made.environment}): ${made.statuses.map((s) => s.state).join(' → ')}` : 'GitHub heard nothing yet';
    };

    step('Push 1: a new automation (a one-file change: reload, no restart)');
    const automations = `${await readFile(join(work, 'automations.yaml'), 'utf8')}- id: garage_closed_at_night\n  alias: Close the garage at night\n  trigger:\n    - platform: time\n      at: "23:00:00"\n  action: []\n`;
    const first = await finished(await push({ 'automations.yaml': automations }, 'Close the garage at night'));
    console.log(`  → ${first.status}: ${first.summary?.filesChanged?.join(', ')} (${first.summary?.activation}), backup ${first.summary?.backupId}`);
    console.log(`  ${await onGithub(first.id)}`);
    await traces.show(first.id);

    step('Push 2: an invalid configuration (includes a file that is not there)');
    const invalid = `${await readFile(join(work, 'configuration.yaml'), 'utf8')}\nsensor: !include sensors.yaml\n`;
    const second = await finished(await push({ 'configuration.yaml': invalid }, 'Add sensors (forgot the file)'));
    console.log(`  → ${second.status}: ${second.reason}`);
    console.log(`  ${await onGithub(second.id)}`);
    const onHost = await readFile(join(configRoot, 'configuration.yaml'), 'utf8');
    console.log(`  configuration.yaml on the host is ${onHost.includes('sensors.yaml') ? 'STILL CHANGED (bug!)' : 'back to what it was'}`);
    const alertLine = await showAlertOnThePhone({ ha, deploymentId: second.id, api, waitUntil, step });

    const uiEdit = await runUiEditLoop({ work, git, homeAssistant: { url: ha.url, token: secrets.ha }, github, api: call, deliverPush, finished, waitUntil, step });

    // Pull request #2 (the capture's was #1): a plan of what merging it would do, as a check run.
    const plan = await showPullRequestPlan({ edgeUrl: edge.url, webhookSecret: secrets.webhook, repo: REPO, work, bare, git, github, waitUntil, step, number: 2 });

    const living = await runLivingWithIt({
      work, git, homeAssistant: { url: ha.url, token: secrets.ha }, api: call, deliverPush, finished, waitUntil, step,
      edgeUrl: edge.url, webhookSecret: secrets.webhook, repo: REPO, remote: bare, dir, configRoot, ha, push, releasesRelayToken: secrets.releasesRelay,
    });

    step('Prometheus: GET /metrics, the OpenMetrics text a scrape reads');
    await showPrometheusScrape(edge.url, secrets.operator);

    const ok = first.status === 'succeeded' && second.status === 'rolled_back' && !onHost.includes('sensors.yaml') && uiEdit.ok && plan.ok && living.ok;
    say(ok ? 'Deployed, rolled back by itself, a UI edit came back to git and deployed, and the house lived with it.' : 'The demo did not go as expected; see the logs above.');
    console.log(`  status page: ${edge.url}/  (sign in with the API token below)\n  API token:   ${secrets.operator}\n  try:        curl -H "Authorization: Bearer ${secrets.operator}" ${edge.url}/api/deployments/home/history`);
    console.log(`DEMO RESULT: deploy ${first.status}, invalid config ${second.status}, ${uiEdit.result}; ${alertLine}; pull request plan ${plan.conclusion}; ${living.results.join('; ')}`);

    if (!options.once) {
      console.log('\nRunning until Ctrl-C.');
      if (!interrupted.signal.aborted) await new Promise<void>((r) => interrupted.signal.addEventListener('abort', () => r(), { once: true }));
    }
    return ok ? 0 : 1;
  } catch (error) {
    if (!interrupted.signal.aborted) throw error;
    console.log('\nInterrupted.');
    return 130;
  } finally {
    say('Cleaning up');
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function waitUntilOrStopped(what: string, probe: () => Promise<boolean>, timeoutMs: number, stopped: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopped.aborted) throw new Error(`interrupted while waiting for ${what}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

if (process.argv[1]?.endsWith('run-demo.ts')) {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '8787' }, once: { type: 'boolean', default: false }, dir: { type: 'string', default: join(ROOT, '.lanyard-demo') } },
  });
  runDemo({ port: Number(values.port), once: values.once ?? false, dir: resolve(values.dir!) }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
