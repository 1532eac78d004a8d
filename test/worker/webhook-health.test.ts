// The overview's webhook-health panel inside workerd, against anonymous clients: a request refused
// for its signature counts, and can be "the last delivery", only when it looks like GitHub's
// (GitHub's headers and a body of its event's shape); nothing of an unsigned request's own text
// ever shows, generated requests included (fast-check).
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { app } from '../../worker/app.ts';
import type { Env } from '../../worker/env.ts';
import { fakeSha, pingPayload, pushPayload } from '../support/github-payloads.ts';
import { webhookRequestInit } from '../support/webhook-delivery.ts';
import { apiCall, BASE, TOKENS } from './helpers.ts';
import { signIn, type Signed } from './status-page.ts';

let vera: Signed;

beforeAll(async () => {
  vera = await signIn(TOKENS.viewer);
});

/** Sends one request to the webhook endpoint and waits until its ledger row is written. */
async function post(init: RequestInit): Promise<number> {
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(`${BASE}/webhooks/github`, init), env as unknown as Env, ctx);
  await waitOnExecutionContext(ctx);
  return response.status;
}

/** A request as GitHub sends it, with a secret that is not the edge's unless `secret` says otherwise. */
async function githubLike(event: string, payload: unknown, change: (headers: Record<string, string>) => void = () => {}, secret: string | null = 'a-wrong-secret'): Promise<RequestInit> {
  const init = await webhookRequestInit({ event, payload, secret });
  change(init.headers);
  return init;
}

interface Panel {
  html: string;
  warning: number;
  lastVerdict: string | null;
  lastAt: string | null;
}

async function panel(path: '/' | '/live' = '/'): Promise<Panel> {
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(`${BASE}${path}`, { headers: { Cookie: vera.cookie } }), env as unknown as Env, ctx);
  const html = await response.text();
  const last = /data-last-delivery="([^"]+)">Last webhook delivery: <time datetime="([^"]+)"/.exec(html);
  return {
    html,
    warning: Number(/data-webhook-warning="(\d+)"/.exec(html)?.[1] ?? 0),
    lastVerdict: last?.[1] ?? (html.includes('data-last-delivery="none"') ? 'none' : null),
    lastAt: last?.[2] ?? null,
  };
}

const MARK = 'qx7mark';

describe('the webhook-health panel counts only what looks like GitHub', () => {
  it('warns about a refused delivery shaped like GitHub\'s, without the repository its unsigned body names', async () => {
    const before = await panel();
    expect(await post(await githubLike('push', pushPayload({ repo: `octo-home/${MARK}-repo`, after: fakeSha('health-1') })))).toBe(401);
    const after = await panel();
    expect(after.warning).toBe(before.warning + 1);
    expect(after.lastVerdict).toBe('rejected');
    expect(after.html).toContain('signature does not match the webhook secret');
    expect(after.html).toMatch(/Last webhook delivery: <time [^>]+>[\s\S]*?, push, <span class="badge rejected"/);
    expect(after.html).not.toContain(MARK);
    const { body } = await apiCall('/deliveries?verdict=rejected&limit=1', 'viewer');
    expect(body.deliveries[0]).toMatchObject({ event: 'push', repo: null, verified: false, status: 401 });
  });

  it('warns about GitHub\'s deliveries without a signature: a webhook on GitHub with no secret', async () => {
    const before = await panel();
    expect(await post(await githubLike('ping', pingPayload(), () => {}, null))).toBe(401);
    const after = await panel();
    expect(after.warning).toBe(before.warning + 1);
    expect(after.html).toContain('missing X-Hub-Signature-256 header');
  });

  it('leaves the warning and the last delivery as they were for unsigned junk, and shows none of its text', async () => {
    const push = pushPayload({ repo: `octo-home/${MARK}`, after: fakeSha('health-junk'), message: MARK });
    const junk: [string, RequestInit][] = [
      ['a scanner', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }],
      ['GitHub\'s headers on a body that is not JSON', await githubLike('push', null, () => {}, 'x').then((i) => ({ ...i, body: `${MARK} not json` }))],
      ['a push body under another user agent', await githubLike('push', push, (h) => (h['User-Agent'] = `curl/8.9 ${MARK}`))],
      ['an event name it chose', await githubLike(`${MARK}_event`, push)],
      ['a delivery id it chose', await githubLike('push', push, (h) => (h['X-GitHub-Delivery'] = `${MARK}-delivery`))],
      ['a malformed signature', await githubLike('push', push, (h) => (h['X-Hub-Signature-256'] = `sha256=${MARK}`))],
      ['a ping header on a push body', await githubLike('ping', push)],
      ['a push header on a ping body', await githubLike('push', pingPayload(`octo-home/${MARK}`))],
      ['a form-encoded body', await githubLike('push', push, (h) => (h['Content-Type'] = 'application/x-www-form-urlencoded'))],
    ];
    const before = await panel();
    for (const [what, init] of junk) {
      expect(await post(init), what).toBe(401);
      const now = await panel();
      expect({ what, warning: now.warning, verdict: now.lastVerdict, at: now.lastAt }).toEqual({ what, warning: before.warning, verdict: before.lastVerdict, at: before.lastAt });
      expect(now.html, what).not.toContain(MARK);
      expect((await panel('/live')).html, what).not.toContain(MARK);
    }
    // Each is in the ledger, for an admin to see: without the event or delivery id it chose.
    const { body } = await apiCall(`/deliveries?verdict=rejected&limit=${junk.length}`, 'viewer');
    expect(body.deliveries).toHaveLength(junk.length);
    for (const row of body.deliveries) expect(JSON.stringify(row)).not.toContain(MARK);
  });

  it('never shows text an unsigned request chose, whatever its headers and body (generated)', async () => {
    const text = fc.string({ minLength: 0, maxLength: 40 }).map((s) => `${MARK}${s}`);
    const uuid = fc.uuid();
    const request = fc.record({
      event: fc.oneof(fc.constantFrom('push', 'ping', 'workflow_run', 'repository_dispatch'), text),
      deliveryId: fc.oneof(uuid, text),
      userAgent: fc.oneof(fc.constant('GitHub-Hookshot/7d3c5e1'), text),
      signature: fc.option(fc.oneof(fc.stringMatching(/^sha256=[0-9a-f]{64}$/), text), { nil: undefined }),
      body: fc.oneof(
        text.map((repo) => JSON.stringify(pushPayload({ repo, ref: `refs/heads/${repo}`, message: repo }))),
        text.map((repo) => JSON.stringify(pingPayload(repo))),
        fc.json().map((j) => j.replaceAll('"', `"${MARK}`)),
        text,
      ),
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': r.userAgent, 'X-GitHub-Event': r.event, 'X-GitHub-Delivery': r.deliveryId };
        if (r.signature !== undefined) headers['X-Hub-Signature-256'] = r.signature;
        const status = await post({ method: 'POST', headers, body: r.body });
        expect(status).toBe(401);
        const { html } = await panel();
        expect(html).not.toContain(MARK);
      }),
      { numRuns: 60 },
    );
  });
});
