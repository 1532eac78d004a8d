// The access log inside workerd: refused tokens, roles and forms, sign-ins and sign-outs, as the
// admin reads them at /api/access-log; never a presented token; never a 500 when D1 fails.
// Every request here goes through a fresh ExecutionContext and waits on it, so the log write that
// the edge hands to waitUntil has happened when the test reads the log.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { app } from '../../worker/app.ts';
import type { Env } from '../../worker/env.ts';
import { ACCESS_LOG_MAX_ENTRIES, ACCESS_LOG_RETENTION_MS, listAccess, recordAccess, type AccessEntry } from '../../worker/ledger/access-log.ts';
import { fakeSha, pushPayload } from '../support/github-payloads.ts';
import { webhookRequestInit } from '../support/webhook-delivery.ts';
import { BASE, call, TOKENS } from './helpers.ts';
import { cookiesOf, csrfIn, FORM, post, signIn, type Fetch } from './status-page.ts';

type Entry = { id: number; at: number; action: string; who: string | null; status: number; method: string; path: string; reason: string; source: string | null };

let sources = 0;
/** A client address of its own for each test, so its entries are told apart from any other's. */
function newSource(): string {
  sources += 1;
  return `198.51.100.${sources}`;
}

/** The Worker as a client at `source` reaches it; each answer returns after the waitUntil work is done. */
function edge(source: string, bindings: Partial<Env> = {}): Fetch {
  const bound = { ...(env as unknown as Env), ...bindings };
  return async (path, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('CF-Connecting-IP', source);
    const ctx = createExecutionContext();
    const response = await app.fetch(new Request(`${BASE}${path}`, { ...init, headers }), bound, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  };
}

async function json(response: Response): Promise<{ status: number; body: Record<string, any> }> {
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

function bearer(token: string): { headers: Record<string, string> } {
  return { headers: { Authorization: `Bearer ${token}` } };
}

const admin = edge('192.0.2.1');

/** The newest entries (up to 200, optionally of one action) that came from `source`. */
async function loggedFrom(source: string, action?: string): Promise<Entry[]> {
  const { status, body } = await json(await admin(`/api/access-log?limit=200${action ? `&action=${action}` : ''}`, bearer(TOKENS.admin)));
  expect(status, JSON.stringify(body)).toBe(200);
  return (body.entries as Entry[]).filter((e) => e.source === source);
}

async function wholeLog(): Promise<string> {
  const { body } = await json(await admin('/api/access-log?limit=200', bearer(TOKENS.admin)));
  return JSON.stringify(body);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('refusals on the API', () => {
  it('logs an unknown bearer token as api.unauthorized with the path, and never the token', async () => {
    const source = newSource();
    const guess = 'guessed-token-9f8e7d6c5b4a';
    const response = await json(await edge(source)('/api/deployments/home/status?x=1', bearer(guess)));
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('unauthorized');

    const [entry, ...rest] = await loggedFrom(source);
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({
      action: 'api.unauthorized',
      who: null,
      status: 401,
      method: 'GET',
      path: '/api/deployments/home/status',
      reason: 'The bearer token is not one this edge knows.',
      source,
    });
    expect(Math.abs(entry!.at - Date.now())).toBeLessThan(60_000);
    const log = await wholeLog();
    expect(log).not.toContain(guess);
    expect(log).not.toContain(guess.slice(0, 8));
  });

  it('is written after the answer through the Worker\'s own entry point too', async () => {
    const source = newSource();
    const response = await call('/api/targets', { headers: { Authorization: 'Bearer entry-point-guess-2718281828', 'CF-Connecting-IP': source } });
    expect(response.status).toBe(401);
    let logged: Entry[] = [];
    for (let i = 0; i < 50 && !logged.length; i += 1) {
      logged = await loggedFrom(source);
      if (!logged.length) await new Promise((r) => setTimeout(r, 20));
    }
    expect(logged).toEqual([expect.objectContaining({ action: 'api.unauthorized', path: '/api/targets', who: null })]);
  });

  it('logs a call without any token to a private target as api.unauthorized', async () => {
    const source = newSource();
    expect((await edge(source)('/api/deployments/home/history')).status).toBe(401);
    expect(await loggedFrom(source)).toEqual([expect.objectContaining({ action: 'api.unauthorized', who: null, reason: expect.stringMatching(/Send a bearer token/) })]);
  });

  it('logs a viewer\'s deploy as api.forbidden with the viewer\'s name and the reason', async () => {
    const source = newSource();
    const response = await edge(source)('/api/deployments/home/deploy', {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKENS.viewer}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ sha: fakeSha('access-log-viewer') }),
    });
    expect(response.status).toBe(403);
    expect(await loggedFrom(source)).toEqual([
      expect.objectContaining({
        action: 'api.forbidden',
        who: 'vera',
        status: 403,
        method: 'POST',
        path: '/api/deployments/home/deploy',
        reason: 'vera is a viewer; this needs the operator role.',
      }),
    ]);
  });

  it('logs nothing for an answer that is not a refusal of access: a 200, a 400, a 404', async () => {
    const source = newSource();
    const as = edge(source);
    expect((await as('/api/deployments/home/status', bearer(TOKENS.viewer))).status).toBe(200);
    expect((await as('/api/deployments/nowhere/status', bearer(TOKENS.viewer))).status).toBe(404);
    expect((await as('/api/deployments/home/history?limit=0', bearer(TOKENS.viewer))).status).toBe(400);
    expect(await loggedFrom(source)).toEqual([]);
  });

  it('logs a wrong or missing relay token as relay.refused naming the target, never the token', async () => {
    const source = newSource();
    const as = edge(source);
    const wrong = 'wrong-relay-token-16180339';
    expect((await as('/relay/connect?target=home', { headers: { Authorization: `Bearer ${wrong}`, Upgrade: 'websocket' } })).status).toBe(401);
    expect((await as('/relay/connect?target=gated', { headers: { Upgrade: 'websocket' } })).status).toBe(401);
    expect(await loggedFrom(source)).toEqual([
      expect.objectContaining({ action: 'relay.refused', who: null, status: 401, method: 'GET', path: '/relay/connect', reason: 'no relay token for target gated' }),
      expect.objectContaining({ action: 'relay.refused', who: null, status: 401, method: 'GET', path: '/relay/connect', reason: 'wrong relay token for target home' }),
    ]);
    expect(await wholeLog()).not.toContain(wrong.slice(0, 12));
  });

  it('leaves bad webhook signatures to the delivery ledger', async () => {
    const source = newSource();
    const as = edge(source);
    const init = await webhookRequestInit({ event: 'push', payload: pushPayload({ after: fakeSha('access-log-unsigned') }), secret: 'not-the-secret' });
    expect((await as('/webhooks/github', { ...init, method: 'POST' })).status).toBe(401);
    expect(await loggedFrom(source)).toEqual([]);
  });
});

