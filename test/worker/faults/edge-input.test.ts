// Faults, class "bad input at the edge": webhooks with wrong, truncated, re-used or wrong-algorithm
// signatures, giant and deeply nested JSON, events and repositories nothing deploys; API calls
// without a token, with a viewer's token on a write, with an injected target name, deployment id or
// backup id. For every case: what the sender sees (status and the one error shape), what the edge
// keeps (the delivery ledger's row, the access log's row, the audit trail), that nothing was queued
// anywhere, and that a good delivery is accepted right after it.
//
// Every request goes through the Worker with an ExecutionContext the test waits on, so the ledger
// and access-log rows (written with waitUntil after the answer) are there when the case reads them.
import { describe, expect, it } from 'vitest';
import { sign } from '@octokit/webhooks-methods';
import { fakeSha, pushPayload, repositoryDispatchPayload, workflowRunPayload } from '../../support/github-payloads.ts';
import { webhookRequestInit, type DeliveryOptions } from '../../support/webhook-delivery.ts';
import { TOKENS } from '../helpers.ts';
import { edge, type Answer } from './edge-request.ts';

const TARGETS = ['home', 'cabin', 'gated', 'outward', 'dispatched'] as const;
/** Every answer and every stored reason stays this small, whatever the request held. */
const SMALL_ANSWER = 8 * 1024;



