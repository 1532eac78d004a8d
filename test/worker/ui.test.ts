// The status page inside workerd: sessions (sign-in, tampering, expiry, revocation, the key),
// CSRF on every form post, roles, escaping, security headers, and the live channel's authorization.
import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { BACKUP_INVENTORY_CAPABILITY } from '../../shared/protocol.ts';
import { app } from '../../worker/app.ts';
import type { Env } from '../../worker/env.ts';
import { duration } from '../../worker/ui/format.ts';
import { issueSession, sessionKey } from '../../worker/ui/session.ts';
import { fakeSha, pushPayload, workflowRunPayload } from '../support/github-payloads.ts';
import { apiCall, BASE, call, deliver, TOKENS } from './helpers.ts';
import { connectRelay, drainJobs } from './relay-socket.ts';
import { cookiesOf, csrfIn, FORM, post, signIn, type Fetch } from './status-page.ts';

const SECRET = 'worker-test-session-secret-0123456789abcdef';

/** The Worker with some bindings changed (a SESSION_SECRET, a different API_TOKENS). */
function withEnv(changes: Partial<Env>): Fetch {
  const changed = { ...(env as unknown as Env), ...changes };
  return (path, init = {}) => Promise.resolve(app.fetch(new Request(`${BASE}${path}`, init), changed, createExecutionContext()));
}