describe('the status page', () => {
  it('logs a wrong sign-in token as sign_in.refused, never the token, and a right one as sign_in.succeeded with the name', async () => {
    const source = newSource();
    const as = edge(source);
    const wrong = 'wrong-sign-in-token-31415926';
    const form = await as('/sign-in');
    const nonce = cookiesOf(form)['__Host-lanyard_sign_in']!;
    const refused = await post('/sign-in', null, { token: wrong, csrf: csrfIn(await form.text()) }, { ...FORM, Cookie: `__Host-lanyard_sign_in=${nonce}` }, as);
    expect(refused.status).toBe(401);
    expect(await loggedFrom(source)).toEqual([
      expect.objectContaining({ action: 'sign_in.refused', who: null, status: 401, method: 'POST', path: '/sign-in', reason: 'That token is not one this edge knows.' }),
    ]);
    expect(await wholeLog()).not.toContain(wrong);

    await signIn(TOKENS.operator, as);
    const [succeeded] = await loggedFrom(source);
    expect(succeeded).toMatchObject({ action: 'sign_in.succeeded', who: 'otto', status: 303, method: 'POST', path: '/sign-in', reason: 'otto signed in (operator).' });
    expect(await wholeLog()).not.toContain(TOKENS.operator);
  });

  it('logs a sign-out with the name of the session that ended', async () => {
    const source = newSource();
    const as = edge(source);
    const vera = await signIn(TOKENS.viewer, as);
    expect((await post('/sign-out', vera, { csrf: vera.csrf }, FORM, as)).status).toBe(303);
    const [signedOut] = await loggedFrom(source);
    expect(signedOut).toMatchObject({ action: 'sign_out', who: 'vera', status: 303, path: '/sign-out', reason: 'vera signed out.' });
  });

  it('logs a forged form post (no CSRF token) and one from another origin as form.refused', async () => {
    const source = newSource();
    const as = edge(source);
    const otto = await signIn(TOKENS.operator, as);
    const sha = fakeSha('access-log-forged');
    expect((await post('/targets/home/deploy', otto, { sha }, FORM, as)).status).toBe(403);
    expect((await post('/targets/home/deploy', otto, { sha, csrf: otto.csrf }, { ...FORM, Origin: 'https://evil.example' }, as)).status).toBe(403);
    const refused = await loggedFrom(source, 'form.refused');
    expect(refused).toEqual([
      expect.objectContaining({ who: null, status: 403, method: 'POST', path: '/targets/home/deploy', reason: expect.stringMatching(/came from https:\/\/evil\.example/) }),
      // The session behind the forged post is known: it is the one the forger tried to ride.
      expect.objectContaining({ who: 'otto', status: 403, method: 'POST', path: '/targets/home/deploy', reason: expect.stringMatching(/CSRF token is missing/) }),
    ]);
  });

  it('logs a viewer\'s post of an action on the page as page.forbidden', async () => {
    const source = newSource();
    const as = edge(source);
    const vera = await signIn(TOKENS.viewer, as);
    expect((await post('/targets/home/deploy', vera, { sha: fakeSha('access-log-page-viewer'), csrf: vera.csrf }, FORM, as)).status).toBe(403);
    expect(await loggedFrom(source, 'page.forbidden')).toEqual([
      expect.objectContaining({ who: 'vera', status: 403, path: '/targets/home/deploy', reason: 'vera is a viewer; this needs the operator role.' }),
    ]);
  });
});