async function api(path: string, token: string | null, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return edge(`/api${path}`, { method: body === undefined ? 'GET' : 'POST', headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
}

async function webhook(options: DeliveryOptions, headers: Record<string, string | null> = {}): Promise<Answer> {
  const init = await webhookRequestInit(options);
  for (const [name, value] of Object.entries(headers)) {
    if (value === null) delete init.headers[name];
    else init.headers[name] = value;
  }
  return edge('/webhooks/github', init);
}

/** Every deployment of every target, as the API shows them: nothing queued means this does not change. */
async function allDeployments(): Promise<string> {
  const pages = await Promise.all(TARGETS.map((t) => api(`/deployments/${t}/history?limit=200`, TOKENS.admin)));
  return JSON.stringify(pages.map((p) => p.body.deployments));
}

async function auditOf(target: string): Promise<Record<string, any>[]> {
  return (await api(`/deployments/${target}/audit?limit=500`, TOKENS.admin)).body.entries;
}

async function newestDelivery(): Promise<Record<string, any>> {
  return (await api('/deliveries?limit=1', TOKENS.admin)).body.deliveries[0];
}

async function accessLogSince(id: number): Promise<Record<string, any>[]> {
  const { body } = await api('/access-log?limit=200', TOKENS.admin);
  return (body.entries as Record<string, any>[]).filter((e) => e.id > id);
}

async function newestAccessId(): Promise<number> {
  const { body } = await api('/access-log?limit=1', TOKENS.admin);
  return body.entries[0]?.id ?? 0;
}

let goodPushes = 0;
/** The edge still works: a good signed push is queued for home. */
async function goodDeliveryIsAccepted(): Promise<void> {
  goodPushes += 1;
  const { status, body } = await webhook({ event: 'push', payload: pushPayload({ after: fakeSha(`still-works-${goodPushes}`) }) });
  expect(status, JSON.stringify(body)).toBe(202);
  expect(body.status).toBe('enqueued');
}

function expectErrorShape(answer: Answer, status: number, code: string, message: RegExp): void {
  expect(answer.status, answer.text.slice(0, 500)).toBe(status);
  expect(Object.keys(answer.body)).toEqual(['error']);
  expect(answer.body.error).toMatchObject({ code, message: expect.stringMatching(message) });
  expect(answer.text.length).toBeLessThan(SMALL_ANSWER);
}

// ---- webhooks ------------------------------------------------------------------------------------

const push = () => pushPayload({ after: fakeSha(`bad-input-${crypto.randomUUID()}`) });
/** Hex HMAC of `body` with the webhook secret, in any algorithm Web Crypto knows. */
async function hmac(algorithm: 'SHA-1' | 'SHA-512', body: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode('test-webhook-secret'), { name: 'HMAC', hash: algorithm }, false, ['sign']);
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(body));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

interface WebhookCase {
  name: string;
  send: (deliveryId: string) => Promise<Answer>;
  status: number;
  code: string;
  message: RegExp;
  /** The ledger's row for it. */
  ledger: { verified: boolean; verdict: string; event?: string | null };
}

const refusedSignature = { verified: false, verdict: 'rejected' } as const;

const webhookCases: WebhookCase[] = [
  {
    name: 'a signature of another body (a captured delivery replayed with a changed commit)',
    send: async (deliveryId) => {
      const original = JSON.stringify(push());
      const changed = original.replace(/"after":"[0-9a-f]{40}"/, `"after":"${fakeSha('attacker')}"`);
      return webhook({ event: 'push', payload: null, rawBody: changed, deliveryId, signature: await sign('test-webhook-secret', original) });
    },
    status: 401,
    code: 'bad_signature',
    message: /does not match the webhook secret/,
    ledger: refusedSignature,
  },
  {
    name: 'the right signature over a body changed by one trailing byte',
    send: async (deliveryId) => {
      const body = JSON.stringify(push());
      return webhook({ event: 'push', payload: null, rawBody: `${body}\n`, deliveryId, signature: await sign('test-webhook-secret', body) });
    },
    status: 401,
    code: 'bad_signature',
    message: /does not match/,
    ledger: refusedSignature,
  },
  {
    name: 'a signature truncated by one hex digit',
    send: async (deliveryId) => {
      const body = JSON.stringify(push());
      return webhook({ event: 'push', payload: null, rawBody: body, deliveryId, signature: (await sign('test-webhook-secret', body)).slice(0, -1) });
    },
    status: 401,
    code: 'bad_signature',
    message: /malformed X-Hub-Signature-256/,
    ledger: refusedSignature,
  },
  {
    name: 'a signature truncated to half its length',
    send: async (deliveryId) => {
      const body = JSON.stringify(push());
      return webhook({ event: 'push', payload: null, rawBody: body, deliveryId, signature: (await sign('test-webhook-secret', body)).slice(0, 7 + 32) });
    },
    status: 401,
    code: 'bad_signature',
    message: /malformed/,
    ledger: refusedSignature,
  },
  {
    name: 'a correct HMAC-SHA1 (the legacy algorithm) in X-Hub-Signature-256',
    send: async (deliveryId) => {
      const body = JSON.stringify(push());
      return webhook({ event: 'push', payload: null, rawBody: body, deliveryId, signature: `sha1=${await hmac('SHA-1', body)}` });
    },
    status: 401,
    code: 'bad_signature',
    message: /malformed/,
    ledger: refusedSignature,
  },
  {
    name: 'only the legacy X-Hub-Signature header, correct for SHA-1',
    send: async (deliveryId) => {
      const body = JSON.stringify(push());
      return webhook({ event: 'push', payload: null, rawBody: body, deliveryId, signature: null }, { 'X-Hub-Signature': `sha1=${await hmac('SHA-1', body)}` });
    },
    status: 401,
    code: 'bad_signature',
    message: /missing X-Hub-Signature-256/,
    ledger: refusedSignature,
  },
  {
    name: 'a correct HMAC-SHA512 labelled sha256',
    send: async (deliveryId) => {
      const body = JSON.stringify(push());
      return webhook({ event: 'push', payload: null, rawBody: body, deliveryId, signature: `sha256=${await hmac('SHA-512', body)}` });
    },
    status: 401,
    code: 'bad_signature',
    message: /malformed/,
    ledger: refusedSignature,
  },
  {
    name: 'a plain SHA-256 of the body with no secret at all',
    send: async (deliveryId) => {
      const body = JSON.stringify(push());
      const digest = [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body)))].map((b) => b.toString(16).padStart(2, '0')).join('');
      return webhook({ event: 'push', payload: null, rawBody: body, deliveryId, signature: `sha256=${digest}` });
    },
    status: 401,
    code: 'bad_signature',
    message: /does not match/,
    ledger: refusedSignature,
  },
  {
    name: 'two signatures joined with a comma',
    send: async (deliveryId) => {
      const body = JSON.stringify(push());
      const good = await sign('test-webhook-secret', body);
      return webhook({ event: 'push', payload: null, rawBody: body, deliveryId, signature: `${good},${good}` });
    },
    status: 401,
    code: 'bad_signature',
    message: /malformed/,
    ledger: refusedSignature,
  },
  {
    name: 'an unsigned request whose delivery id and event headers are 6,000 characters long',
    send: () => webhook({ event: 'E'.repeat(6000), payload: push(), secret: 'not-the-secret', deliveryId: 'D'.repeat(6000) }),
    status: 401,
    code: 'bad_signature',
    message: /does not match/,
    // Unsigned and not shaped like GitHub's: the ledger keeps none of the text it chose.
    ledger: { verified: false, verdict: 'rejected', event: null },
  },
  {
    name: 'a signed delivery without X-GitHub-Event',
    send: (deliveryId) => webhook({ event: 'push', payload: push(), deliveryId }, { 'X-GitHub-Event': null }),
    status: 400,
    code: 'invalid',
    message: /missing X-GitHub-Event/,
    ledger: { verified: true, verdict: 'invalid', event: null },
  },
  {
    name: 'a signed delivery without X-GitHub-Delivery',
    send: () => webhook({ event: 'push', payload: push() }, { 'X-GitHub-Delivery': null }),
    status: 400,
    code: 'invalid',
    message: /missing X-GitHub-Delivery/,
    ledger: { verified: true, verdict: 'invalid' },
  },
  {
    name: 'a signed body that is 200,000 nested arrays',
    send: (deliveryId) => webhook({ event: 'push', payload: null, rawBody: `${'['.repeat(200_000)}${']'.repeat(200_000)}`, deliveryId }),
    status: 400,
    code: 'invalid',
    message: /not a push payload GitHub would send: \(root\)/,
    ledger: { verified: true, verdict: 'invalid' },
  },
  {
    name: 'a signed push whose repository name is 200,000 nested arrays',
    send: (deliveryId) => {
      const body = JSON.stringify(push()).replace('"full_name":"octo-home/ha-config"', `"full_name":${'['.repeat(200_000)}${']'.repeat(200_000)}`);
      return webhook({ event: 'push', payload: null, rawBody: body, deliveryId });
    },
    status: 400,
    code: 'invalid',
    message: /repository\.full_name: Invalid input: expected string, received array/,
    ledger: { verified: true, verdict: 'invalid' },
  },
  {
    name: 'a signed push naming a 5 MB commit',
    send: (deliveryId) => webhook({ event: 'push', payload: { ...push(), after: 'f'.repeat(5_000_000) }, deliveryId }),
    status: 400,
    code: 'invalid',
    message: /^push names commit "f+…$/,
    ledger: { verified: true, verdict: 'invalid' },
  },
  {
    name: 'a signed push naming its commit in upper case',
    send: (deliveryId) => webhook({ event: 'push', payload: { ...push(), after: fakeSha('upper').toUpperCase() }, deliveryId }),
    status: 400,
    code: 'invalid',
    message: /which is not a 40-character sha/,
    ledger: { verified: true, verdict: 'invalid' },
  },
  {
    name: 'a signed repository_dispatch whose sha is a path',
    send: (deliveryId) => webhook({ event: 'repository_dispatch', payload: repositoryDispatchPayload('deploy-home', { sha: '../../../etc/passwd' }), deliveryId }),
    status: 400,
    code: 'invalid',
    message: /client_payload\.sha "\.\.\/\.\.\/\.\.\/etc\/passwd" is not a 40-character lowercase sha/,
    ledger: { verified: true, verdict: 'invalid' },
  },
  {
    // pull_request is read since issue 20 (plans): a push's body is no pull request.
    name: 'a push payload sent as a pull_request event',
    send: (deliveryId) => webhook({ event: 'pull_request', payload: push(), deliveryId }),
    status: 400,
    code: 'invalid',
    message: /not a pull_request payload GitHub would send/,
    ledger: { verified: true, verdict: 'invalid' },
  },
  {
    name: 'a signed successful workflow_run whose head_sha is not a sha',
    send: (deliveryId) => webhook({ event: 'workflow_run', payload: workflowRunPayload({ headSha: 'HEAD~1' }), deliveryId }),
    status: 400,
    code: 'invalid',
    message: /workflow_run names commit "HEAD~1"/,
    ledger: { verified: true, verdict: 'invalid' },
  },
];

