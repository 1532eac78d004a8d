// Faults, class "bad input at the edge", for the inputs issues 18 and 20 added: generated garbage
// (fast-check) in signed `pull_request` and tag-push deliveries, in the bodies of freeze,
// restart-now, deploy {tag} and rollback {tag}, and in the Accept and Authorization headers of
// GET /metrics. Signed, so the garbage gets past the signature and reaches the routing; for every
// case: never a 500, the ledger keeps a verdict, no deploy is queued that the payload did not ask
// for, no plan is queued for a fork, a refused body is a 400 naming its field, roles still hold.
//
// Every request goes through the Worker with an ExecutionContext the test waits on, so the ledger's
// row (written with waitUntil after the answer) is there when the property reads it.
import { env as testEnv, runInDurableObject } from 'cloudflare:test';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DeployRequest, DeploymentId, RollbackRequest } from '../../../shared/api.ts';
import { describeZodError } from '../../../shared/protocol.ts';
import { tagMatches } from '../../../shared/release-tag.ts';
import { freezeRequestAt } from '../../../worker/hub/freeze.ts';
import { fakeSha, pushPayload, ZERO } from '../../support/github-payloads.ts';
import { pullRequestPayload } from '../../support/pull-request-payload.ts';
import { webhookRequestInit } from '../../support/webhook-delivery.ts';
import { TOKENS } from '../helpers.ts';
import { edge, type Answer } from './edge-request.ts';

const TARGETS = ['home', 'cabin', 'gated', 'outward', 'dispatched', 'releases'] as const;
const SCRAPE_TOKEN = 'scrape-token-lanyard-test';
const VALID_TOKENS = [SCRAPE_TOKEN, ...Object.values(TOKENS)];



async function api(path: string, token: string | null, rawBody?: string): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (rawBody !== undefined) headers['Content-Type'] = 'application/json';
  return edge(`/api${path}`, { method: rawBody === undefined ? 'GET' : 'POST', headers, body: rawBody });
}

async function signed(event: string, payload: unknown): Promise<{ answer: Answer; deliveryId: string }> {
  const deliveryId = crypto.randomUUID();
  const answer = await edge('/webhooks/github', await webhookRequestInit({ event, payload, deliveryId }));
  return { answer, deliveryId };
}

async function ledgerRow(deliveryId: string): Promise<Record<string, any> | undefined> {
  return (await api(`/deliveries?deliveryId=${deliveryId}`, TOKENS.admin)).body.deliveries?.[0];
}

async function historyOf(target: string): Promise<Record<string, any>[]> {
  return (await api(`/deployments/${target}/history?limit=200`, TOKENS.admin)).body.deployments;
}

async function deploymentsOf(targets: readonly string[]): Promise<string> {
  return JSON.stringify(await Promise.all(targets.map(historyOf)));
}

/** Every plan row a target's hub keeps, closed ones too (the API lists only open pull requests'). */
async function plansOf(target: string): Promise<{ pull_number: number; head_sha: string; head_repo: string | null; status: string }[]> {
  const hub = testEnv.TARGET_HUB.get(testEnv.TARGET_HUB.idFromName(target));
  return runInDurableObject(hub, (_instance, state) => {
    const exists = state.storage.sql.exec(`SELECT name FROM sqlite_master WHERE name = 'pull_plans'`).toArray().length > 0;
    if (!exists) return [];
    return state.storage.sql.exec('SELECT pull_number, head_sha, head_repo, status FROM pull_plans').toArray() as never;
  });
}

/** A value that replaces a field of a payload GitHub would send. */
const garbage = fc.oneof(
  fc.anything({ maxDepth: 2, maxKeys: 4 }),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', ' ', '../main', 'main\n', 'refs/heads/main', 'MAIN', '\u0000', 'a'.repeat(300), '-1', 'HEAD'),
);

/** Sets `value` at a dotted `path` of `payload` (creating objects on the way). */
function setAt(payload: Record<string, any>, path: string, value: unknown): void {
  const keys = path.split('.');
  let at: Record<string, any> = payload;
  for (const key of keys.slice(0, -1)) {
    if (typeof at[key] !== 'object' || at[key] === null) at[key] = {};
    at = at[key] as Record<string, any>;
  }
  at[keys.at(-1)!] = value;
}

