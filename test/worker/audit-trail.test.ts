// The audit trail under abuse, in workerd with real Durable Objects and D1: nothing an anonymous
// client sends reaches it, it is paged by a cursor and filtered by action, on the API and the
// status page, and its retention drops the oldest entries only (of the stream they belong to).
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { app } from '../../worker/app.ts';
import type { Env } from '../../worker/env.ts';
import { AUDIT_RETENTION, AuditTrail, type AuditEntry } from '../../worker/hub/audit.ts';
import { fakeSha } from '../support/github-payloads.ts';
import { apiCall, BASE, call, TOKENS } from './helpers.ts';
import { signIn } from './status-page.ts';

type Entry = { id: number; at: number; actor: string; action: string; detail: Record<string, any>; source: string | null };

const hub = (name: string) => env.TARGET_HUB.get(env.TARGET_HUB.idFromName(name));

/** The Worker as a client at `source` reaches it; answers return after the waitUntil work (the access log). */
async function from(source: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('CF-Connecting-IP', source);
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(`${BASE}${path}`, { ...init, headers }), env as unknown as Env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

async function deploy(target: string, seed: string): Promise<string> {
  const { status, body } = await apiCall(`/deployments/${target}/deploy`, 'operator', { body: { sha: fakeSha(seed) } });
  expect(status, JSON.stringify(body)).toBe(202);
  return body.deployment.id;
}

async function cancel(target: string, deploymentId: string): Promise<void> {
  expect((await apiCall(`/deployments/${target}/cancel`, 'operator', { body: { deploymentId } })).status).toBe(200);
}

/** Every page of `path` (an API path with a query), following `next`, and how many pages it took. */
async function walk(path: string): Promise<{ entries: Entry[]; pages: Entry[][] }> {
  const pages: Entry[][] = [];
  let before: number | null = null;
  do {
    const { status, body } = await apiCall(`${path}${before === null ? '' : `&before=${before}`}`, 'admin');
    expect(status, JSON.stringify(body)).toBe(200);
    pages.push(body.entries);
    before = body.next;
  } while (before !== null && pages.length < 1000);
  return { entries: pages.flat(), pages };
}

function entry(action: AuditEntry['action'], at: number, n: number): AuditEntry {
  return { at, actor: 'test', action, detail: { n }, source: null };
}

describe('what an anonymous client can write', () => {
  it('520 refused relay connects leave the operator\'s deploy.queued on the first page of the audit trail, and all go to the access log', async () => {
    const id = await deploy('cabin', 'audit-flood-operator');
    const source = '198.51.100.201';
    for (let i = 0; i < 520; i += 1) {
      const headers: Record<string, string> = { Upgrade: 'websocket' };
      if (i % 2) headers.Authorization = `Bearer guess-${i}`;
      expect((await from(source, '/relay/connect?target=cabin', { headers })).status).toBe(401);
    }
    const { body: first } = await apiCall('/deployments/cabin/audit', 'admin');
    expect(first.entries.find((e: Entry) => e.action === 'deploy.queued' && e.detail.deploymentId === id)).toMatchObject({ actor: 'otto' });
    expect(first.entries.map((e: Entry) => e.action)).not.toContain('relay.refused');

    const refused = (await walk('/access-log?limit=200&action=relay.refused')).entries.filter((e) => e.source === source);
    expect(refused).toHaveLength(520);
    expect(new Set(refused.map((e: any) => e.reason))).toEqual(new Set(['no relay token for target cabin', 'wrong relay token for target cabin']));
  });
});

describe('paging and filtering', () => {
  it('walks the whole trail with before, newest first, without gaps or repeats, and filters by action', async () => {
    for (let i = 0; i < 12; i += 1) {
      const id = await deploy('home', `audit-paging-${i}`);
      if (i % 3 === 0) await cancel('home', id);
    }
    const whole = (await apiCall('/deployments/home/audit?limit=500', 'admin')).body;
    expect(whole.next).toBeNull();
    const { entries, pages } = await walk('/deployments/home/audit?limit=5');
    expect(entries.map((e) => e.id)).toEqual(whole.entries.map((e: Entry) => e.id));
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
    expect(pages.slice(0, -1).every((p) => p.length === 5)).toBe(true);
    expect(pages.at(-1)!.length).toBeGreaterThan(0);
    for (let i = 1; i < entries.length; i += 1) expect(entries[i]!.id).toBeLessThan(entries[i - 1]!.id);

    const cancelled = await walk('/deployments/home/audit?limit=2&action=deploy.cancelled');
    expect(cancelled.entries.map((e) => e.id)).toEqual(whole.entries.filter((e: Entry) => e.action === 'deploy.cancelled').map((e: Entry) => e.id));
    expect(cancelled.entries).toHaveLength(4);
  });

  it('answers an invalid query with 400 naming the field', async () => {
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['before=newest', 'before'],
      ['before=0', 'before'],
      ['action=deploy', 'action'],
      ['action=%00', 'action'],
    ] as const) {
      const { status, body } = await apiCall(`/deployments/home/audit?${query}`, 'admin');
      expect(status, query).toBe(400);
      expect(body.error.message, query).toMatch(new RegExp(`^query is invalid: ${field}: `));
    }
  });

  it('shows an admin the trail on the status page, a page at a time, of one action when asked', async () => {
    // More than a page of 50: deploys and cancels, two entries each.
    for (let i = 0; i < 30; i += 1) await cancel('home', await deploy('home', `audit-page-${i}`));
    const ada = await signIn(TOKENS.admin);
    const target = await (await call('/targets/home', { headers: { Cookie: ada.cookie } })).text();
    expect(target).toContain('href="/targets/home/audit"');

    const { body } = await apiCall('/deployments/home/audit?limit=50&action=deploy.cancelled', 'admin');
    const html = await (await call('/targets/home/audit?action=deploy.cancelled', { headers: { Cookie: ada.cookie } })).text();
    const rows = [...html.matchAll(/data-audit-id="(\d+)" data-action="([^"]+)"/g)];
    expect(rows.map((r) => Number(r[1]))).toEqual(body.entries.map((e: Entry) => e.id));
    expect(new Set(rows.map((r) => r[2]))).toEqual(new Set(['deploy.cancelled']));
    expect(html).toMatch(/<option value="deploy\.cancelled" selected="">/);

    const all = await (await call('/targets/home/audit', { headers: { Cookie: ada.cookie } })).text();
    const older = /href="(\/targets\/home\/audit\?before=\d+)" data-older/.exec(all);
    expect(older, 'the first page links to older entries').not.toBeNull();
    const next = await (await call(older![1]!, { headers: { Cookie: ada.cookie } })).text();
    const firstIds = [...all.matchAll(/data-audit-id="(\d+)"/g)].map((m) => Number(m[1]));
    const nextIds = [...next.matchAll(/data-audit-id="(\d+)"/g)].map((m) => Number(m[1]));
    expect(firstIds).toHaveLength(50);
    expect(Math.max(...nextIds)).toBeLessThan(Math.min(...firstIds));
  });

  it('keeps the page from readers who are not admins', async () => {
    const otto = await signIn(TOKENS.operator);
    const refused = await call('/targets/home/audit', { headers: { Cookie: otto.cookie } });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(/this needs the admin role/);
    expect(await (await call('/targets/home', { headers: { Cookie: otto.cookie } })).text()).not.toContain('/targets/home/audit');
    const anonymous = await call('/targets/home/audit', { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('Location')).toMatch(/^\/sign-in/);
  });
});