describe('GET /api/access-log', () => {
  it('is for admins only', async () => {
    const as = edge(newSource());
    expect((await as('/api/access-log')).status).toBe(401);
    for (const token of [TOKENS.viewer, TOKENS.operator]) {
      const { status, body } = await json(await as('/api/access-log', bearer(token)));
      expect(status).toBe(403);
      expect(body.error.message).toMatch(/this needs the admin role/);
    }
    expect((await as('/api/access-log', bearer(TOKENS.admin))).status).toBe(200);
  });

  it('pages newest first with limit and before, and filters by action', async () => {
    const source = newSource();
    const as = edge(source);
    const paths = ['/api/targets', '/api/deliveries', '/api/deployments/home/status'];
    for (const path of paths) expect((await as(path, bearer('paging-guess-0123456789'))).status).toBe(401);
    const mine = await loggedFrom(source, 'api.unauthorized');
    expect(mine.map((e) => e.path)).toEqual([...paths].reverse());

    const seen: Entry[] = [];
    let before: number | null = mine[0]!.id + 1;
    for (let pages = 0; pages < 50 && before !== null && seen.filter((e) => e.source === source).length < paths.length; pages += 1) {
      const { status, body } = await json(await admin(`/api/access-log?limit=2&before=${before}&action=api.unauthorized`, bearer(TOKENS.admin)));
      expect(status).toBe(200);
      const page = body.entries as Entry[];
      expect(page.length).toBeLessThanOrEqual(2);
      for (const e of page) {
        expect(e.action).toBe('api.unauthorized');
        expect(e.id).toBeLessThan(before);
      }
      if (page.length === 2) {
        expect(page[0]!.id).toBeGreaterThan(page[1]!.id);
        expect(body.next).toBe(page[1]!.id);
      } else {
        expect(body.next).toBeNull();
      }
      seen.push(...page);
      before = body.next as number | null;
    }
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    expect(seen.filter((e) => e.source === source).map((e) => e.path)).toEqual([...paths].reverse());
    // The first page of two, from just above the newest of them, is the newest two.
    const first = await json(await admin(`/api/access-log?limit=2&before=${mine[0]!.id + 1}&action=api.unauthorized`, bearer(TOKENS.admin)));
    expect(first.body.entries.map((e: Entry) => e.id)).toEqual(seen.slice(0, 2).map((e) => e.id));
    // Without a filter the other actions come too.
    const all = await json(await admin('/api/access-log?limit=200', bearer(TOKENS.admin)));
    expect(new Set(all.body.entries.map((e: Entry) => e.action)).size).toBeGreaterThan(1);
  });

  it('answers an invalid query with 400 naming the field', async () => {
    for (const [query, field] of [
      ['limit=abc', 'limit'],
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['before=first', 'before'],
      ['action=sign_in', 'action'],
    ] as const) {
      const { status, body } = await json(await admin(`/api/access-log?${query}`, bearer(TOKENS.admin)));
      expect(status, query).toBe(400);
      expect(body.error.code, query).toBe('invalid_request');
      expect(body.error.message, query).toMatch(new RegExp(`^query is invalid: ${field}: `));
    }
  });
});