const sameRepo = (a: unknown, b: string) => typeof a === 'string' && a.toLowerCase() === b.toLowerCase();

describe('generated garbage in signed deliveries', () => {
  it('a pull_request never gets a 5xx, is recorded with a verdict, never queues a deploy, and never a plan for a fork', async () => {
    const before = await deploymentsOf(TARGETS);
    let pull = 7000;
    const seen = { 200: 0, 202: 0, 400: 0, fork: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          action: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('opened', 'synchronize', 'reopened') }, fc.constantFrom('closed', 'edited', 'labeled'), fc.string({ maxLength: 20 })),
          headRepo: fc.oneof(fc.constantFrom('octo-home/ha-config', 'OCTO-HOME/HA-CONFIG'), fc.constantFrom('mallory/ha-config', 'octo-home/ha-config-fork', null), fc.string({ maxLength: 40 })),
          repo: fc.oneof({ weight: 3, arbitrary: fc.constant('octo-home/ha-config') }, fc.constantFrom('octo-home/release-config', 'nobody/else')),
          baseRef: fc.oneof({ weight: 4, arbitrary: fc.constant('main') }, fc.constantFrom('cabin', 'release'), fc.string({ maxLength: 30 })),
          headSha: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, fc.string({ maxLength: 45 })),
          mutations: fc.array(
            fc.tuple(
              fc.constantFrom('number', 'action', 'pull_request', 'pull_request.head', 'pull_request.head.repo', 'pull_request.head.repo.full_name', 'pull_request.head.sha', 'pull_request.base.ref', 'pull_request.base.repo.full_name', 'pull_request.user', 'pull_request.title', 'repository', 'repository.full_name', 'sender'),
              garbage,
            ),
            { maxLength: 2 },
          ).chain((m) => fc.constantFrom(m, [], [], [])),
        }),
        async (c) => {
          pull += 1;
          const headSha = c.headSha ?? fakeSha(`pr-fuzz-${pull}`);
          const payload = pullRequestPayload({ action: 'opened', number: pull, headSha, baseRef: c.baseRef, headRepo: c.headRepo, repo: c.repo });
          payload.action = c.action;
          for (const [path, value] of c.mutations) setAt(payload, path, value);
          const { answer, deliveryId } = await signed('pull_request', payload);
          expect(answer.status, answer.text.slice(0, 300)).toBeOneOf([200, 202, 400]);
          const row = await ledgerRow(deliveryId);
          expect(row, 'the ledger keeps every signed delivery').toMatchObject({ event: 'pull_request', verified: true, verdict: expect.any(String) });
          expect({ 200: ['ignored', 'duplicate'], 202: ['enqueued'], 400: ['invalid'] }[answer.status as 200]).toContain(row!.verdict);
          seen[answer.status as 200] += 1;
          // What was planned is only ever a same-repository head; a fork's is recorded as `fork`.
          const plans = [...(await plansOf('home')), ...(await plansOf('cabin'))].filter((p) => p.pull_number === pull);
          for (const p of plans) {
            if (p.status !== 'fork') expect(p.head_repo, JSON.stringify(payload).slice(0, 400)).toSatisfy((r) => sameRepo(r, 'octo-home/ha-config'));
            else expect(p.head_repo === null || !sameRepo(p.head_repo, 'octo-home/ha-config')).toBe(true);
          }
          if (answer.status === 202) expect(plans.some((p) => p.status === 'queued')).toBe(true);
          if (plans.some((p) => p.status === 'fork')) seen.fork += 1;
        },
      ),
      { numRuns: 60 },
    );
    // The garbage reached every outcome: planned, ignored, refused, and a fork recorded.
    expect(Object.values(seen).every((n) => n > 0), JSON.stringify(seen)).toBe(true);
    // A pull request plans, it never deploys.
    expect(await deploymentsOf(TARGETS)).toBe(before);
  });

  it('a tag push never gets a 5xx, is recorded, and deploys only a matching tag\'s head commit, only where tags deploy', async () => {
    const others = TARGETS.filter((t) => t !== 'releases');
    const before = await deploymentsOf(others);
    const releasesBefore = new Set((await historyOf('releases')).map((d) => d.id as string));
    let push = 0;
    let deployed = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          repo: fc.constantFrom('octo-home/release-config', 'octo-home/ha-config', 'OCTO-HOME/RELEASE-CONFIG'),
          tag: fc.oneof(
            // Mostly higher than any before it, so the hub's semantic-version order lets it deploy.
            { weight: 3, arbitrary: fc.tuple(fc.nat(30), fc.nat(30)).map(([b, c]) => `v${1000 + push}.${b}.${c}`) },
            fc.constantFrom('v', 'v1', 'V1.0.0', 'release-1', '1.0.0', 'v1.0.0-rc.1', 'v1.0.0/../x', 'v*', ''),
            fc.string({ maxLength: 40 }),
          ),
          after: fc.constantFrom('commit', 'tag-object', 'tag-object', 'zero'),
          deleted: fc.constantFrom(false, false, false, true),
          headCommit: fc.oneof({ weight: 4, arbitrary: fc.constant('valid' as const) }, fc.constant(null), garbage),
          idGarbage: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, garbage),
        }),
        async (c) => {
          push += 1;
          const commit = fakeSha(`tag-fuzz-commit-${push}`);
          const payload = pushPayload({ repo: c.repo, ref: `refs/tags/${c.tag}`, after: commit }) as Record<string, any>;
          payload.after = c.after === 'zero' ? ZERO : c.after === 'tag-object' ? fakeSha(`tag-fuzz-object-${push}`) : commit;
          payload.deleted = c.deleted;
          if (c.headCommit !== 'valid') payload.head_commit = c.headCommit;
          else if (c.idGarbage !== null) payload.head_commit.id = c.idGarbage;
          const { answer, deliveryId } = await signed('push', payload);
          expect(answer.status, answer.text.slice(0, 300)).toBeOneOf([200, 202, 400]);
          expect(await ledgerRow(deliveryId), 'the ledger keeps every signed delivery').toMatchObject({ event: 'push', verified: true, verdict: expect.any(String) });
          const fresh = (await historyOf('releases')).filter((d) => !releasesBefore.has(d.id as string));
          fresh.forEach((d) => releasesBefore.add(d.id as string));
          if (fresh.length === 0) return;
          // Deployed: the one target of tags, a tag its pattern takes, the head commit (never `after`).
          const mayDeploy = sameRepo(c.repo, 'octo-home/release-config') && tagMatches('v*', c.tag) && !c.deleted && c.after !== 'zero' && c.headCommit === 'valid' && c.idGarbage === null;
          expect(mayDeploy, JSON.stringify(payload).slice(0, 400)).toBe(true);
          expect(fresh).toHaveLength(1);
          deployed += 1;
          expect(fresh[0]).toMatchObject({ sha: commit, ref: `refs/tags/${c.tag}`, trigger: 'tag' });
        },
      ),
      { numRuns: 60 },
    );
    expect(deployed, 'some generated tag pushes were good ones').toBeGreaterThan(0);
    expect(await deploymentsOf(others)).toBe(before);
  });
});