/** Signed, well-formed, and yet nothing may deploy: answered 202 `ignored` with the reason. */
interface IgnoredCase {
  name: string;
  event: string;
  payload: () => unknown;
  reason: RegExp;
}

const ignoredCases: IgnoredCase[] = [
  { name: 'a push payload sent as an issues event', event: 'issues', payload: push, reason: /event "issues" does not deploy anything/ },
  { name: 'a push payload sent as event PUSH (event names are exact)', event: 'PUSH', payload: push, reason: /event "PUSH" does not deploy anything/ },
  { name: 'a push payload sent as a check_run event', event: 'check_run', payload: push, reason: /event "check_run" does not deploy anything/ },
  {
    name: 'an event whose name is 60,000 characters',
    event: 'x'.repeat(60_000),
    payload: push,
    reason: /^event "x+…$/,
  },
  {
    name: 'a push to a repository whose name only starts like a configured one',
    event: 'push',
    payload: () => pushPayload({ repo: 'octo-home/ha-config-fork', after: fakeSha('fork') }),
    reason: /no target deploys repository octo-home\/ha-config-fork/,
  },
  {
    name: 'a push to a repository name with a path in it',
    event: 'push',
    payload: () => pushPayload({ repo: 'octo-home/ha-config/../gated-config', after: fakeSha('dotdot-repo') }),
    reason: /no target deploys repository octo-home\/ha-config\/\.\.\/gated-config/,
  },
  {
    name: 'a successful workflow_run of a repository no target deploys',
    event: 'workflow_run',
    payload: () => workflowRunPayload({ repo: 'mallory/gated-config', headSha: fakeSha('unconfigured-run') }),
    reason: /no target of mallory\/gated-config deploys on workflow_run/,
  },
  {
    name: 'a repository_dispatch of the right type from a repository no target deploys',
    event: 'repository_dispatch',
    payload: () => repositoryDispatchPayload('deploy-home', { sha: fakeSha('unconfigured-dispatch') }, 'mallory/dispatch-config'),
    reason: /no target of mallory\/dispatch-config deploys on repository_dispatch/,
  },
  {
    name: 'a push to a configured repository on a 3 MB branch name',
    event: 'push',
    payload: () => ({ ...push(), ref: `refs/heads/${'b'.repeat(3_000_000)}` }),
    reason: /^push to b+…/,
  },
];

