// Runs the edge locally: `wrangler dev` on 127.0.0.1 with local Durable Objects and D1 persisted
// in a folder, the ledger's migrations applied first. Used by the demo, the end-to-end tests and
// the benchmarks.
//
// Vars and secrets never go on the command line, where `ps` shows them to every user of the
// machine: they go in an env file, mode 0600 in a private (0700) temporary folder, which wrangler
// dev reads with `--env-file` and which is deleted when the edge stops. (With `--env-file`,
// wrangler reads that file alone: a stray .dev.vars or .env in the repository is not used.)
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WRANGLER = createRequire(import.meta.url).resolve('wrangler/bin/wrangler.js');

/** No traffic leaves the machine: no Request.cf fetch, no metrics. */
const OFFLINE_ENV = { CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', FORCE_COLOR: '0' };

export interface LocalEdgeOptions {
  port: number;
  persistDir: string;
  /**
   * Vars and secrets, e.g. TARGETS (JSON), WEBHOOK_SECRET, API_TOKENS, RELAY_TOKEN_HOME. Without a
   * SESSION_SECRET the edge gets a random one of its own (kept across restarts), so its status page
   * signs in as production's does.
   */
  vars: Record<string, string>;
  logFile: string;
}

/** What the edge says is wrong with its configuration (GET /healthz), each with the fix. */
export interface EdgeProblem {
  code: string;
  message: string;
}

export interface LocalEdge {
  url: string;
  port: number;
  /** The edge's configuration problems when it last started; they are printed then too. */
  problems: EdgeProblem[];
  /** Stops wrangler dev (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
  /** Stops and starts again on the same port and storage: an edge restart. */
  restart(): Promise<void>;
}

function run(args: string[], log: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [WRANGLER, ...args], { cwd: ROOT, env: { ...process.env, ...OFFLINE_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolvePromise() : reject(new Error(`wrangler ${args.slice(0, 3).join(' ')} exited ${code}`))));
  });
}

/** Waits for GET /healthz to answer, and returns the problems it names. */
async function waitUntilServing(url: string, child: ChildProcess, timeoutMs: number): Promise<EdgeProblem[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode} before serving`);
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return ((await response.json()) as { problems?: EdgeProblem[] }).problems ?? [];
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`wrangler dev did not answer on ${url} within ${timeoutMs} ms`);
}

/** A port nothing listens on right now, on 127.0.0.1 (the OS picks it). */
function unusedLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * One `KEY=value` line of a dotenv file as wrangler's parser reads it: single quotes keep the value
 * as it is (newlines included); backticks when it holds a single quote. Double quotes would turn
 * `\n` into a newline, so they are never used.
 */
export function envFileLine(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`${name} cannot be the name of a var: letters, digits and _ only`);
  const quote = !value.includes("'") ? "'" : !value.includes('`') ? '`' : null;
  if (!quote) throw new Error(`${name}: a value with both ' and \` cannot be written to an env file; change the value`);
  return `${name}=${quote}${value}${quote}\n`;
}

/** The env file wrangler dev reads, in a folder only this user can enter; returns the file and its folder. */
async function writeEnvFile(vars: Record<string, string>): Promise<{ file: string; folder: string }> {
  // mkdtemp makes the folder 0700; the file is created 0600 and must not exist yet.
  const folder = await mkdtemp(join(tmpdir(), 'lanyard-edge-vars-'));
  const file = join(folder, 'edge.env');
  await writeFile(file, Object.entries(vars).map(([k, v]) => envFileLine(k, v)).join(''), { mode: 0o600, flag: 'wx' });
  return { file, folder };
}

export async function startLocalEdge(options: LocalEdgeOptions): Promise<LocalEdge> {
  await mkdir(options.persistDir, { recursive: true });
  await mkdir(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  await run(['d1', 'migrations', 'apply', 'LEDGER', '--local', '--persist-to', options.persistDir], log);
  const url = `http://127.0.0.1:${options.port}`;
  const vars = { SESSION_SECRET: randomBytes(32).toString('base64'), ...options.vars };
  let child: ChildProcess | null = null;
  let envFolder: string | null = null;
  const edge: LocalEdge = { url, port: options.port, problems: [], stop: async () => {}, restart: async () => {} };

  const start = async () => {
    const env = await writeEnvFile(vars);
    envFolder = env.folder;
    // Its own devtools port: two edges starting at once (parallel tests, a test beside the demo)
    // would otherwise both take 9229, and the second dies with "Address already in use".
    const inspector = ['--inspector-ip', '127.0.0.1', '--inspector-port', String(await unusedLoopbackPort())];
    child = spawn(
      process.execPath,
      [WRANGLER, 'dev', '--ip', '127.0.0.1', '--port', String(options.port), '--persist-to', options.persistDir, '--show-interactive-dev-session=false', '--log-level', 'info', ...inspector, '--env-file', env.file],
      { cwd: ROOT, env: { ...process.env, ...OFFLINE_ENV }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    edge.problems = await waitUntilServing(url, child, 60_000);
    // The nearest a Worker has to a message at start-up: what the edge itself says is wrong.
    for (const problem of edge.problems) console.warn(`edge ${url}: ${problem.message}`);
  };

  const removeEnvFile = async () => {
    const folder = envFolder;
    envFolder = null;
    if (folder) await rm(folder, { recursive: true, force: true });
  };

  const stop = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return removeEnvFile();
    const exited = new Promise<void>((r) => running.once('exit', () => r()));
    // wrangler starts workerd as a child: signal the whole process group.
    try {
      process.kill(-running.pid!, 'SIGTERM');
    } catch {
      running.kill('SIGTERM');
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-running.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 5000);
    await exited;
    clearTimeout(timer);
    await removeEnvFile();
  };

  edge.stop = stop;
  edge.restart = async () => {
    await stop();
    await start();
  };
  try {
    await start();
  } catch (error) {
    await stop();
    throw error;
  }
  return edge;
}

export const EDGE_LOG_DIR = join(ROOT, 'test-output');
