// `npm run setup -- --local` end to end, on 127.0.0.1 only: against wrangler dev (local D1, a
// .dev.vars file in place of `wrangler secret bulk`), the GitHub stand-in (which creates the hook,
// pings it, and later delivers a signed push to it, as GitHub does), a real sshd as the Home
// Assistant host and the Home Assistant stand-in. The commands are the README's, run as a new user
// would, and counted; the one command on the host is the `authorized_keys` line setup prints.
// After it, a push at the stand-in deploys; the same run again changes nothing.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushPayload } from '../support/github-payloads.ts';
import { startGithubStandIn, type GithubStandIn } from '../support/github-standin.ts';
import { createHouse, TEST_REPO, TEST_SECRETS, type House } from '../support/house.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';

const ROOT = join(import.meta.dirname, '../..');
const GITHUB_TOKEN = 'github-token-used-once-by-setup';

let sshd: Sshd;
let github: GithubStandIn;
let house: House;
let stateDir: string;
let port: number;
let answers: string[];
/** Every command the new user types, as they type it. */
const userCommands: string[] = [];

interface SetupRun {
  code: number;
  output: string;
}

/** Runs `npm run setup -- …` as the user would; `onLine` sees each line it prints as it comes. */
function runSetup(args: string[], onLine: (line: string) => void = () => {}): Promise<SetupRun> {
  userCommands.push(`npm run setup -- ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'setup', '--', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let partial = '';
    const take = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Every file setup keeps (its folder and the relay's), with content digests and mtimes. */
async function snapshot(folder: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const full = join(dir, name);
      // The running edge's and relay's own working state and logs are theirs, not setup's.
      if (['edge-state', 'state', 'edge.log', 'relay.log', '.wrangler'].includes(name)) continue;
      const info = await stat(full);
      if (info.isDirectory()) await walk(full);
      else out[full.slice(folder.length + 1)] = `${createHash('sha256').update(await readFile(full)).digest('hex')} ${info.mtimeMs} ${(info.mode & 0o777).toString(8)}`;
    }
  };
  await walk(folder);
  return out;
}

beforeAll(async () => {
  sshd = await startSshd();
  github = await startGithubStandIn({ token: GITHUB_TOKEN });
  const configRoot = join(sshd.homeDir, 'config');
  const backupDir = join(sshd.homeDir, 'backup');
  await mkdir(configRoot, { recursive: true });
  house = await createHouse({
    edgeUrl: 'http://127.0.0.1:9',
    transport: { kind: 'ssh', host: sshd.host, port: sshd.port, username: sshd.username, privateKeyPath: sshd.privateKeyPath, hostKeyFingerprint: sshd.hostKeyFingerprint, configRoot, backupDir },
  });
  stateDir = await mkdtemp(join(tmpdir(), 'lanyard-setup-'));
  port = await freePort();
  answers = [
    '--local',
    '--yes',
    `--state-dir=${stateDir}`,
    `--port=${port}`,
    `--repo=${TEST_REPO}`,
    `--github-token=${GITHUB_TOKEN}`,
    `--github-api-url=${github.url}`,
    `--git-remote=${house.bare}`,
    `--ssh-host=${sshd.host}`,
    `--ssh-port=${sshd.port}`,
    `--ssh-user=${sshd.username}`,
    `--host-key-fingerprint=${sshd.hostKeyFingerprint}`,
    `--config-root=${configRoot}`,
    `--backup-dir=${backupDir}`,
    `--ha-url=${house.ha.url}`,
    `--ha-token=${TEST_SECRETS.haToken}`,
    '--authorize-timeout=120',
  ];
}, 120_000);

afterAll(async () => {
  // Stops only the edge and relay this setup started, by the pids it recorded.
  if (stateDir) await runSetup([`--state-dir=${stateDir}`, '--local', '--stop']).catch(() => undefined);
  await house?.close();
  await github?.close();
  await sshd?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
}, 60_000);

describe('npm run setup', () => {
  it('--dry-run prints every command and file, and runs and writes nothing', async () => {
    const dryState = join(stateDir, 'dry');
    const { code, output } = await runSetup(answers.map((a) => (a.startsWith('--state-dir=') ? `--state-dir=${dryState}` : a)).concat('--dry-run'));
    userCommands.pop(); // a look before leaping is not one of the user's commands
    expect(code, output).toBe(0);
    expect(output).toMatch(/would run .* d1 migrations apply LEDGER --local/);
    expect(output).toMatch(/would write .*\.dev\.vars/);
    expect(output).toMatch(/would run .* ssh-keygen -q -t ed25519/);
    expect(output).toMatch(/would write .*relay\/relay\.yaml/);
    expect(output).toMatch(/would GET .*\/repos\/octo-home\/ha-config\/hooks/);
    expect(output).toContain('SETUP CHANGES: 0');
    await expect(stat(dryState)).rejects.toThrow(/ENOENT/);
    expect(github.hooks.hooks).toEqual([]);
  }, 120_000);

  it('--dry-run against Cloudflare prints the D1, secret and deploy commands, and asks Cloudflare nothing', async () => {
    const dryState = join(stateDir, 'dry-remote');
    const remote = answers
      .filter((a) => a !== '--local' && !a.startsWith('--port=') && !a.startsWith('--state-dir='))
      .concat(`--state-dir=${dryState}`, '--public-url=https://lanyard.example.workers.dev', `--wrangler-config=${join(dryState, 'wrangler.toml')}`, '--dry-run');
    const { code, output } = await runSetup(remote);
    userCommands.pop();
    expect(code, output).toBe(0);
    for (const command of ['d1 list --json', 'd1 create lanyard-ledger', 'd1 migrations apply LEDGER --remote', 'secret bulk', 'deploy -c']) expect(output).toMatch(new RegExp(`would run .*wrangler\\.js ${command}`));
    // The secrets go on stdin, never on the command line or into the printout.
    expect(output).toContain('secret bulk -c');
    expect(output).toContain('< (secret on stdin)');
    expect(output).not.toContain(TEST_SECRETS.haToken);
    expect(output).toContain('[vars.TARGETS.home]');
    expect(output).toContain('sudo systemctl daemon-reload && sudo systemctl enable --now lanyard-relay');
    await expect(stat(dryState)).rejects.toThrow(/ENOENT/);
  }, 120_000);

  it('takes a new user to a first deploy in at most three commands, as the README says', async () => {
    // The README's own commands for a house: every line of its setup block is one the user types.
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const block = /## Your own house\n\n```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const readmeCommands = block.split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);
    expect(readmeCommands).toEqual(['npm install', 'npm run setup']);
    userCommands.push('npm install'); // done already: the test runs in the installed clone

    let hostCommand: string | null = null;
    const { code, output } = await runSetup(answers, (line) => {
      const keyLine = /^\s+(restrict ssh-ed25519 \S+ \S+)$/.exec(line)?.[1];
      if (keyLine && !hostCommand) {
        // The owner, on the Home Assistant host, adds the line setup printed.
        hostCommand = `echo '${keyLine}' >> ~${sshd.username}/.ssh/authorized_keys`;
        userCommands.push(hostCommand);
        void sshd.authorizeKey(keyLine);
      }
    });
    expect(code, output).toBe(0);
    expect(hostCommand).not.toBeNull();
    expect(userCommands.length, userCommands.join('\n')).toBeLessThanOrEqual(3);

    // What setup says at the end: the status page, and the admin token once.
    const url = `http://127.0.0.1:${port}`;
    expect(output).toContain(`status page: ${url}/`);
    const adminToken = /admin token: (lanyard-admin-[0-9a-f]{64})/.exec(output)?.[1];
    expect(adminToken).toBeDefined();
    expect(output).toMatch(/ok\s+ssh/);

    // The webhook GitHub holds: the edge's URL, JSON, the events, a secret; its ping was signed and accepted.
    expect(github.hooks.hooks).toHaveLength(1);
    const [hook] = github.hooks.hooks;
    expect(hook).toMatchObject({ owner: 'octo-home', repo: 'ha-config', active: true, events: ['push'], config: { url: `${url}/webhooks/github`, content_type: 'json' } });
    expect(github.hooks.deliveries.find((d) => d.event === 'ping')?.status).toBe(200);
    // The GitHub token was used once and written nowhere.
    for (const content of Object.keys(await snapshot(stateDir))) expect(await readFile(join(stateDir, content), 'utf8')).not.toContain(GITHUB_TOKEN);
    const health = (await (await fetch(`${url}/healthz`)).json()) as { problems: unknown[] };
    expect(health.problems).toEqual([]);

    // A push GitHub delivers to the hook it holds deploys, over SSH, to the host.
    const automations = `${await readFile(join(house.work, 'automations.yaml'), 'utf8')}- id: set_up_by_setup\n  alias: First deploy after setup\n  trigger: []\n  action: []\n`;
    const sha = await house.commit({ 'automations.yaml': automations }, 'First deploy after setup');
    const [delivery] = await github.hooks.deliverPush(TEST_REPO, pushPayload({ after: sha, message: 'First deploy after setup' }));
    expect(delivery?.status, delivery?.answer).toBe(202);
    const deploymentId = (JSON.parse(delivery!.answer) as { deployments: Array<{ deploymentId: string }> }).deployments[0]!.deploymentId;
    const finished = await waitFor(
      'the first deploy to finish',
      async () => {
        const response = await fetch(`${url}/api/deployments/home/logs?deploymentId=${deploymentId}`, { headers: { Authorization: `Bearer ${adminToken}` } });
        const body = (await response.json()) as { deployment?: { status: string; reason: string | null } };
        return body.deployment && ['succeeded', 'failed', 'rolled_back'].includes(body.deployment.status) ? body.deployment : null;
      },
      180_000,
      500,
    );
    expect(finished.status, finished.reason ?? '').toBe('succeeded');
    expect(await readFile(join(house.configRoot, 'automations.yaml'), 'utf8')).toBe(automations);
  }, 600_000);

  it('run again, changes nothing: the same files, secrets, webhook and running services', async () => {
    const before = await snapshot(stateDir);
    const secretsBefore = await readFile(join(stateDir, 'secrets.json'), 'utf8');
    const pids = await readFile(join(stateDir, 'edge.pid.json'), 'utf8');
    const githubCalls = github.requests.length;
    const { code, output } = await runSetup(answers);
    expect(code, output).toBe(0);
    expect(output).toContain('SETUP CHANGES: 0');
    expect(output).not.toMatch(/admin token: lanyard-admin-/);
    expect(await snapshot(stateDir)).toEqual(before);
    expect(await readFile(join(stateDir, 'secrets.json'), 'utf8')).toBe(secretsBefore);
    expect(await readFile(join(stateDir, 'edge.pid.json'), 'utf8')).toBe(pids);
    // One look at the hooks, nothing created or changed.
    expect(github.requests.slice(githubCalls).map((r) => r.method)).toEqual(['GET']);
    expect(github.hooks.hooks).toHaveLength(1);
  }, 300_000);

  it('--update redeploys the edge and restarts the relay, keeping every file and secret, and asks nothing', async () => {
    const secretsBefore = await readFile(join(stateDir, 'secrets.json'), 'utf8');
    const edgePid = JSON.parse(await readFile(join(stateDir, 'edge.pid.json'), 'utf8')) as { pid: number };
    const relayPid = JSON.parse(await readFile(join(stateDir, 'relay.pid.json'), 'utf8')) as { pid: number };
    // Only what steers the run: every answer comes from the run before.
    const { code, output } = await runSetup([`--state-dir=${stateDir}`, '--local', '--update']);
    userCommands.pop();
    expect(code, output).toBe(0);
    expect(output).toContain('the ledger\'s migrations are all applied');
    expect(output).toMatch(/the webhook \(id \d+\) was set up by an earlier run; left as it is/);
    expect((JSON.parse(await readFile(join(stateDir, 'edge.pid.json'), 'utf8')) as { pid: number }).pid).not.toBe(edgePid.pid);
    expect((JSON.parse(await readFile(join(stateDir, 'relay.pid.json'), 'utf8')) as { pid: number }).pid).not.toBe(relayPid.pid);
    expect(await readFile(join(stateDir, 'secrets.json'), 'utf8')).toBe(secretsBefore);
    expect(output).toMatch(/ok\s+edge/);
  }, 300_000);
});