describe('bad webhook deliveries', () => {
  it.each(webhookCases)('$name: answered $status, recorded in the ledger, nothing queued', async (c) => {
    const before = await allDeployments();
    const deliveryId = crypto.randomUUID();
    const answer = await c.send(deliveryId);
    expectErrorShape(answer, c.status, c.code, c.message);

    const row = await newestDelivery();
    expect(row).toMatchObject({ verified: c.ledger.verified, verdict: c.ledger.verdict, status: c.status, deployments: [] });
    if (c.ledger.event !== undefined) expect(row.event).toBe(c.ledger.event);
    expect(row.reason).toBe(answer.body.error.message);
    expect(JSON.stringify(row).length).toBeLessThan(SMALL_ANSWER);
    expect(await allDeployments()).toBe(before);
    await goodDeliveryIsAccepted();
  });

  it.each(ignoredCases)('$name: answered 202 ignored with the reason, recorded, nothing queued', async (c) => {
    const before = await allDeployments();
    const deliveryId = crypto.randomUUID();
    const answer = await webhook({ event: c.event, payload: c.payload(), deliveryId });
    expect(answer.status, answer.text.slice(0, 300)).toBe(202);
    expect(answer.body).toMatchObject({ status: 'ignored', reason: expect.stringMatching(c.reason) });
    expect(answer.text.length).toBeLessThan(SMALL_ANSWER);

    // The row is there even for a payload far larger than a D1 value may be: it is cut, not lost.
    const row = await newestDelivery();
    expect(row).toMatchObject({ deliveryId, verified: true, verdict: 'ignored', status: 202, deployments: [], reason: answer.body.reason });
    expect(JSON.stringify(row).length).toBeLessThan(SMALL_ANSWER);
    expect(await allDeployments()).toBe(before);
    await goodDeliveryIsAccepted();
  });

  it('a delivery replayed with its id and a changed, validly signed body is a duplicate: the first commit stays queued, the second is never', async () => {
    const deliveryId = crypto.randomUUID();
    const first = await webhook({ event: 'push', payload: pushPayload({ after: fakeSha('replay-first') }), deliveryId });
    expect(first.status).toBe(202);
    const before = await allDeployments();
    const replay = await webhook({ event: 'push', payload: pushPayload({ after: fakeSha('replay-changed') }), deliveryId });
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ status: 'duplicate', deployments: first.body.deployments.map((d: any) => ({ target: d.target, deploymentId: d.deploymentId })) });
    expect(await allDeployments()).toBe(before);
    expect(before).not.toContain(fakeSha('replay-changed'));
    expect(await newestDelivery()).toMatchObject({ deliveryId, verdict: 'duplicate', status: 200 });
    await goodDeliveryIsAccepted();
  });

  it('a signed push carrying 200,000 nested arrays in a field Lanyard does not read deploys as GitHub meant it', async () => {
    const sha = fakeSha('deep-but-harmless');
    const body = JSON.stringify(pushPayload({ after: sha })).replace(/}$/, `,"x_extra":${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
    const answer = await webhook({ event: 'push', payload: null, rawBody: body });
    expect(answer.status).toBe(202);
    expect(answer.body.deployments).toEqual([{ target: 'home', deploymentId: expect.any(String) }]);
    const { body: logs } = await api(`/deployments/home/logs?deploymentId=${answer.body.deployments[0].deploymentId}`, TOKENS.viewer);
    expect(logs.deployment.sha).toBe(sha);
  });
});

// ---- the REST API --------------------------------------------------------------------------------

interface ApiCase {
  name: string;
  path: string;
  token: string | null;
  body?: unknown;
  status: number;
  code: string;
  message: RegExp;
  /** The access log's row: refused tokens and roles only. */
  logged: { action: string; who: string | null } | null;
}

const LONG = 'x'.repeat(100_000);
const writes: [string, unknown][] = [
  ['deploy', { sha: fakeSha('refused-write') }],
  ['rollback', {}],
  ['cancel', { deploymentId: 'dep_00000000000000000000' }],
];

const apiCases: ApiCase[] = [
  ...writes.map(([action, body]): ApiCase => ({
    name: `${action} without a token`,
    path: `/deployments/home/${action}`,
    token: null,
    body,
    status: 401,
    code: 'unauthorized',
    message: /Send a bearer token/,
    logged: { action: 'api.unauthorized', who: null },
  })),
  ...writes.map(([action, body]): ApiCase => ({
    name: `${action} with a viewer's token`,
    path: `/deployments/home/${action}`,
    token: TOKENS.viewer,
    body,
    status: 403,
    code: 'forbidden',
    message: /^vera is a viewer; this needs the operator role\.$/,
    logged: { action: 'api.forbidden', who: 'vera' },
  })),
  ...writes.map(([action, body]): ApiCase => ({
    name: `${action} with a viewer's token on a public target`,
    path: `/deployments/cabin/${action}`,
    token: TOKENS.viewer,
    body,
    status: 403,
    code: 'forbidden',
    message: /vera is a viewer/,
    logged: { action: 'api.forbidden', who: 'vera' },
  })),
  {
    name: 'deploy with a 10,000-character token',
    path: '/deployments/home/deploy',
    token: 'T'.repeat(10_000),
    body: { sha: fakeSha('long-token') },
    status: 401,
    code: 'unauthorized',
    message: /not one this edge knows/,
    logged: { action: 'api.unauthorized', who: null },
  },
  {
    name: 'deploy with a token that has a space in it',
    path: '/deployments/home/deploy',
    token: `${TOKENS.operator} ${TOKENS.operator}`,
    body: { sha: fakeSha('two-tokens') },
    status: 401,
    code: 'unauthorized',
    message: /Send a bearer token/,
    logged: { action: 'api.unauthorized', who: null },
  },
  ...(
    [
      ['a path', '..%2F..%2Fhome', /^No target named "\.\.\/\.\.\/home" is configured\.$/],
      ['a NUL', 'home%00', /^No target named "home\\u0000" is configured\.$/],
      ['a NUL first', '%00home', /^No target named "\\u0000home" is configured\.$/],
      ['a newline', 'home%0Acabin', /^No target named "home\\ncabin" is configured\.$/],
      ['another target after a slash', 'home%2F..%2Fcabin', /^No target named "home\/\.\.\/cabin" is configured\.$/],
      ['capitals', 'HOME', /^No target named "HOME" is configured\.$/],
      ['a zero-width space', '%E2%80%8Bhome', /^No target named "\u200bhome" is configured\.$/],
      ['20,000 characters', 'a'.repeat(20_000), /^No target named "a{79}…" is configured\.$/],
    ] as const
  ).flatMap(([what, name, message]): ApiCase[] => [
    { name: `status of a target name with ${what}`, path: `/deployments/${name}/status`, token: TOKENS.admin, status: 404, code: 'unknown_target', message, logged: null },
    { name: `deploy to a target name with ${what}`, path: `/deployments/${name}/deploy`, token: TOKENS.operator, body: { sha: fakeSha('injected-target') }, status: 404, code: 'unknown_target', message, logged: null },
  ]),
  ...(
    [
      ['a path', '../../etc/passwd'],
      ['a NUL', 'lanyard-20261122T190500Z\u0000.tar.gz'],
      ['100,000 characters', LONG],
      ['a leading dash', '-rf'],
      ['a slash', 'lanyard/backups'],
      ['a space', 'lanyard 1'],
    ] as const
  ).map(([what, backupId]): ApiCase => ({
    name: `rollback to a backup id with ${what}`,
    path: '/deployments/home/rollback',
    token: TOKENS.operator,
    body: { backupId },
    status: 400,
    code: 'invalid_request',
    message: /^body is invalid: backupId: a backup id: lanyard-, a UTC time like 20261122T190500Z, -, and up to 32 lowercase letters, digits, "_" or "-"$/,
    logged: null,
  })),
  {
    name: 'rollback to a well-formed backup id nobody made',
    path: '/deployments/home/rollback',
    token: TOKENS.operator,
    body: { backupId: `lanyard-20200101T000000Z-${'9'.repeat(32)}` },
    status: 404,
    code: 'unknown_backup',
    message: /^No deployment of this target made a backup named "lanyard-20200101T000000Z-9+"\.$/,
    logged: null,
  },
  ...(
    [
      ['rollback', { deploymentId: '../dep_x' }],
      ['rollback', { deploymentId: `dep_${LONG}` }],
      ['rollback', { deploymentId: 'dep\u0000x' }],
      ['cancel', { deploymentId: `dep_${LONG}` }],
      ['cancel', { deploymentId: 'dep_1; DROP TABLE deployments' }],
      ['cancel', { deploymentId: '' }],
    ] as const
  ).map(([action, body]): ApiCase => ({
    name: `${action} of a deployment id ${JSON.stringify(body.deploymentId).slice(0, 30)}`,
    path: `/deployments/home/${action}`,
    token: TOKENS.operator,
    body,
    status: 400,
    code: 'invalid_request',
    message: /^body is invalid: deploymentId: a deployment id, e\.g\. dep_/,
    logged: null,
  })),
  {
    name: 'logs of a 10,000-character deployment id',
    path: `/deployments/home/logs?deploymentId=${'d'.repeat(10_000)}`,
    token: TOKENS.viewer,
    status: 400,
    code: 'invalid_request',
    message: /^query is invalid: deploymentId: a deployment id/,
    logged: null,
  },
  {
    name: 'logs of a deployment id with a path',
    path: '/deployments/home/logs?deploymentId=..%2F..%2Fdep_x',
    token: TOKENS.viewer,
    status: 400,
    code: 'invalid_request',
    message: /deploymentId: a deployment id/,
    logged: null,
  },
  {
    name: 'history before a 10,000-character deployment id',
    path: `/deployments/home/history?before=${'d'.repeat(10_000)}`,
    token: TOKENS.viewer,
    status: 400,
    code: 'invalid_request',
    message: /^query is invalid: before: a deployment id/,
    logged: null,
  },
  {
    name: 'deploy with a body of 200,000 nested arrays',
    path: '/deployments/home/deploy',
    token: TOKENS.operator,
    body: `${'['.repeat(200_000)}${']'.repeat(200_000)}`,
    status: 400,
    code: 'invalid_request',
    message: /^body is invalid: \(root\): Invalid input: expected object, received array$/,
    logged: null,
  },
  {
    name: 'deploy with a sha of 100,000 nested objects',
    path: '/deployments/home/deploy',
    token: TOKENS.operator,
    body: `{"sha":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`,
    status: 400,
    code: 'invalid_request',
    message: /^body is invalid: sha: Invalid input: expected string, received object$/,
    logged: null,
  },
  {
    name: 'deploy with a 5 MB sha',
    path: '/deployments/home/deploy',
    token: TOKENS.operator,
    body: { sha: 'f'.repeat(5_000_000) },
    status: 400,
    code: 'invalid_request',
    message: /^body is invalid: sha: a commit sha/,
    logged: null,
  },
  {
    name: 'deploy with a body that is not JSON',
    path: '/deployments/home/deploy',
    token: TOKENS.operator,
    body: '{"sha": "abc',
    status: 400,
    code: 'invalid_json',
    message: /not valid JSON/,
    logged: null,
  },
  {
    name: 'deploy with a __proto__ key in the body',
    path: '/deployments/home/deploy',
    token: TOKENS.operator,
    body: '{"__proto__": {"sha": null}, "sha": "abc"}',
    status: 400,
    code: 'invalid_request',
    message: /^body is invalid: /,
    logged: null,
  },
];