describe('retention', () => {
  it('drops the oldest entries of a stream only, by count and by age', async () => {
    await runInDurableObject(hub('audit-retention-scratch'), async (_instance, state) => {
      const trail = new AuditTrail(state.storage.sql, { maxAgeMs: 1000 * 60, entries: { main: 4, relay: 3 } });
      state.storage.sql.exec('DELETE FROM audit');
      const now = Date.now();
      for (let n = 1; n <= 6; n += 1) {
        trail.record(entry('deploy.queued', now, n));
        trail.record(entry('relay.connected', now, n));
      }
      const kept = trail.page({ limit: 100 }).entries.map((e) => `${e.action}#${e.detail.n}`);
      expect(kept).toEqual([
        'relay.connected#6', 'deploy.queued#6', 'relay.connected#5', 'deploy.queued#5', 'relay.connected#4', 'deploy.queued#4', 'deploy.queued#3',
      ]);
      // An entry written now prunes those older than the age limit, and nothing younger.
      state.storage.sql.exec("UPDATE audit SET at = ? WHERE json_extract(detail, '$.n') <= 4", now - 1000 * 61);
      trail.record(entry('outward.retrying', now, 7));
      expect(trail.page({ limit: 100 }).entries.map((e) => `${e.action}#${e.detail.n}`)).toEqual([
        'outward.retrying#7', 'relay.connected#6', 'deploy.queued#6', 'relay.connected#5', 'deploy.queued#5',
      ]);
    });
  });

  it('a relay reconnecting 6,000 times fills only its own stream: the operator\'s entry stays', async () => {
    const id = await deploy('dispatched', 'audit-relay-loop');
    await runInDurableObject(hub('dispatched'), async (_instance, state) => {
      const trail = new AuditTrail(state.storage.sql);
      for (let n = 0; n < 6000; n += 1) trail.record(entry(n % 2 ? 'relay.disconnected' : 'relay.connected', Date.now(), n));
      const relay = state.storage.sql.exec("SELECT COUNT(*) AS c FROM audit WHERE action LIKE 'relay.%'").one();
      expect(Number(relay.c)).toBe(AUDIT_RETENTION.entries.relay);
    });
    const { body } = await apiCall('/deployments/dispatched/audit?action=deploy.queued', 'admin');
    expect(body.entries.map((e: Entry) => e.detail.deploymentId)).toContain(id);
  });

  it('brings a trail an older edge wrote up to date, keeping every entry, each in its stream', async () => {
    await runInDurableObject(hub('audit-upgrade-scratch'), async (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec('DROP TABLE audit');
      sql.exec('CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL, source TEXT)');
      const now = Date.now();
      for (let n = 1; n <= 5; n += 1) {
        sql.exec("INSERT INTO audit (at, actor, action, detail, source) VALUES (?, 'relay', 'relay.refused', '{}', '203.0.113.9')", now);
        sql.exec("INSERT INTO audit (at, actor, action, detail, source) VALUES (?, 'otto', 'deploy.queued', ?, NULL)", now, JSON.stringify({ n }));
      }
      const trail = new AuditTrail(sql, { maxAgeMs: 1000 * 60, entries: { main: 5, relay: 2 } });
      expect(trail.page({ limit: 100 }).entries).toHaveLength(10);
      // The next entry of a stream prunes that stream, by its old entries' places in it.
      trail.record(entry('relay.connected', now, 6));
      trail.record(entry('deploy.queued', now, 6));
      const kept = trail.page({ limit: 100 }).entries;
      expect(kept.filter((e) => e.action === 'deploy.queued').map((e) => e.detail.n)).toEqual([6, 5, 4, 3, 2]);
      expect(kept.filter((e) => e.action !== 'deploy.queued').map((e) => e.action)).toEqual(['relay.connected', 'relay.refused']);
    });
  });
});

