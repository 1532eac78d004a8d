// The status page and the delivery ledger inside workerd: the target page lists its repository's
// recent webhook deliveries with their verdicts and reasons, the overview warns a signed-in reader
// about deliveries refused for their signature, a reader who is not signed in sees nothing of the
// ledger that is not about a public target, and a reason with markup in it shows as text.
import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../worker/app.ts';
import type { Env } from '../../worker/env.ts';
import { fakeSha, pingPayload, pushPayload } from '../support/github-payloads.ts';
import { BASE, call, deliver, ledgerEntry, TOKENS } from './helpers.ts';
import { signIn } from './status-page.ts';

/** One section of a page, by its id. */
function section(html: string, id: string): string {
  return new RegExp(`<section class="card" id="${id}"[\\s\\S]*?</section>`).exec(html)?.[0] ?? '';
}

/** One delivery's row in the deliveries section. */
function row(html: string, deliveryId: string): string {
  return new RegExp(`<tr data-delivery="${deliveryId}"[\\s\\S]*?</tr>`).exec(section(html, 'deliveries'))?.[0] ?? '';
}

async function pushed(options: Parameters<typeof pushPayload>[0], secret?: string): Promise<{ deliveryId: string; body: Record<string, any> }> {
  const deliveryId = crypto.randomUUID();
  const { body } = await deliver({ event: 'push', payload: pushPayload(options), deliveryId, ...(secret ? { secret } : {}) });
  await ledgerEntry(deliveryId);
  return { deliveryId, body };
}

// Deliveries in the order GitHub would send them; later tests read what earlier ones left behind.
const main = { sha: fakeSha('deliveries-main'), deliveryId: '', deploymentId: '' };
const other = { sha: fakeSha('deliveries-other'), deliveryId: '' };
const forged = { deliveryId: '' };