describe('the ledger itself', () => {
  it('keeps only the newest 100,000 entries: a write pushes out the one 100,000 ids below it, and no other', async () => {
    const now = Date.now();
    const entry = (path: string): AccessEntry => ({ at: now, action: 'api.unauthorized', who: null, status: 401, method: 'GET', path, reason: 'test', source: '192.0.2.91' });
    await recordAccess(env.LEDGER, entry('/api/oldest'));
    const [oldest] = (await listAccess(env.LEDGER, { limit: 1 }));
    // Ids only grow: rows with the ids in between stand for the 99,998 entries written since.
    const insert = 'INSERT INTO access_log (id, at, action, who, status, method, path, reason, source) VALUES (?, ?, \'api.unauthorized\', NULL, 401, \'GET\', ?, \'test\', \'192.0.2.91\')';
    await env.LEDGER.prepare(insert).bind(oldest!.id + 1, now, '/api/second-oldest').run();
    await env.LEDGER.prepare(insert).bind(oldest!.id + ACCESS_LOG_MAX_ENTRIES - 1, now, '/api/recent').run();
    await recordAccess(env.LEDGER, entry('/api/newest'));
    const paths = (await listAccess(env.LEDGER, { limit: 200 })).filter((e) => e.source === '192.0.2.91').map((e) => e.path);
    expect(paths).toEqual(['/api/newest', '/api/recent', '/api/second-oldest']);
  });

  it('prunes entries older than 90 days when it writes a new one', async () => {
    const now = Date.now();
    const entry = (at: number, path: string): AccessEntry => ({ at, action: 'api.unauthorized', who: null, status: 401, method: 'GET', path, reason: 'test', source: '192.0.2.90' });
    await recordAccess(env.LEDGER, entry(now - ACCESS_LOG_RETENTION_MS - 60_000, '/api/too-old'));
    await recordAccess(env.LEDGER, entry(now - ACCESS_LOG_RETENTION_MS + 60_000, '/api/old-but-kept'));
    await recordAccess(env.LEDGER, entry(now, '/api/new'));
    const paths = (await listAccess(env.LEDGER, { limit: 200 })).filter((e) => e.source === '192.0.2.90').map((e) => e.path);
    expect(paths).toEqual(['/api/new', '/api/old-but-kept']);
  });

  it('never turns a failed D1 write into an error for the caller, and logs it', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const broken = { batch: () => Promise.reject(new Error('D1 is down')), prepare: env.LEDGER.prepare.bind(env.LEDGER) } as unknown as D1Database;
    const as = edge(newSource(), { LEDGER: broken });
    const response = await json(await as('/api/deployments/home/status', bearer('unknown-while-d1-is-down')));
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('unauthorized');
    const vera = await signIn(TOKENS.viewer, as);
    expect(vera.cookie).toMatch(/^__Host-lanyard_session=/);
    expect(errors).toHaveBeenCalledWith('access log write failed', expect.objectContaining({ message: 'D1 is down' }));
  });

  it('says how to create its table when the migration was never applied', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const missing = new Error('D1_ERROR: no such table: access_log: SQLITE_ERROR');
    const statement = { bind: () => statement, all: () => Promise.reject(missing), run: () => Promise.reject(missing) };
    const unmigrated = { prepare: () => statement, batch: () => Promise.reject(missing) } as unknown as D1Database;
    const { status, body } = await json(await edge(newSource(), { LEDGER: unmigrated })('/api/access-log', bearer(TOKENS.admin)));
    expect(status).toBe(500);
    expect(body.error).toEqual({ code: 'bad_configuration', message: expect.stringContaining('npx wrangler d1 migrations apply LEDGER --remote') });
  });
});