describe('the audit trail, generated', () => {
  it('for any run of entries, each stream keeps its newest, and paging by any size, filtered or not, walks exactly those, newest first', async () => {
    const keep = { main: 7, relay: 4 };
    const actions = ['deploy.queued', 'deploy.cancelled', 'outward.retrying', 'relay.connected', 'relay.hello', 'job.ack_timeout'] as const;
    await runInDurableObject(hub('audit-generated-scratch'), async (_instance, state) => {
      fc.assert(
        fc.property(
          fc.array(fc.constantFrom(...actions), { maxLength: 40 }),
          fc.integer({ min: 1, max: 12 }),
          fc.option(fc.constantFrom(...actions), { nil: undefined }),
          (written, limit, action) => {
            state.storage.sql.exec('DELETE FROM audit');
            const trail = new AuditTrail(state.storage.sql, { maxAgeMs: AUDIT_RETENTION.maxAgeMs, entries: keep });
            const now = Date.now();
            written.forEach((a, n) => trail.record(entry(a, now, n)));
            const isRelay = (a: string) => a.startsWith('relay.') || a === 'job.ack_timeout';
            const newest = (relay: boolean) => written.map((a, n) => ({ a, n })).filter((w) => isRelay(w.a) === relay).slice(-keep[relay ? 'relay' : 'main']);
            const expected = [...newest(false), ...newest(true)]
              .filter((w) => !action || w.a === action)
              .map((w) => w.n)
              .sort((x, y) => y - x);
            const seen: number[] = [];
            let before: number | undefined;
            for (let pages = 0; pages <= written.length + 1; pages += 1) {
              const page = trail.page({ limit, ...(before === undefined ? {} : { before }), ...(action ? { action } : {}) });
              expect(page.entries.length).toBeLessThanOrEqual(limit);
              seen.push(...page.entries.map((e) => Number(e.detail.n)));
              if (page.next === null) break;
              before = page.next;
            }
            expect(seen).toEqual(expected);
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});
