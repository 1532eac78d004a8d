// Rate limits as wrangler.toml configures them, under wrangler dev: a flood of wrong tokens at the
// API, the sign-in form or /relay/connect from one address is answered 429 with Retry-After once it
// passes its surface's limit, writes nothing more, and the right token from another address still
// works. Every request goes to 127.0.0.1; the client address is the `CF-Connecting-IP` header, which
// wrangler dev passes on as Cloudflare would set it (addresses from the documentation ranges).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEdge, TEST_SECRETS, type TestEdge } from '../support/house.ts';
import { waitFor } from '../support/ports.ts';

let dir: string;
let edge: TestEdge;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lanyard-rate-limits-'));
  edge = await startTestEdge(dir);
}, 120_000);

afterAll(async () => {
  await edge?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** wrangler.toml's limits: refusals per address per 60 s. */
const LIMIT = { api: 30, signIn: 10, relay: 30 };

function from(address: string, headers: Record<string, string> = {}): Record<string, string> {
  return { 'CF-Connecting-IP': address, ...headers };
}

/**
 * The answers to a flood, in order: the first `limit` are refusals; a new window can grant at most
 * one more `limit` before the first 429; after it, every answer is 429.
 */
function expectThrottledAfter(statuses: number[], limit: number, refusal: number): number {
  const first429 = statuses.indexOf(429);
  expect(statuses.slice(0, limit)).toEqual(new Array(limit).fill(refusal));
  expect(first429).toBeGreaterThanOrEqual(limit);
  expect(first429).toBeLessThanOrEqual(2 * limit);
  expect(statuses.slice(0, first429).every((s) => s === refusal)).toBe(true);
  expect(statuses.slice(first429).every((s) => s === 429)).toBe(true);
  return first429;
}

function expectRetryAfter(response: Response): void {
  const seconds = Number(response.headers.get('Retry-After'));
  expect(Number.isInteger(seconds)).toBe(true);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThanOrEqual(60);
}

async function accessLogFrom(address: string): Promise<Record<string, any>[]> {
  const response = await fetch(`${edge.url}/api/access-log?limit=200&action=api.unauthorized`, { headers: from('192.0.2.200', { Authorization: `Bearer ${TEST_SECRETS.adminToken}` }) });
  expect(response.status).toBe(200);
  const { entries } = (await response.json()) as { entries: Record<string, any>[] };
  return entries.filter((e) => e.source === address);
}

describe('the API', () => {
  it('answers 429 with Retry-After after 30 wrong tokens from one address, logs no more, and the right token from another address still works', async () => {
    const attacker = '198.51.100.23';
    const statuses: number[] = [];
    let throttled: Response | null = null;
    for (let i = 0; i < 200; i += 1) {
      const response = await fetch(`${edge.url}/api/targets`, { headers: from(attacker, { Authorization: `Bearer wrong-token-${i}-0123456789` }) });
      statuses.push(response.status);
      if (response.status === 429 && !throttled) throttled = response;
      else await response.body?.cancel();
    }
    const first429 = expectThrottledAfter(statuses, LIMIT.api, 401);
    expectRetryAfter(throttled!);
    const body = (await throttled!.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('rate_limited');
    expect(body.error.message).toMatch(/Too many refused API tokens from your address .*Wait \d+ s, check the token/);

    // A throttled address learns nothing about its guesses: the right token waits too.
    const rightFromAttacker = await fetch(`${edge.url}/api/targets`, { headers: from(attacker, { Authorization: `Bearer ${TEST_SECRETS.operatorToken}` }) });
    expect(rightFromAttacker.status).toBe(429);
    const operator = await fetch(`${edge.url}/api/targets`, { headers: from('203.0.113.5', { Authorization: `Bearer ${TEST_SECRETS.operatorToken}` }) });
    expect(operator.status).toBe(200);

    // One access-log row per 401, none for a 429.
    const rows = await waitFor('the refusals in the access log', async () => {
      const found = await accessLogFrom(attacker);
      return found.length >= first429 ? found : null;
    });
    expect(rows).toHaveLength(first429);
    expect(rows.every((r) => r.action === 'api.unauthorized')).toBe(true);
  });

  it('never counts the right token: 100 reads from one address are all answered', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 100; i += 1) {
      const response = await fetch(`${edge.url}/api/targets`, { headers: from('203.0.113.77', { Authorization: `Bearer ${TEST_SECRETS.operatorToken}` }) });
      statuses.push(response.status);
      await response.body?.cancel();
    }
    expect(statuses).toEqual(new Array(100).fill(200));
  });
});

describe('the sign-in form', () => {
  async function signInForm(address: string): Promise<{ nonce: string; csrf: string }> {
    const form = await fetch(`${edge.url}/sign-in`, { headers: from(address) });
    const nonce = /__Host-lanyard_sign_in=([\w-]+)/.exec(form.headers.get('Set-Cookie') ?? '')![1]!;
    const csrf = /name="csrf" value="([^"]*)"/.exec(await form.text())![1]!;
    return { nonce, csrf };
  }

  function postSignIn(address: string, form: { nonce: string; csrf: string }, token: string): Promise<Response> {
    return fetch(`${edge.url}/sign-in`, {
      method: 'POST',
      headers: from(address, { 'Content-Type': 'application/x-www-form-urlencoded', Origin: edge.url, Cookie: `__Host-lanyard_sign_in=${form.nonce}` }),
      body: new URLSearchParams({ token, csrf: form.csrf, next: '/' }),
      redirect: 'manual',
    });
  }

  it('answers 429 with a page that says to wait after 10 refused sign-ins, and the right token from another address signs in', async () => {
    const attacker = '198.51.100.24';
    const form = await signInForm(attacker);
    const statuses: number[] = [];
    let throttled: Response | null = null;
    for (let i = 0; i < 40; i += 1) {
      const response = await postSignIn(attacker, form, `wrong-token-${i}-0123456789`);
      statuses.push(response.status);
      if (response.status === 429 && !throttled) throttled = response;
      else await response.body?.cancel();
    }
    expectThrottledAfter(statuses, LIMIT.signIn, 401);
    expectRetryAfter(throttled!);
    expect(throttled!.headers.get('Content-Type')).toMatch(/^text\/html/);
    const page = await throttled!.text();
    expect(page).toContain('<h1>Too many attempts</h1>');
    expect(page).toMatch(/Too many refused sign-ins from your address in the last minute: .*Wait \d+ s, then sign in with an API token/);

    const rightFromAttacker = await postSignIn(attacker, form, TEST_SECRETS.operatorToken);
    expect(rightFromAttacker.status).toBe(429);
    const operator = '203.0.113.6';
    const signedIn = await postSignIn(operator, await signInForm(operator), TEST_SECRETS.operatorToken);
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('Set-Cookie')).toMatch(/__Host-lanyard_session=[\w-]+\.[\w-]{43};/);
  });
});

