// A whole house on 127.0.0.1 for end-to-end tests: the config repository (a local bare git
// repository), a Home Assistant host folder with its own secrets and state, the Home Assistant
// stand-in serving that folder, and a relay config file pointing at all of them. The edge is
// started separately (`startTestEdge`) so several tests can share one.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { startLocalEdge, type LocalEdge } from '../../demo/local-edge.ts';
import { startHomeAssistantStandIn, type HomeAssistantStandIn } from './home-assistant-standin.ts';
import { freePort } from './ports.ts';
import { startRelayProcess, type RelayProcess } from './relay-process.ts';
import type { Sshd } from './sshd.ts';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SAMPLE_CONFIG = join(ROOT, 'demo/sample-config');

export const TEST_SECRETS = {
  webhookSecret: 'house-webhook-secret',
  relayToken: 'house-relay-token-0123456789',
  operatorToken: 'house-operator-token-0123456789',
  adminToken: 'house-admin-token-0123456789',
  haToken: 'house-ha-long-lived-token',
};

export const TEST_REPO = 'octo-home/ha-config';

const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Ada Homeowner',
  GIT_AUTHOR_EMAIL: 'ada@example.com',
  GIT_COMMITTER_NAME: 'Ada Homeowner',
  GIT_COMMITTER_EMAIL: 'ada@example.com',
};

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: { ...process.env, ...GIT_ENV } });
  return stdout.trim();
}

export interface TestEdge extends LocalEdge {
  persistDir: string;
}

/** `wrangler dev` on a free port with one target, `home`, for TEST_REPO. */
export async function startTestEdge(dir: string, extraVars: Record<string, string> = {}): Promise<TestEdge> {
  const persistDir = join(dir, 'edge-state');
  const edge = await startLocalEdge({
    port: await freePort(),
    persistDir,
    logFile: join(dir, 'edge.log'),
    vars: {
      TARGETS: JSON.stringify([{ name: 'home', repo: TEST_REPO, branch: 'main', relayTokenSecret: 'RELAY_TOKEN_HOME' }]),
      WEBHOOK_SECRET: TEST_SECRETS.webhookSecret,
      RELAY_TOKEN_HOME: TEST_SECRETS.relayToken,
      API_TOKENS: JSON.stringify([
        { name: 'otto', role: 'operator', token: TEST_SECRETS.operatorToken },
        { name: 'ada', role: 'admin', token: TEST_SECRETS.adminToken },
      ]),
      ...extraVars,
    },
  });
  return Object.assign(edge, { persistDir });
}

export interface House {
  dir: string;
  bare: string;
  work: string;
  configRoot: string;
  backupDir: string;
  stateDir: string;
  ha: HomeAssistantStandIn;
  relayConfigPath: string;
  /** Writes files (null deletes) in the work tree, commits and pushes to main; returns the sha. */
  commit(files: Record<string, string | null>, message: string): Promise<string>;
  close(): Promise<void>;
}

export interface HouseOptions {
  edgeUrl: string;
  transport?: { kind: 'local' } | { kind: 'ssh'; host: string; port: number; username: string; privateKeyPath: string; hostKeyFingerprint: string; configRoot: string; backupDir: string };
  relayOverrides?: Record<string, unknown>;
  restartDelayMs?: number;
}

/** The house's own files, which no deploy may ever touch. */
export const HOST_ONLY_FILES: Record<string, string> = {
  'secrets.yaml': 'weather_api_key: "real-key-from-the-host"\n',
  '.storage/core.config_entries': '{"version": 1, "data": {"entries": []}}\n',
  '.storage/auth': '{"version": 1, "data": {"users": ["ada"]}}\n',
  'home-assistant_v2.db': 'SQLite format 3\u0000 pretend this is the recorder database\n',
  'home-assistant.log': '2026-11-22 INFO Home Assistant started\n',
  '.HA_VERSION': '2026.11.1\n',
};

