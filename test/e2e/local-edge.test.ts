// The local edge (demo/local-edge.ts) as the demo, the tests and the benchmarks start it: its
// secrets are in no process's command line while it runs (`ps` shows every user's), they sit in a
// 0600 file in a 0700 folder that is gone once it stops, and what the edge finds wrong with its
// configuration is printed when it starts.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { envFileLine, startLocalEdge, type LocalEdge } from '../../demo/local-edge.ts';
import { freePort } from '../support/ports.ts';

const run = promisify(execFile);

const SECRETS = {
  WEBHOOK_SECRET: 'local-edge-webhook-secret-5d1c0f',
  RELAY_TOKEN_HOME: 'local-edge-relay-token-8e2b7a',
  // Too short to sign sessions with: the edge says so when it starts.
  SESSION_SECRET: 'local-edge-short-3c9d',
};
const API_TOKEN = 'local-edge-api-token-1a6f4e';
/** Quotes, a `#` and an escaped newline: what an env file line can get wrong. */
const ENVIRONMENT = "Ada's home # lab\nfloor \"2\"";

let dir: string;
let edge: LocalEdge;
const warned: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lanyard-local-edge-'));
  const warn = vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void warned.push(args.map(String).join(' ')));
  try {
    edge = await startLocalEdge({
      port: await freePort(),
      persistDir: join(dir, 'edge-state'),
      logFile: join(dir, 'edge.log'),
      vars: {
        ...SECRETS,
        TARGETS: JSON.stringify([{ name: 'home', repo: 'octo-home/ha-config', branch: 'main', environment: ENVIRONMENT, relayTokenSecret: 'RELAY_TOKEN_HOME' }]),
        API_TOKENS: JSON.stringify([{ name: 'ada', role: 'admin', token: API_TOKEN }]),
      },
    });
  } finally {
    warn.mockRestore();
  }
}, 120_000);

afterAll(async () => {
  await edge?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function commandLines(): Promise<string> {
  return (await run('ps', ['-eo', 'args'], { maxBuffer: 16 * 1024 * 1024 })).stdout;
}

/** The env file of this test's edge: its own wrangler dev, told apart by its port (other tests run edges beside it). */
async function envFileOfThisEdge(): Promise<string | undefined> {
  const line = (await commandLines()).split('\n').find((l) => l.includes(`--port ${edge.port} `) && l.includes('--env-file '));
  return line ? /--env-file (\S+)/.exec(line)?.[1] : undefined;
}

describe('a running local edge', () => {
  it('shows none of its secrets in any command line, and runs with them', async () => {
    const lines = await commandLines();
    // The right processes are in the list: the wrangler dev of this edge, by its port.
    expect(lines).toContain(`--port ${edge.port} `);
    for (const secret of [...Object.values(SECRETS), API_TOKEN]) expect(lines).not.toContain(secret);
    expect(lines).not.toContain('--var');
    // They reached the Worker all the same, as they were: the API knows the token and shows the
    // target's environment name unchanged; the relay route knows the relay token.
    const targets = await fetch(`${edge.url}/api/targets`, { headers: { Authorization: `Bearer ${API_TOKEN}` } });
    expect(targets.status).toBe(200);
    expect(((await targets.json()) as { targets: { environment: string }[] }).targets[0]!.environment).toBe(ENVIRONMENT);
    const relay = await fetch(`${edge.url}/relay/connect?target=home`, { headers: { Authorization: `Bearer ${SECRETS.RELAY_TOKEN_HOME}` } });
    expect(relay.status).toBe(426);
  });

  it('keeps them in a 0600 file in a folder only its user can enter, removed when the edge stops', async () => {
    const file = await envFileOfThisEdge();
    expect(file).toBeDefined();
    expect((await stat(file!)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(file!))).mode & 0o777).toBe(0o700);
    await edge.restart();
    const again = await envFileOfThisEdge();
    expect(again).toBeDefined();
    await expect(stat(file!)).rejects.toMatchObject({ code: 'ENOENT' });
    await edge.stop();
    await expect(stat(again!)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(dirname(again!))).rejects.toMatchObject({ code: 'ENOENT' });
    await edge.restart();
  });

  it('printed at start what the edge finds wrong: SESSION_SECRET too short, and how to set one', () => {
    expect(edge.problems.map((p) => p.code)).toEqual(['session_secret_short']);
    expect(warned.join('\n')).toMatch(/SESSION_SECRET is 21 characters; it must be at least 32 random ones[\s\S]*openssl rand -base64 32 \| npx wrangler secret put SESSION_SECRET/);
  });
});

describe('the env file', () => {
  it('refuses a name or a value it cannot write, rather than write something wrangler would read otherwise', () => {
    expect(() => envFileLine('X', 'both \' and `')).toThrow(/cannot be written to an env file/);
    expect(() => envFileLine('NOT A NAME', 'x')).toThrow(/cannot be the name of a var/);
  });
});