describe('bad API calls', () => {
  it.each(apiCases)('$name: answered $status, nothing queued or audited', async (c) => {
    const before = await allDeployments();
    const audits = await Promise.all(['home', 'cabin'].map(auditOf));
    const logMark = await newestAccessId();

    const answer = await api(c.path, c.token, c.body);
    expectErrorShape(answer, c.status, c.code, c.message);

    const logged = await accessLogSince(logMark);
    if (c.logged) {
      expect(logged).toEqual([expect.objectContaining({ ...c.logged, status: c.status, reason: answer.body.error.message, source: '127.0.0.1' })]);
      // A presented token, or any part of it, is never stored.
      if (c.token && c.token !== TOKENS.viewer) expect(JSON.stringify(logged)).not.toContain(c.token.slice(0, 12));
    } else {
      expect(logged).toEqual([]);
    }
    expect(await allDeployments()).toBe(before);
    expect(await Promise.all(['home', 'cabin'].map(auditOf))).toEqual(audits);
    await goodDeliveryIsAccepted();
  });
});

describe('bad names on the status page and the relay endpoint', () => {
  it.each([
    ['the status page', (name: string) => `/targets/${name}`],
    ['the relay endpoint', (name: string) => `/relay/connect?target=${name}`],
  ] as const)('%s answers an injected or 20,000-character target name with a 404 no longer than any other', async (_where, path) => {
    const init = { headers: { Upgrade: 'websocket', Authorization: 'Bearer relay-token-home' } };
    const plain = await edge(path('nowhere'), init);
    expect(plain.status).toBe(404);
    for (const name of ['..%2Fhome', '%00', 'home%00', 'a'.repeat(20_000)]) {
      const answer = await edge(path(name), init);
      expect(answer.status, name.slice(0, 20)).toBe(404);
      expect(answer.text).toMatch(/No target named (&quot;|\\?")/);
      // The page or error names the target quoted and cut: at most the quoted cut more than for "nowhere".
      expect(answer.text.length).toBeLessThan(plain.text.length + 200);
      expect(answer.text).not.toContain('\u0000');
    }
    await goodDeliveryIsAccepted();
  });
});