export async function createHouse(options: HouseOptions): Promise<House> {
  const dir = await mkdtemp(join(tmpdir(), 'lanyard-house-'));
  const bare = join(dir, 'ha-config.git');
  const work = join(dir, 'work');
  const ssh = options.transport?.kind === 'ssh' ? options.transport : null;
  const configRoot = ssh ? ssh.configRoot : join(dir, 'config');
  const backupDir = ssh ? ssh.backupDir : join(dir, 'backup');
  const stateDir = join(dir, 'relay-state');

  await git(dir, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  await git(dir, 'clone', '--quiet', bare, work);
  await cp(SAMPLE_CONFIG, work, { recursive: true });
  await git(work, 'add', '-A');
  await git(work, 'commit', '--quiet', '-m', 'Initial configuration');
  await git(work, 'push', '--quiet', 'origin', 'HEAD:main');

  // The host already runs Home Assistant with this same configuration and its own state. The
  // sshd of the tests runs on this machine, so the "remote" folders are local folders too.
  await cp(SAMPLE_CONFIG, configRoot, { recursive: true });
  for (const [path, content] of Object.entries(HOST_ONLY_FILES)) {
    await mkdir(dirname(join(configRoot, path)), { recursive: true });
    await writeFile(join(configRoot, path), content);
  }
  await mkdir(backupDir, { recursive: true });
  if (ssh) await run('chown', ['-R', `${ssh.username}:`, configRoot, backupDir]);

  const ha = await startHomeAssistantStandIn({ configDir: configRoot, token: TEST_SECRETS.haToken, restartDelayMs: options.restartDelayMs ?? 300 });

  const relayConfig: Record<string, unknown> = {
    relayId: 'test-house-relay',
    stateDir,
    edge: { url: options.edgeUrl, target: 'home', token: TEST_SECRETS.relayToken, heartbeatSeconds: 5, maxBackoffSeconds: 2 },
    git: { remote: bare, branch: 'main' },
    host: ssh
      ? {
          transport: 'ssh',
          configRoot,
          backupDir,
          ssh: { host: ssh.host, port: ssh.port, username: ssh.username, privateKeyPath: ssh.privateKeyPath, hostKeyFingerprint: ssh.hostKeyFingerprint },
        }
      : { transport: 'local', configRoot, backupDir },
    homeAssistant: { url: ha.url, token: TEST_SECRETS.haToken, verifyTimeoutSeconds: 10, requestTimeoutSeconds: 5 },
    ...options.relayOverrides,
  };
  const relayConfigPath = join(dir, 'relay.yaml');
  await writeFile(relayConfigPath, toYaml(relayConfig));

  return {
    dir,
    bare,
    work,
    configRoot,
    backupDir,
    stateDir,
    ha,
    relayConfigPath,
    async commit(files, message) {
      for (const [path, content] of Object.entries(files)) {
        const full = join(work, path);
        if (content === null) await rm(full, { force: true });
        else {
          await mkdir(dirname(full), { recursive: true });
          await writeFile(full, content);
        }
      }
      await git(work, 'add', '-A');
      await git(work, 'commit', '--quiet', '-m', message);
      await git(work, 'push', '--quiet', 'origin', 'HEAD:main');
      return git(work, 'rev-parse', 'HEAD');
    },
    async close() {
      await ha.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface TreeEntry {
  type: 'file' | 'symlink' | 'dir';
  mode: number;
  sha256?: string;
  target?: string;
}

/** A full listing of a folder with hashes and modes: the "byte-identical" comparison of the host. */
export async function snapshotTree(root: string, skip: (path: string) => boolean = () => false): Promise<Record<string, TreeEntry>> {
  const out: Record<string, TreeEntry> = {};
  async function walk(folder: string): Promise<void> {
    for (const name of (await readdir(folder)).sort()) {
      const full = join(folder, name);
      const path = relative(root, full);
      if (skip(path)) continue;
      const info = await lstat(full);
      if (info.isSymbolicLink()) out[path] = { type: 'symlink', mode: info.mode & 0o777, target: await readlink(full) };
      else if (info.isDirectory()) {
        out[path] = { type: 'dir', mode: info.mode & 0o777 };
        await walk(full);
      } else out[path] = { type: 'file', mode: info.mode & 0o777, sha256: createHash('sha256').update(await readFile(full)).digest('hex') };
    }
  }
  await walk(root);
  return out;
}

export interface ApiClient {
  get(path: string): Promise<Record<string, any>>;
  post(path: string, body: unknown): Promise<{ status: number; body: Record<string, any> }>;
}

export function apiClient(edgeUrl: string, token: string): ApiClient {
  return {
    async get(path) {
      const response = await fetch(`${edgeUrl}/api${path}`, { headers: { Authorization: `Bearer ${token}` } });
      return (await response.json()) as Record<string, any>;
    },
    async post(path, body) {
      const response = await fetch(`${edgeUrl}/api${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    },
  };
}

/** Polls the API until the deployment is in one of `statuses`; returns it with its steps. */
export async function waitForDeployment(api: ApiClient, id: string, statuses: string[], timeoutMs = 60_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, any> | null = null;
  while (Date.now() < deadline) {
    last = await api.get(`/deployments/home/logs?deploymentId=${id}`);
    if (statuses.includes(last.deployment?.status)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`deployment ${id} never reached ${statuses.join('|')}; last: ${JSON.stringify(last)}`);
}

/** The ssh transport of a house whose host is the tests' own sshd. */
export function sshTransportOf(sshd: Sshd): NonNullable<HouseOptions['transport']> {
  return {
    kind: 'ssh',
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    privateKeyPath: sshd.privateKeyPath,
    hostKeyFingerprint: sshd.hostKeyFingerprint,
    configRoot: join(sshd.homeDir, 'config'),
    backupDir: join(sshd.homeDir, 'backup'),
  };
}

export interface RunningHouse {
  edge: TestEdge;
  house: House;
  relay: RelayProcess;
  /** The operator's API client. */
  api: ApiClient;
  stop(): Promise<void>;
}

/** An edge under wrangler dev (with `edgeVars` beside the test's own), a house, and a relay process connected to the edge. */
export async function startHouseWithRelay(options: Omit<HouseOptions, 'edgeUrl'> = {}, edgeVars: Record<string, string> = {}): Promise<RunningHouse> {
  const edge = await startTestEdge(await mkdtemp(join(tmpdir(), 'lanyard-edge-')), edgeVars);
  const house = await createHouse({ ...options, edgeUrl: edge.url });
  const running: RunningHouse = {
    edge,
    house,
    relay: startRelayProcess(house.relayConfigPath),
    api: apiClient(edge.url, TEST_SECRETS.operatorToken),
    async stop() {
      await running.relay.kill('SIGTERM');
      await edge.stop();
      await house.close();
    },
  };
  await running.relay.waitForLog(/edge ready/);
  return running;
}