describe('/relay/connect', () => {
  function connect(address: string, token: string): Promise<Response> {
    return fetch(`${edge.url}/relay/connect?target=home`, { headers: from(address, { Authorization: `Bearer ${token}` }) });
  }

  it('answers 429 with Retry-After after 30 wrong relay tokens from one address, and the right token from another address is accepted', async () => {
    const attacker = '2001:db8:7:7::1';
    const statuses: number[] = [];
    let throttled: Response | null = null;
    for (let i = 0; i < 80; i += 1) {
      // Another address in the same /64 is the same client.
      const response = await connect(i % 2 ? attacker : `2001:db8:7:7:${i.toString(16)}::9`, `wrong-relay-token-${i}`);
      statuses.push(response.status);
      if (response.status === 429 && !throttled) throttled = response;
      else await response.body?.cancel();
    }
    expectThrottledAfter(statuses, LIMIT.relay, 401);
    expectRetryAfter(throttled!);
    const body = (await throttled!.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('rate_limited');
    expect(body.error.message).toMatch(/Too many refused relay tokens .*relay doctor/);

    expect((await connect(attacker, TEST_SECRETS.relayToken)).status).toBe(429);
    // Without an Upgrade header the edge checks the token and answers 426: the token was accepted.
    expect((await connect('2001:db8:8::1', TEST_SECRETS.relayToken)).status).toBe(426);
  });
});
