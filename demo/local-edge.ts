// Runs the edge locally: `wrangler dev` on 127.0.0.1 with local Durable Objects and D1 persisted
// in a folder, the ledger's migrations applied first. Used by the demo and the end-to-end tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WRANGLER = createRequire(import.meta.url).resolve('wrangler/bin/wrangler.js');

/** No traffic leaves the machine: no Request.cf fetch, no metrics. */
const OFFLINE_ENV = { CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', FORCE_COLOR: '0' };

export interface LocalEdgeOptions {
  port: number;
  persistDir: string;
  /** Vars and secrets, e.g. TARGETS (JSON), WEBHOOK_SECRET, API_TOKENS, RELAY_TOKEN_HOME. */
  vars: Record<string, string>;
  logFile: string;
}

export interface LocalEdge {
  url: string;
  port: number;
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

async function waitUntilServing(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode} before serving`);
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
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

export async function startLocalEdge(options: LocalEdgeOptions): Promise<LocalEdge> {
  await mkdir(options.persistDir, { recursive: true });
  await mkdir(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  await run(['d1', 'migrations', 'apply', 'LEDGER', '--local', '--persist-to', options.persistDir], log);
  const url = `http://127.0.0.1:${options.port}`;
  let child: ChildProcess | null = null;

  const start = async () => {
    const vars = Object.entries(options.vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
    // Its own devtools port: two edges starting at once (parallel tests, a test beside the demo)
    // would otherwise both take 9229, and the second dies with "Address already in use".
    const inspector = ['--inspector-ip', '127.0.0.1', '--inspector-port', String(await unusedLoopbackPort())];
    child = spawn(
      process.execPath,
      [WRANGLER, 'dev', '--ip', '127.0.0.1', '--port', String(options.port), '--persist-to', options.persistDir, '--show-interactive-dev-session=false', '--log-level', 'info', ...inspector, ...vars],
      { cwd: ROOT, env: { ...process.env, ...OFFLINE_ENV }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    await waitUntilServing(url, child, 60_000);
  };

  const stop = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
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
  };

  await start();
  return {
    url,
    port: options.port,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
  };
}

export const EDGE_LOG_DIR = join(ROOT, 'test-output');