/** Waits until the hub has noticed a closed relay, so what is deployed next stays queued. */
async function relayGone(target: string): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    if (!(await apiCall(`/deployments/${target}/status`, 'viewer')).body.relay.connected) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the relay of ${target} still looks connected`);
}

async function historyLength(target = 'home'): Promise<number> {
  return (await apiCall(`/deployments/${target}/history?limit=200`, 'viewer')).body.deployments.length;
}

describe('signing in', () => {
  it('turns a token into a session cookie that is HttpOnly, Secure, SameSite=Strict and Path=/, and sends the reader on', async () => {
    const form = await call('/sign-in');
    expect(form.headers.getAll('Set-Cookie')[0]).toMatch(/^__Host-lanyard_sign_in=[\w-]{24}; Max-Age=1800; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
    const signed = await signIn(TOKENS.operator);
    expect(signed.setCookie).toMatch(/^__Host-lanyard_session=[\w-]+\.[\w-]{43}; Max-Age=28800; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
    const page = await (await call('/targets/home', { headers: { Cookie: signed.cookie } })).text();
    expect(page).toContain('data-signed-in="otto"');
    expect(page).toContain('id="controls"');
  });

  it('refuses a token the edge does not know with 401, and starts no session', async () => {
    const form = await call('/sign-in');
    const nonce = cookiesOf(form)['__Host-lanyard_sign_in']!;
    const response = await post('/sign-in', null, { token: 'not-a-token-this-edge-knows', csrf: csrfIn(await form.text()) }, { ...FORM, Cookie: `__Host-lanyard_sign_in=${nonce}` });
    expect(response.status).toBe(401);
    expect(await response.text()).toContain('That token is not one this edge knows.');
    expect(cookiesOf(response)['__Host-lanyard_session']).toBeUndefined();
  });

  it('refuses a sign-in without the sign-in form\'s own nonce, or from another origin, with 403', async () => {
    const form = await call('/sign-in');
    const csrf = csrfIn(await form.text());
    const nonce = cookiesOf(form)['__Host-lanyard_sign_in']!;
    const noCookie = await post('/sign-in', null, { token: TOKENS.operator, csrf });
    expect(noCookie.status).toBe(403);
    const otherOrigin = await post('/sign-in', null, { token: TOKENS.operator, csrf }, { ...FORM, Origin: 'https://evil.example', Cookie: `__Host-lanyard_sign_in=${nonce}` });
    expect(otherOrigin.status).toBe(403);
    expect(cookiesOf(otherOrigin)['__Host-lanyard_session']).toBeUndefined();
  });

  it('only ever sends a reader back to a page of this site', async () => {
    const form = await call('/sign-in?next=//evil.example/targets/home');
    const html = await form.text();
    expect(html).toContain('name="next" value="/"');
    const nonce = cookiesOf(form)['__Host-lanyard_sign_in']!;
    for (const next of ['//evil.example', 'https://evil.example/', '/\\evil.example', '/targets/home/../../x']) {
      const response = await post('/sign-in', null, { token: TOKENS.viewer, csrf: csrfIn(html), next }, { ...FORM, Cookie: `__Host-lanyard_sign_in=${nonce}` });
      expect(response.headers.get('Location')).toBe('/');
    }
  });

  it('treats a cookie whose claims were changed, or that expired, as no session', async () => {
    const viewer = await signIn(TOKENS.viewer);
    const [payload, signature] = viewer.cookie.slice('__Host-lanyard_session='.length).split('.');
    const claims = JSON.parse(atob(payload!.replaceAll('-', '+').replaceAll('_', '/')));
    expect(claims).toMatchObject({ v: 1, name: 'vera', role: 'viewer' });
    const promoted = btoa(JSON.stringify({ ...claims, role: 'operator', name: 'otto' })).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
    const forged = await call('/targets/home', { headers: { Cookie: `__Host-lanyard_session=${promoted}.${signature}` }, redirect: 'manual' });
    expect(forged.status).toBe(303);
    expect(forged.headers.get('Location')).toBe('/sign-in?next=%2Ftargets%2Fhome');

    const found = await sessionKey(env as unknown as Env);
    if (!found.ok) throw new Error(found.problem);
    const key = found.key;
    const old = await issueSession(key, { name: 'otto', role: 'operator' }, TOKENS.operator, Date.now() - 9 * 3600_000);
    const expired = await call('/targets/home', { headers: { Cookie: `__Host-lanyard_session=${old.cookie}` }, redirect: 'manual' });
    expect(expired.status).toBe(303);
    const fresh = await issueSession(key, { name: 'otto', role: 'operator' }, TOKENS.operator, Date.now());
    expect((await call('/targets/home', { headers: { Cookie: `__Host-lanyard_session=${fresh.cookie}` } })).status).toBe(200);
  });

  it('ends a session as soon as its token leaves API_TOKENS or changes role', async () => {
    const tokens = JSON.parse(env.API_TOKENS!) as { name: string; role: string; token?: string }[];
    const viaSecret = withEnv({ SESSION_SECRET: SECRET });
    const otto = await signIn(TOKENS.operator, viaSecret);
    expect((await viaSecret('/targets/home', { headers: { Cookie: otto.cookie } })).status).toBe(200);

    const revoked = withEnv({ SESSION_SECRET: SECRET, API_TOKENS: JSON.stringify(tokens.filter((t) => t.name !== 'otto')) });
    expect((await revoked('/targets/home', { headers: { Cookie: otto.cookie }, redirect: 'manual' })).status).toBe(303);
    const demoted = withEnv({ SESSION_SECRET: SECRET, API_TOKENS: JSON.stringify(tokens.map((t) => (t.name === 'otto' ? { ...t, role: 'viewer' } : t))) });
    expect((await demoted('/targets/home', { headers: { Cookie: otto.cookie }, redirect: 'manual' })).status).toBe(303);
  });

  it('signs out: the cookie is cleared, and only with the session\'s CSRF token', async () => {
    const viewer = await signIn(TOKENS.viewer);
    expect((await post('/sign-out', viewer, {})).status).toBe(403);
    const out = await post('/sign-out', viewer, { csrf: viewer.csrf });
    expect(out.status).toBe(303);
    expect(out.headers.getAll('Set-Cookie').find((l) => l.startsWith('__Host-lanyard_session='))).toMatch(/Max-Age=0/);
  });
});

describe('forms: CSRF and roles', () => {
  it('queues a deploy for an operator\'s confirmed form, as that operator', async () => {
    const otto = await signIn(TOKENS.operator);
    const sha = fakeSha('ui-deploy');
    const confirm = await call(`/targets/home/deploy?sha=${sha}`, { headers: { Cookie: otto.cookie } });
    expect(confirm.status).toBe(200);
    expect(await confirm.text()).toContain(`Deploy ${sha.slice(0, 7)} to home?`);
    const response = await post('/targets/home/deploy', otto, { sha, csrf: otto.csrf });
    expect(response.status).toBe(303);
    const id = /deployment=(dep_\w+)/.exec(response.headers.get('Location')!)![1]!;
    const { body } = await apiCall(`/deployments/home/logs?deploymentId=${id}`, 'viewer');
    expect(body.deployment).toMatchObject({ sha, actor: 'otto', trigger: 'manual', kind: 'deploy' });
  });

  it('takes the start of a sha the target knows, and confirms the whole commit; an unknown one is refused with what to do', async () => {
    const otto = await signIn(TOKENS.operator);
    const sha = fakeSha('ui-short-sha');
    await deliver({ event: 'push', payload: pushPayload({ after: sha, message: 'Porch light at dusk' }) });
    const confirm = await call(`/targets/home/deploy?sha=${sha.slice(0, 8)}`, { headers: { Cookie: otto.cookie } });
    expect(confirm.status).toBe(200);
    const html = await confirm.text();
    expect(html).toContain(`Deploy ${sha.slice(0, 7)} &#39;Porch light at dusk&#39; to home?`);
    expect(html).toContain(`name="sha" value="${sha}"`);
    const unknown = await call('/targets/home/deploy?sha=fedcba9', { headers: { Cookie: otto.cookie } });
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('No commit starting with fedcba9 was pushed to main or deployed here');
  });

  it('refuses a post without the CSRF token, with another session\'s, or from another origin or site, and queues nothing', async () => {
    const otto = await signIn(TOKENS.operator);
    const ada = await signIn(TOKENS.admin);
    const sha = fakeSha('ui-forged');
    const before = await historyLength();
    const attempts: [string, Response][] = [
      ['no token', await post('/targets/home/deploy', otto, { sha })],
      ['another session\'s token', await post('/targets/home/deploy', otto, { sha, csrf: ada.csrf })],
      ['a made-up token', await post('/targets/home/deploy', otto, { sha, csrf: 'A'.repeat(43) })],
      ['another origin', await post('/targets/home/deploy', otto, { sha, csrf: otto.csrf }, { ...FORM, Origin: 'https://lanyard.example:8443' })],
      ['a cross-site page', await post('/targets/home/deploy', otto, { sha, csrf: otto.csrf }, { ...FORM, Origin: 'null', 'Sec-Fetch-Site': 'cross-site' })],
      ['a same-site page', await post('/targets/home/deploy', otto, { sha, csrf: otto.csrf }, { 'Content-Type': FORM['Content-Type'], 'Sec-Fetch-Site': 'same-site' })],
      ['JSON instead of a form', await call('/targets/home/deploy', { method: 'POST', headers: { Origin: BASE, 'Content-Type': 'application/json', Cookie: otto.cookie }, body: JSON.stringify({ sha, csrf: otto.csrf }), redirect: 'manual' })],
      ['no session at all', await post('/targets/home/deploy', null, { sha, csrf: otto.csrf })],
      ['a rollback without a token', await post('/targets/home/rollback', otto, {})],
      ['a cancel without a token', await post('/targets/home/cancel', otto, { deploymentId: 'dep_x' })],
    ];
    for (const [what, response] of attempts) expect(response.status, what).toBe(403);
    expect(await attempts[0]![1].text()).toContain('CSRF token is missing');
    expect(await historyLength()).toBe(before);
  });

  it('gives a viewer no controls and refuses a viewer\'s post with 403 even with a valid CSRF token', async () => {
    const vera = await signIn(TOKENS.viewer);
    const page = await (await call('/targets/home', { headers: { Cookie: vera.cookie } })).text();
    expect(page).not.toContain('id="controls"');
    expect(page).not.toContain('data-action=');
    expect(page).toContain('vera is a viewer');
    const before = await historyLength();
    const response = await post('/targets/home/deploy', vera, { sha: fakeSha('viewer-ui'), csrf: vera.csrf });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('vera is a viewer; this needs the operator role');
    expect((await call('/targets/home/rollback', { headers: { Cookie: vera.cookie } })).status).toBe(403);
    expect(await historyLength()).toBe(before);
  });

  it('names what a rollback, a restore and a cancel will do before doing it', async () => {
    const relay = await connectRelay('home');
    await drainJobs(relay);
    const sha = fakeSha('ui-rollback-goal');
    await deliver({ event: 'push', payload: pushPayload({ after: sha, message: 'Dim the hallway <at> night\nsecond line' }) });
    const job = await relay.next('job');
    if (job.type !== 'job') throw new Error('expected a job');
    relay.send({ type: 'ack', jobId: job.jobId, attempt: job.attempt });
    relay.send({ type: 'result', jobId: job.jobId, status: 'succeeded', reason: null, summary: { backupId: 'lanyard-20261130T000000Z-ui_backup', filesChanged: ['automations.yaml'] } as never });
    await relay.next('recorded');
    relay.close();
    await relayGone('home');

    const otto = await signIn(TOKENS.operator);
    const rollback = await (await call(`/targets/home/rollback?deploymentId=${job.jobId}`, { headers: { Cookie: otto.cookie } })).text();
    expect(rollback).toContain(`Roll back home to ${job.jobId} (${sha.slice(0, 7)} &#39;Dim the hallway &lt;at&gt; night&#39;)?`);
    expect(rollback).toContain(`name="deploymentId" value="${job.jobId}"`);
    const restore = await (await call('/targets/home/rollback?backupId=lanyard-20261130T000000Z-ui_backup', { headers: { Cookie: otto.cookie } })).text();
    expect(restore).toContain('Restore backup lanyard-20261130T000000Z-ui_backup on home?');
    expect(restore).toContain(`taken before ${job.jobId}`);

    const queued = await apiCall('/deployments/home/deploy', 'operator', { body: { sha: fakeSha('ui-to-cancel') } });
    const id = queued.body.deployment.id as string;
    const cancel = await (await call(`/targets/home/cancel?deploymentId=${id}`, { headers: { Cookie: otto.cookie } })).text();
    expect(cancel).toContain(`Cancel the deploy ${id} (${fakeSha('ui-to-cancel').slice(0, 7)}) on home?`);
    const done = await post('/targets/home/cancel', otto, { deploymentId: id, csrf: csrfIn(cancel) });
    expect(done.status).toBe(303);
    expect((await apiCall(`/deployments/home/logs?deploymentId=${id}`, 'viewer')).body.deployment).toMatchObject({ status: 'cancelled', reason: 'cancelled by otto' });
    const again = await post('/targets/home/cancel', otto, { deploymentId: id, csrf: csrfIn(cancel) });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('only a queued deployment can be cancelled');
  });
});