// ---- API bodies ----------------------------------------------------------------------------------

interface BodyRoute {
  path: string;
  schema: () => z.ZodType;
  /** The fields the body may have. */
  fields: string[];
}

/** Garbage shaped like a body: its own fields with wrong values, and strangers. */
const fieldsOf = (names: string[]) =>
  fc.dictionary(fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 12 })), garbage, { minKeys: 1, maxKeys: 3 });

const BODY_ROUTES: BodyRoute[] = [
  { path: '/deployments/home/freeze', schema: () => freezeRequestAt(Date.now()), fields: ['reason', 'until'] },
  { path: '/deployments/home/restart-now', schema: () => z.object({ deploymentId: DeploymentId }).strict(), fields: ['deploymentId'] },
  { path: '/deployments/home/deploy', schema: () => DeployRequest, fields: ['tag', 'sha'] },
  { path: '/deployments/home/rollback', schema: () => RollbackRequest, fields: ['tag', 'deploymentId', 'backupId'] },
];

/** The body as sent: JSON of the garbage, or (sometimes) text that is no JSON at all. */
const rawBody = (route: BodyRoute) => fc.oneof({ weight: 4, arbitrary: fieldsOf(route.fields).map((b) => JSON.stringify(b)) }, { weight: 1, arbitrary: fc.oneof(fc.json(), fc.string({ maxLength: 60 })) });

/** Whether the route would take the body (then it is no garbage, and the property skips it). */
function accepted(route: BodyRoute, text: string): boolean {
  if (!text.trim()) return true;
  try {
    return route.schema().safeParse(JSON.parse(text)).success;
  } catch {
    return false;
  }
}