describe('the target page lists the deliveries of its repository', () => {
  it('shows a push that queued a deploy, with a link to it, and a push to another branch with why it was ignored', async () => {
    const first = await pushed({ after: main.sha, message: 'Porch light at sunset' });
    expect(first.body.status).toBe('enqueued');
    main.deliveryId = first.deliveryId;
    main.deploymentId = first.body.deployments[0].deploymentId;
    // GitHub's repository names are case-insensitive: the page finds this one too.
    const second = await pushed({ repo: 'Octo-Home/HA-Config', ref: 'refs/heads/feature/porch', after: other.sha });
    expect(second.body.status).toBe('ignored');
    other.deliveryId = second.deliveryId;
    const third = await pushed({ after: fakeSha('deliveries-forged') }, 'not-the-webhook-secret');
    expect(third.body.error.code).toBe('bad_signature');
    forged.deliveryId = third.deliveryId;

    const vera = await signIn(TOKENS.viewer);
    for (const path of ['/targets/home', '/targets/home/live']) {
      const html = await (await call(path, { headers: { Cookie: vera.cookie } })).text();
      const deliveries = section(html, 'deliveries');
      expect(deliveries, path).toContain('data-ledger="read"');
      // The newest delivery deployed nothing: the list is open by itself.
      expect(deliveries, path).toContain('<details id="deliveries-list" open="">');
      expect(deliveries, path).toContain('The last 2 deliveries of octo-home/ha-config');

      const queued = row(html, main.deliveryId);
      expect(queued, path).toContain('data-verdict="enqueued"');
      expect(queued, path).toContain('<span class="badge enqueued" data-badge="enqueued">enqueued</span>');
      expect(queued, path).toContain('<code>main</code>');
      expect(queued, path).toContain(`href="https://github.com/octo-home/ha-config/commit/${main.sha}"`);
      expect(queued, path).toContain(main.sha.slice(0, 7));
      expect(queued, path).toContain('<div data-created="true">');
      expect(queued, path).toContain(`href="/targets/home?deployment=${main.deploymentId}"`);
      expect(queued, path).toContain(`queued home: ${main.deploymentId}; push to main, but cabin deploys cabin`);
      expect(queued, path).toMatch(/<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">/);

      const ignored = row(html, other.deliveryId);
      expect(ignored, path).toContain('data-verdict="ignored"');
      expect(ignored, path).toContain('<span class="badge ignored" data-badge="ignored">ignored</span>');
      expect(ignored, path).toContain('<code>feature/porch</code>');
      expect(ignored, path).toContain('push to feature/porch, but home deploys main; push to feature/porch, but cabin deploys cabin');
      expect(ignored, path).not.toContain('data-created');

      // The forged delivery names no repository (nothing unsigned is read): not listed here.
      expect(deliveries, path).not.toContain(forged.deliveryId);
      expect(deliveries, path).toContain('the overview warns about those');
    }
  });

  it('links only this target\'s deployment: the sibling target of the same repository sees the delivery without a link', async () => {
    const vera = await signIn(TOKENS.viewer);
    const html = await (await call('/targets/cabin', { headers: { Cookie: vera.cookie } })).text();
    const queued = row(html, main.deliveryId);
    expect(queued).toContain('data-verdict="enqueued"');
    expect(queued).not.toContain('?deployment=');
    expect(row(html, other.deliveryId)).toContain('data-verdict="ignored"');
  });

  it('shows a reader who is not signed in only the deliveries about the public target, never another target\'s', async () => {
    const cabinSha = fakeSha('deliveries-cabin');
    const cabin = await pushed({ ref: 'refs/heads/cabin', after: cabinSha });
    expect(cabin.body.status).toBe('enqueued');
    const cabinDeployment = cabin.body.deployments[0].deploymentId as string;

    for (const path of ['/targets/cabin', '/targets/cabin/live']) {
      const html = await (await call(path)).text();
      const deliveries = section(html, 'deliveries');
      expect(deliveries, path).toContain('The last delivery of octo-home/ha-config for cabin');
      expect(row(html, cabin.deliveryId), path).toContain(`href="/targets/cabin?deployment=${cabinDeployment}"`);
      expect(deliveries, path).not.toContain(main.deliveryId);
      expect(deliveries, path).not.toContain(main.deploymentId);
      expect(deliveries, path).not.toContain(other.deliveryId);
      expect(deliveries, path).not.toContain('feature/porch');
      expect(deliveries, path).not.toContain('the overview warns');
    }
    // Signed in, the same page lists the whole repository's.
    const vera = await signIn(TOKENS.viewer);
    const signed = await (await call('/targets/cabin', { headers: { Cookie: vera.cookie } })).text();
    expect(row(signed, main.deliveryId)).toContain('data-verdict="enqueued"');
    expect(row(signed, cabin.deliveryId)).toContain('data-verdict="enqueued"');
  });

  it('shows a branch name with markup in the ref and the reason as text', async () => {
    const evil = await pushed({ ref: 'refs/heads/<script>alert(1)</script>', after: fakeSha('deliveries-xss') });
    expect(evil.body.status).toBe('ignored');
    const vera = await signIn(TOKENS.viewer);
    for (const path of ['/targets/home', '/targets/home/live']) {
      const html = await (await call(path, { headers: { Cookie: vera.cookie } })).text();
      const evilRow = row(html, evil.deliveryId);
      expect(evilRow, path).toContain('<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>');
      expect(evilRow, path).toContain('push to &lt;script&gt;alert(1)&lt;/script&gt;, but home deploys main');
      expect(html, path).not.toContain('<script>alert');
    }
  });

  it('still renders the page when the ledger cannot be read, and says so', async () => {
    const broken = { prepare: () => { throw new Error('D1 is down'); } } as unknown as D1Database;
    const bound = { ...(env as unknown as Env), LEDGER: broken };
    const vera = await signIn(TOKENS.viewer);
    const fetchWith = (path: string) => app.fetch(new Request(`${BASE}${path}`, { headers: { Cookie: vera.cookie } }), bound, createExecutionContext());
    const target = await fetchWith('/targets/home');
    expect(target.status).toBe(200);
    expect(section(await target.text(), 'deliveries')).toContain('data-ledger="unavailable"');
    const overview = await fetchWith('/');
    expect(overview.status).toBe(200);
    expect(await overview.text()).toContain('<p class="muted small" id="webhook-health" data-ledger="unavailable">');
  });
});

describe('the overview says whether GitHub reaches the edge with the right secret', () => {
  it('warns a signed-in reader about deliveries refused for their signature, and names the last delivery', async () => {
    // Valid deliveries came after the first forged one; a second one, refused the same way, is now the newest.
    const again = await pushed({ after: fakeSha('deliveries-forged-again') }, 'not-the-webhook-secret');
    expect(again.body.error.code).toBe('bad_signature');
    const vera = await signIn(TOKENS.viewer);
    for (const path of ['/', '/live']) {
      const html = await (await call(path, { headers: { Cookie: vera.cookie } })).text();
      const warning = /<div class="error" data-webhook-warning="(\d+)">[\s\S]*?<\/div>/.exec(html);
      expect(warning, path).not.toBeNull();
      expect(warning![1], path).toBe('2');
      expect(warning![0], path).toContain("2 webhook deliveries that look like GitHub&#39;s were refused for their signature in the last 24 h.");
      expect(warning![0], path).toContain('signature does not match the webhook secret');
      expect(warning![0], path).toContain('equals the edge&#39;s WEBHOOK_SECRET');
      expect(warning![0], path).toMatch(/The last one, at <time datetime="[^"]+">/);
      expect(warning![0], path).not.toContain('data-verified-since');
      expect(html, path).toMatch(/<p class="muted small" data-last-delivery="rejected">Last webhook delivery: <time datetime="[^"]+">[\s\S]*?, push, <span class="badge rejected"/);
    }
  });

  it('shows a reader who is not signed in nothing of the ledger', async () => {
    for (const path of ['/', '/live']) {
      const html = await (await call(path)).text();
      expect(html, path).toContain('data-target="cabin"');
      expect(html, path).not.toContain('webhook-health');
      expect(html, path).not.toContain('data-webhook-warning');
      expect(html, path).not.toContain('WEBHOOK_SECRET');
      expect(html, path).not.toContain('Last webhook delivery');
    }
  });

  it('softens the warning once a delivery with a valid signature arrives after the refused ones', async () => {
    const deliveryId = crypto.randomUUID();
    await deliver({ event: 'ping', payload: pingPayload(), deliveryId });
    await ledgerEntry(deliveryId);
    const vera = await signIn(TOKENS.viewer);
    const html = await (await call('/', { headers: { Cookie: vera.cookie } })).text();
    expect(html).not.toContain('<div class="error" data-webhook-warning');
    expect(html).toMatch(/<div class="notice" data-webhook-warning="2">[\s\S]*?<div data-verified-since="true">A delivery with a valid signature arrived after it/);
    expect(html).toMatch(/data-last-delivery="ok">Last webhook delivery: <time [^>]+>[\s\S]*?, ping, <span class="badge ok"/);
  });
});