describe('what the page shows', () => {
  it('escapes a commit message, an author and file names: markup shows as text', async () => {
    const relay = await connectRelay('cabin', 'relay-token-home');
    await drainJobs(relay);
    const sha = fakeSha('ui-xss');
    await deliver({ event: 'push', payload: pushPayload({ after: sha, ref: 'refs/heads/cabin', message: '<script>alert(1)</script> & "more"', author: '<img src=x onerror=alert(2)>' }) });
    const job = await relay.next('job');
    if (job.type !== 'job') throw new Error('expected a job');
    relay.send({ type: 'ack', jobId: job.jobId, attempt: job.attempt });
    relay.send({ type: 'result', jobId: job.jobId, status: 'succeeded', reason: null, summary: { filesChanged: ['<b onclick=alert(3)>x</b>.yaml'], drift: ['"><svg onload=alert(4)>'] } as never });
    await relay.next('recorded');
    relay.close();

    for (const path of ['/', '/targets/cabin', `/targets/cabin?deployment=${job.jobId}`, '/live', '/targets/cabin/live']) {
      const html = await (await call(path)).text();
      expect(html, path).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;more&quot;');
      expect(html, path).not.toMatch(/<script>alert|<img src=x|<b onclick|<svg onload/);
      expect(html, path).toContain('&lt;img src=x onerror=alert(2)&gt;');
    }
    const detail = await (await call(`/targets/cabin?deployment=${job.jobId}`)).text();
    expect(detail).toContain('&lt;b onclick=alert(3)&gt;x&lt;/b&gt;.yaml');
    expect(detail).toContain('&quot;&gt;&lt;svg onload=alert(4)&gt;');
  });

  it('sends a Content-Security-Policy whose nonce is the page\'s only script\'s, forbids framing and sniffing, and keeps referrers on the site', async () => {
    const response = await call('/targets/cabin');
    const csp = response.headers.get('Content-Security-Policy')!;
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1]!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(response.headers.get('Referrer-Policy')).toBe('same-origin');
    expect(response.headers.get('Cache-Control')).toBe('no-store');
    const html = await response.text();
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1"/>');
    const again = (await call('/targets/cabin')).headers.get('Content-Security-Policy');
    expect(again).not.toBe(csp);
  });

  it('lets anyone read a public target, without controls, and sends a reader of a private one to sign in', async () => {
    const cabin = await call('/targets/cabin');
    expect(cabin.status).toBe(200);
    const html = await cabin.text();
    expect(html).not.toContain('id="controls"');
    expect(html).toContain('Sign in as an operator');
    const home = await call('/targets/home?deployment=dep_x', { redirect: 'manual' });
    expect(home.status).toBe(303);
    expect(home.headers.get('Location')).toBe('/sign-in?next=%2Ftargets%2Fhome%3Fdeployment%3Ddep_x');
    const overview = await (await call('/')).text();
    expect(overview).toContain('data-target="cabin"');
    expect(overview).not.toContain('data-target="home"');
    // A confirmation page is for operators: a reader who is not signed in goes to sign in first.
    expect((await call('/targets/cabin/rollback', { redirect: 'manual' })).status).toBe(303);
  });

  it('hops once through this origin when a link from another site arrives without the Strict cookie', async () => {
    const response = await call('/targets/home?deployment=dep_abc', { headers: { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'navigate' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<meta http-equiv="refresh" content="0;url=/targets/home?deployment=dep_abc"/>');
  });

  it('draws the chart from the metrics the API answers', async () => {
    const html = await (await call('/targets/cabin')).text();
    const { body } = await apiCall('/deployments/cabin/metrics?days=30', null);
    const bars = [...html.matchAll(/<g data-day="([\d-]+)" data-total="(\d+)"/g)].map((m) => ({ day: m[1], total: Number(m[2]) }));
    expect(bars).toEqual(body.perDay.map((d: { day: string; total: number }) => ({ day: d.day, total: d.total })));
    expect(html).toContain(`data-metric="successRate" data-value="${body.successRate}"`);
  });

  it('shows a failed workflow on the waiting commit as failed, with a link to the run, and never a non-http link', async () => {
    const viewer = await signIn(TOKENS.viewer);
    const sha = fakeSha('ui-gated-red');
    const short = sha.slice(0, 7);
    await deliver({ event: 'push', payload: pushPayload({ repo: 'octo-home/gated-config', after: sha }) });
    const before = await (await call('/targets/gated', { headers: { Cookie: viewer.cookie } })).text();
    expect(before).toContain(`<span class="badge waiting" data-badge="waiting">waiting</span> waiting for workflow &quot;Config check&quot; on ${short}`);

    await deliver({ event: 'workflow_run', payload: workflowRunPayload({ headSha: sha, conclusion: 'failure' }) });
    for (const path of ['/targets/gated', '/targets/gated/live', '/']) {
      const html = await (await call(path, { headers: { Cookie: viewer.cookie } })).text();
      const fact = /<dd data-fact="waiting"[^>]*>[\s\S]*?<\/dd>/.exec(html)?.[0] ?? '';
      expect(fact, path).toContain('data-conclusion="failure"');
      expect(fact, path).toContain('<span class="badge failed" data-badge="failed">failed</span>');
      expect(fact, path).toContain(`workflow &quot;Config check&quot; concluded failure on ${short}: not deployed; push a fix or re-run the workflow`);
      expect(fact, path).toContain('href="https://github.com/octo-home/gated-config/actions/runs/30433642"');
      expect(fact, path).not.toContain('data-badge="waiting"');
    }

    // A run URL that is not http(s) is never a link.
    const payload = workflowRunPayload({ headSha: sha, conclusion: 'timed_out' as 'failure' });
    payload.workflow_run.html_url = 'javascript:alert(1)';
    await deliver({ event: 'workflow_run', payload });
    expect((await apiCall('/deployments/gated/status', 'viewer')).body.waiting).toMatchObject({ conclusion: 'timed_out', url: null });
    const html = await (await call('/targets/gated', { headers: { Cookie: viewer.cookie } })).text();
    expect(html).toContain(`concluded timed_out on ${short}`);
    expect(html).not.toContain('javascript:');
  });

  it('answers an unknown target with a 404 page', async () => {
    const response = await call('/targets/nowhere');
    expect(response.status).toBe(404);
    expect(response.headers.get('Content-Type')).toMatch(/^text\/html/);
    expect(await response.text()).toContain('No target named &quot;nowhere&quot; is configured.');
  });
});

describe('the live channel', () => {
  it('refuses a watcher of a private target without a session (401) or from another origin (403)', async () => {
    expect((await call('/targets/home/watch', { headers: { Upgrade: 'websocket' } })).status).toBe(401);
    const vera = await signIn(TOKENS.viewer);
    expect((await call('/targets/home/watch', { headers: { Upgrade: 'websocket', Cookie: vera.cookie, Origin: 'https://evil.example' } })).status).toBe(403);
    expect((await call('/targets/home/watch', { headers: { Cookie: vera.cookie } })).status).toBe(426);
  });

  it('hands a signed-in watcher the hub\'s socket, which says when something changed', async () => {
    const relay = await connectRelay('home');
    await drainJobs(relay);
    const vera = await signIn(TOKENS.viewer);
    const response = await call('/targets/home/watch', { headers: { Upgrade: 'websocket', Cookie: vera.cookie, Origin: BASE } });
    expect(response.status).toBe(101);
    const socket = response.webSocket!;
    socket.accept();
    const changed = new Promise<{ type: string }>((resolve) => socket.addEventListener('message', (e) => resolve(JSON.parse(String(e.data)))));
    await apiCall('/deployments/home/deploy', 'operator', { body: { sha: fakeSha('ui-watch') } });
    await expect(changed).resolves.toMatchObject({ type: 'changed' });
    socket.close(1000, 'done');
    await drainJobs(relay);
    relay.close();
  });

  it('lets anyone watch a public target', async () => {
    const response = await call('/targets/cabin/watch', { headers: { Upgrade: 'websocket' } });
    expect(response.status).toBe(101);
    response.webSocket!.accept();
    response.webSocket!.close(1000, 'done');
  });
});

describe('the backups the relay keeps', () => {
  it('lists the backups the relay reported, and offers no Restore for one it pruned, in the history or the confirmation', async () => {
    const relay = await connectRelay('home', 'relay-token-home', true, ['deploy', 'rollback', BACKUP_INVENTORY_CAPABILITY]);
    await drainJobs(relay);
    const otto = await signIn(TOKENS.operator);
    // No inventory yet: every backup a deployment recorded is offered, as before.
    const before = await (await call('/targets/home', { headers: { Cookie: otto.cookie } })).text();
    expect(before).toContain('data-inventory="none"');
    expect(before).toContain('href="/targets/home/rollback?backupId=lanyard-20261130T000000Z-ui_backup"');

    const pruned = 'lanyard-20261201T000000Z-ui_pruned';
    const kept = 'lanyard-20261202T000000Z-ui_kept';
    const makers: Record<string, string> = {};
    for (const [seed, backupId] of [['ui-backup-pruned', pruned], ['ui-backup-kept', kept]] as const) {
      await apiCall('/deployments/home/deploy', 'operator', { body: { sha: fakeSha(seed) } });
      const job = await relay.next('job');
      if (job.type !== 'job') throw new Error('expected a job');
      relay.send({ type: 'result', jobId: job.jobId, status: 'succeeded', reason: null, summary: { backupId, filesChanged: ['scripts.yaml'] } as never });
      await relay.next('recorded');
      makers[backupId] = job.jobId;
    }
    relay.send({
      type: 'backups',
      backups: [{ id: kept, createdAt: Date.UTC(2026, 11, 2), deploymentId: makers[kept]!, sha: fakeSha('ui-backup-pruned'), files: 3, bytes: 2_500_000 }],
      at: Date.now(),
    });
    await expect.poll(async () => (await apiCall('/deployments/home/backups', 'viewer')).body.backups?.items.length ?? 0).toBe(1);
    relay.close();

    const page = await (await call('/targets/home', { headers: { Cookie: otto.cookie } })).text();
    const section = /<section class="card" id="backups"[\s\S]*?<\/section>/.exec(page)?.[0] ?? '';
    expect(section).toContain('data-inventory="reported"');
    expect(section).toContain(`<tr data-backup="${kept}">`);
    expect(section).toContain(`href="/targets/home/rollback?backupId=${kept}"`);
    expect(section).toContain('2.5 MB');
    expect(section).toContain('data-files="3"');
    expect(section).toContain(`href="/targets/home?deployment=${makers[kept]}"`);
    expect(section).toContain('2026-12-02 00:00:00 UTC');
    expect(section).not.toContain(pruned);

    const row = (id: string) => new RegExp(`<tr data-deployment="${id}"[\\s\\S]*?</tr>`).exec(page)?.[0] ?? '';
    expect(row(makers[pruned]!)).toContain('data-pruned');
    expect(row(makers[pruned]!)).not.toContain('data-action="restore"');
    expect(row(makers[kept]!)).toContain(`href="/targets/home/rollback?backupId=${kept}"`);
    expect(row(makers[kept]!)).not.toContain('data-pruned');
    // The earlier test's backup is not in the inventory either: no longer offered.
    expect(page).not.toContain('backupId=lanyard-20261130T000000Z-ui_backup');

    const refused = await call(`/targets/home/rollback?backupId=${pruned}`, { headers: { Cookie: otto.cookie } });
    expect(refused.status).toBe(409);
    const refusal = await refused.text();
    expect(refusal).toContain('Backup no longer kept');
    expect(refusal).toContain(`The relay no longer keeps backup &quot;${pruned}&quot; on the host: it was pruned`);
    expect(refusal).not.toContain('data-confirm-button');
    const forced = await post('/targets/home/rollback', otto, { backupId: pruned, csrf: otto.csrf });
    expect(forced.status).toBe(409);

    const confirm = await call(`/targets/home/rollback?backupId=${kept}`, { headers: { Cookie: otto.cookie } });
    expect(confirm.status).toBe(200);
    const confirmation = await confirm.text();
    expect(confirmation).toContain(`Restore backup ${kept} on home?`);
    expect(confirmation).toContain(`taken before ${makers[kept]}`);
    expect(confirmation).toContain('The relay keeps it: 3 files, 2.5 MB');
    expect(confirmation).toContain('data-confirm-button');

    // A viewer sees the list, without a link to restore; the live fragment has it too.
    const vera = await signIn(TOKENS.viewer);
    const viewed = await (await call('/targets/home', { headers: { Cookie: vera.cookie } })).text();
    expect(viewed).toContain(`<tr data-backup="${kept}">`);
    expect(viewed).not.toContain('data-action=');
    expect(await (await call('/targets/home/live', { headers: { Cookie: vera.cookie } })).text()).toContain(`<tr data-backup="${kept}">`);
  });
});

describe('durations as the page writes them', () => {
  it('keeps milliseconds visible, and switches to seconds, minutes and hours as they grow', () => {
    expect([null, 0, 4.4, 35, 99.6, 100, 420, 12_449, 192_000, 7_500_000].map(duration)).toEqual([
      '—',
      '0 ms',
      '4 ms',
      '35 ms',
      '100 ms',
      '0.1 s',
      '0.4 s',
      '12.4 s',
      '3 min 12 s',
      '2 h 5 min',
    ]);
  });
});