async function freezeOf(target: string): Promise<unknown> {
  return (await api(`/deployments/${target}/status`, TOKENS.admin)).body.freeze;
}

describe('generated garbage in API bodies', () => {
  for (const route of BODY_ROUTES) {
    it(`POST ${route.path.replace('/deployments/home', '…')}: a 400 naming the field for an operator, 401/403 for the rest, never a 5xx or a change`, async () => {
      const before = await deploymentsOf(['home']);
      expect(await freezeOf('home')).toBeNull();
      await fc.assert(
        fc.asyncProperty(rawBody(route).filter((t) => !accepted(route, t)), fc.constantFrom(null, 'viewer', 'operator', 'admin', 'junk'), async (text, role) => {
          const token = role === null ? null : role === 'junk' ? 'not-a-token' : TOKENS[role as keyof typeof TOKENS];
          const answer = await api(route.path, token, text);
          expect(answer.status, answer.text.slice(0, 300)).toBeLessThan(500);
          if (role === null || role === 'junk' || role === 'viewer') {
            expect(answer.status).toBe(role === 'viewer' ? 403 : 401);
            return;
          }
          expect(answer.status, answer.text.slice(0, 300)).toBe(400);
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            expect(answer.body.error).toMatchObject({ code: 'invalid_json' });
            return;
          }
          const error = route.schema().safeParse(parsed).error!;
          expect(answer.body.error).toMatchObject({ code: 'invalid_request', message: `body is invalid: ${describeZodError(error)}` });
          // The field named is one the body holds or lacks (or the body itself, for a body of the wrong kind).
          const named = error.issues.map((i) => (i.path.length ? String(i.path[0]) : '(root)'));
          const keys = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.keys(parsed) : [];
          for (const n of named) expect(['(root)', ...route.fields, ...keys]).toContain(n);
        }),
        { numRuns: 40 },
      );
      expect(await deploymentsOf(['home'])).toBe(before);
      expect(await freezeOf('home'), 'no garbage froze the target').toBeNull();
    });
  }
});

// ---- /metrics ------------------------------------------------------------------------------------

/** Header text a client can send (visible ASCII and spaces: anything else a fetch refuses before sending). */
const headerText = (maxLength: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });

describe('generated garbage in a scrape', () => {
  it('GET /metrics with any Accept and Authorization is never a 5xx, and never a 200 without a valid token', async () => {
    const authorization = fc.oneof(
      fc.constant(null),
      fc.constantFrom(...VALID_TOKENS).map((t) => `Bearer ${t}`),
      headerText(80),
      headerText(80).map((t) => `Bearer ${t}`),
      fc.tuple(fc.constantFrom(...VALID_TOKENS), fc.constantFrom('Bearer ', 'bearer ', 'Basic ', 'Bearer  ', ''), fc.constantFrom('', ' ', 'x', '\t')).map(([t, scheme, tail]) => `${scheme}${t}${tail}`),
      fc.constantFrom(...VALID_TOKENS).map((t) => `Bearer ${t.slice(0, -1)}`),
    );
    const accept = fc.oneof(fc.constant(null), headerText(120), fc.constantFrom('application/openmetrics-text;version=1.0.0', 'text/plain;version=0.0.4', '*/*', 'text/html', 'application/openmetrics-text;q=0,text/plain'));
    let scraped = 0;
    await fc.assert(
      fc.asyncProperty(authorization, accept, async (auth, type) => {
        const headers: Record<string, string> = {};
        if (auth !== null) headers.Authorization = auth;
        if (type !== null) headers.Accept = type;
        const answer = await edge('/metrics', { headers });
        expect(answer.status, answer.text.slice(0, 300)).toBeLessThan(500);
        if (answer.status === 200) {
          expect(VALID_TOKENS.some((t) => auth?.includes(t)), `200 for Authorization ${JSON.stringify(auth)}`).toBe(true);
          expect(answer.text).toMatch(/^# (TYPE|HELP) /);
          scraped += 1;
        } else {
          expect(answer.status).toBeOneOf([401, 403]);
        }
      }),
      { numRuns: 50 },
    );
    expect(scraped, 'some generated headers carried a valid token').toBeGreaterThan(0);
  });
});
