// Webhook intake in workerd: signatures, the events GitHub really sends, dedup and the ledger.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { sign } from '@octokit/webhooks-methods';
import { app } from '../../worker/app.ts';
import type { Env } from '../../worker/env.ts';
import { fakeSha, pingPayload, pushPayload, repositoryDispatchPayload, workflowRunPayload } from '../support/github-payloads.ts';
import { webhookRequestInit } from '../support/webhook-delivery.ts';
import { apiCall, BASE, call, deliver, ledgerEntry } from './helpers.ts';

describe('webhook signatures', () => {
  it('signs like GitHub documents (published test vector)', async () => {
    // From GitHub's "Validating webhook deliveries" page.
    expect(await sign("It's a Secret to Everybody", 'Hello, World!')).toBe(
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
  });

  it('accepts a delivery signed with the current secret', async () => {
    const { status, body } = await deliver({ event: 'ping', payload: pingPayload() });
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
  });

  it('accepts a delivery signed with the previous secret during rotation', async () => {
    const { status } = await deliver({ event: 'ping', payload: pingPayload(), secret: 'test-webhook-secret-old' });
    expect(status).toBe(200);
  });

  it('refuses a wrong signature with 401 and records it in the ledger', async () => {
    const deliveryId = crypto.randomUUID();
    const { status, body } = await deliver({ event: 'push', payload: pushPayload(), secret: 'not-the-secret', deliveryId });
    expect(status).toBe(401);
    expect(body.error.message).toMatch(/does not match/);
    const entry = await ledgerEntry(deliveryId);
    expect(entry).toMatchObject({ verified: false, verdict: 'rejected', status: 401, event: 'push' });
    const { body: history } = await apiCall('/deployments/home/history', 'viewer');
    expect(history.deployments.filter((d: any) => d.deliveryId === deliveryId)).toHaveLength(0);
  });

  it('refuses a missing signature with 401', async () => {
    const { status, body } = await deliver({ event: 'push', payload: pushPayload(), secret: null });
    expect(status).toBe(401);
    expect(body.error.message).toMatch(/missing X-Hub-Signature-256/);
  });

  it.each([['sha256=nothex'], ['sha1=0123'], ['sha256='], ['garbage'], [`sha256=${'zz'.repeat(32)}`]])(
    'answers a malformed signature header %s with 401, not a crash',
    async (signature) => {
      const { status, body } = await deliver({ event: 'push', payload: pushPayload(), signature });
      expect(status).toBe(401);
      expect(body.error.message).toMatch(/malformed/);
    },
  );

  /** A body that never ends, counting how many 1 MB chunks the edge has pulled from it. */
  function endlessBody(): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
    const chunk = new Uint8Array(1024 * 1024).fill(32);
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(chunk);
      },
    });
    return { stream, pulled: () => pulled };
  }

  it('refuses a body that declares more than 25 MB with 413 before reading a byte of it', async () => {
    const body = endlessBody();
    const ctx = createExecutionContext();
    const response = await app.fetch(
      new Request(`${BASE}/webhooks/github`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': 'push', 'Content-Length': String(26 * 1024 * 1024) },
        body: body.stream,
      }),
      env as unknown as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe('payload is larger than 26214400 bytes');
    // The stream may have been asked to fill its queue once; the edge read nothing beyond that.
    expect(body.pulled()).toBeLessThanOrEqual(1);
  });

  it('stops reading a body sent without Content-Length as soon as it passes 25 MB, and answers 413', async () => {
    const body = endlessBody();
    const ctx = createExecutionContext();
    const response = await app.fetch(
      new Request(`${BASE}/webhooks/github`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': 'push' }, body: body.stream }),
      env as unknown as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(413);
    // 26 chunks pass 25 MB; one more may sit in the stream's queue. The body itself never ends.
    expect(body.pulled()).toBeGreaterThanOrEqual(26);
    expect(body.pulled()).toBeLessThanOrEqual(27);
  });

  it('verifies and routes a body sent in many small chunks without Content-Length, as if sent whole', async () => {
    const text = JSON.stringify(pushPayload({ after: fakeSha('chunked-push'), message: 'x'.repeat(200_000) }));
    const bytes = new TextEncoder().encode(text);
    const init = await webhookRequestInit({ event: 'push', payload: null, rawBody: text });
    let offset = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.byteLength) return controller.close();
        controller.enqueue(bytes.slice(offset, offset + 1000));
        offset += 1000;
      },
    });
    const response = await call('/webhooks/github', { ...init, body: stream });
    expect(response.status).toBe(202);
    expect(((await response.json()) as { status: string }).status).toBe('enqueued');
  });

  it('answers a signed form-encoded delivery with 400 naming the content type to choose', async () => {
    const { status, body } = await deliver({ event: 'push', payload: pushPayload(), contentType: 'application/x-www-form-urlencoded', rawBody: 'payload=%7B%7D' });
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/application\/json/);
  });

  it('answers signed non-JSON with 400', async () => {
    const { status, body } = await deliver({ event: 'push', payload: null, rawBody: '{"ref": "refs/heads/main",' });
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/not valid JSON/);
  });
});

describe('push events', () => {
  it('queues one deployment for a signed push to the deployed branch, visible in the API and the ledger', async () => {
    const sha = fakeSha('porch-light');
    const deliveryId = crypto.randomUUID();
    const { status, body } = await deliver({ event: 'push', payload: pushPayload({ after: sha, message: 'Porch light at sunset' }), deliveryId });
    expect(status).toBe(202);
    expect(body.status).toBe('enqueued');
    const [{ target, deploymentId }] = body.deployments;
    expect(target).toBe('home');

    const { body: status2 } = await apiCall('/deployments/home/status', 'viewer');
    expect(status2.queued.map((d: any) => d.id)).toContain(deploymentId);
    const queued = status2.queued.find((d: any) => d.id === deploymentId);
    expect(queued).toMatchObject({ sha, status: 'queued', trigger: 'push', actor: 'ada', message: 'Porch light at sunset', author: 'Ada Homeowner' });

    const entry = await ledgerEntry(deliveryId);
    expect(entry).toMatchObject({ verified: true, verdict: 'enqueued', event: 'push', repo: 'octo-home/ha-config', ref: 'refs/heads/main', sha });
    expect(entry.deployments).toEqual([{ target: 'home', deploymentId, created: true }]);
  });

  it('queues a push whose head_commit is null (branch moved without new commits)', async () => {
    const sha = fakeSha('no-head-commit');
    const { status, body } = await deliver({ event: 'push', payload: pushPayload({ after: sha, headCommit: false, created: true }) });
    expect(status).toBe(202);
    const { body: logs } = await apiCall(`/deployments/home/logs?deploymentId=${body.deployments[0].deploymentId}`, 'viewer');
    expect(logs.deployment.sha).toBe(sha);
  });

  it('queues a forced push like any other: the relay checks the commit is on the branch', async () => {
    const { status, body } = await deliver({ event: 'push', payload: pushPayload({ after: fakeSha('forced'), forced: true }) });
    expect(status).toBe(202);
    expect(body.status).toBe('enqueued');
  });

  it('records a branch deletion as ignored with the reason', async () => {
    const deliveryId = crypto.randomUUID();
    const { status, body } = await deliver({ event: 'push', payload: pushPayload({ deleted: true }), deliveryId });
    expect(status).toBe(202);
    expect(body).toMatchObject({ status: 'ignored' });
    expect(body.reason).toMatch(/deleted/);
    expect(await ledgerEntry(deliveryId)).toMatchObject({ verdict: 'ignored', reason: expect.stringMatching(/deleted/) });
  });

  it('records a tag push as ignored', async () => {
    const { body } = await deliver({ event: 'push', payload: pushPayload({ ref: 'refs/tags/v1.0' }) });
    expect(body.status).toBe('ignored');
    expect(body.reason).toMatch(/tag push \(v1\.0\)/);
  });

  it('records a push to another branch as ignored, naming the deployed branch', async () => {
    const { body } = await deliver({ event: 'push', payload: pushPayload({ ref: 'refs/heads/experiment' }) });
    expect(body.status).toBe('ignored');
    expect(body.reason).toMatch(/push to experiment, but home deploys main/);
  });

  it('records a push to an unknown repository as ignored', async () => {
    const { body } = await deliver({ event: 'push', payload: pushPayload({ repo: 'someone/else' }) });
    expect(body.status).toBe('ignored');
    expect(body.reason).toMatch(/no target deploys repository someone\/else/);
  });

  it('acknowledges a redelivery without queueing twice', async () => {
    const deliveryId = crypto.randomUUID();
    const payload = pushPayload({ after: fakeSha('redelivered') });
    const first = await deliver({ event: 'push', payload, deliveryId });
    const second = await deliver({ event: 'push', payload, deliveryId });
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(second.body.status).toBe('duplicate');
    expect(second.body.deployments).toEqual(first.body.deployments.map((d: any) => ({ target: d.target, deploymentId: d.deploymentId })));
    const { body } = await apiCall('/deployments/home/history?limit=200', 'viewer');
    expect(body.deployments.filter((d: any) => d.deliveryId === deliveryId)).toHaveLength(1);
  });

  it('answers a payload that is not a push with 400 naming the field', async () => {
    const { status, body } = await deliver({ event: 'push', payload: { ref: 'refs/heads/main' } });
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/after/);
  });
});

describe('workflow_run events', () => {
  it('deploys a CI-gated target when its workflow succeeded for a push to the branch', async () => {
    const sha = fakeSha('ci-green');
    const { status, body } = await deliver({ event: 'workflow_run', payload: workflowRunPayload({ headSha: sha }) });
    expect(status).toBe(202);
    expect(body.deployments).toEqual([{ target: 'gated', deploymentId: expect.any(String) }]);
  });

  it('records a failed workflow and queues nothing', async () => {
    const deliveryId = crypto.randomUUID();
    const { body } = await deliver({ event: 'workflow_run', payload: workflowRunPayload({ conclusion: 'failure' }), deliveryId });
    expect(body.status).toBe('ignored');
    expect(body.reason).toMatch(/concluded failure/);
    expect((await ledgerEntry(deliveryId)).verdict).toBe('ignored');
  });

  it('a failed run blocks nothing: the next successful run deploys', async () => {
    await deliver({ event: 'workflow_run', payload: workflowRunPayload({ conclusion: 'failure', headSha: fakeSha('red') }) });
    const { body } = await deliver({ event: 'workflow_run', payload: workflowRunPayload({ headSha: fakeSha('green-after-red') }) });
    expect(body.status).toBe('enqueued');
  });

  it('ignores a run that is not completed, a run of another workflow, and a pull request from a fork', async () => {
    expect((await deliver({ event: 'workflow_run', payload: workflowRunPayload({ action: 'in_progress' }) })).body.reason).toMatch(/not completed/);
    expect((await deliver({ event: 'workflow_run', payload: workflowRunPayload({ name: 'Lint' }) })).body.reason).toMatch(/not the one/);
    const fork = await deliver({ event: 'workflow_run', payload: workflowRunPayload({ event: 'pull_request', headRepo: 'mallory/ha-config' }) });
    expect(fork.body.status).toBe('ignored');
    expect(fork.body.reason).toMatch(/pull_request/);
  });

  it('a push to a CI-gated target waits for the workflow, and says so', async () => {
    const { body } = await deliver({ event: 'push', payload: pushPayload({ repo: 'octo-home/gated-config', after: fakeSha('gated-push') }) });
    expect(body.status).toBe('ignored');
    expect(body.reason).toMatch(/deploys after workflow "Config check" succeeds/);
    const { body: status } = await apiCall('/deployments/gated/status', 'viewer');
    expect(status.branchHead.sha).toBe(fakeSha('gated-push'));
  });
});

describe('other events', () => {
  it('deploys on a repository_dispatch of the type the target names', async () => {
    const sha = fakeSha('dispatch');
    const { status, body } = await deliver({ event: 'repository_dispatch', payload: repositoryDispatchPayload('deploy-home', { sha }) });
    expect(status).toBe(202);
    expect(body.deployments[0].target).toBe('dispatched');
  });

  it('ignores a repository_dispatch of another type', async () => {
    const { body } = await deliver({ event: 'repository_dispatch', payload: repositoryDispatchPayload('something-else', {}) });
    expect(body.status).toBe('ignored');
  });

  it('answers an event it does not handle with 202 and records it as ignored', async () => {
    const deliveryId = crypto.randomUUID();
    const { status, body } = await deliver({ event: 'issues', payload: { action: 'opened' }, deliveryId });
    expect(status).toBe(202);
    expect(body.reason).toMatch(/"issues" does not deploy anything/);
    expect((await ledgerEntry(deliveryId)).verdict).toBe('ignored');
  });
});

describe('the delivery ledger over time', () => {
  it('finds a repository\'s deliveries however the name is cased, as GitHub treats it', async () => {
    const sha = fakeSha('ledger-case');
    await deliver({ event: 'push', payload: pushPayload({ repo: 'Octo-Home/HA-Config', ref: 'refs/heads/no-target-here', after: sha }), deliveryId: 'ledger-case' });
    await ledgerEntry('ledger-case');
    const { body } = await apiCall('/deliveries?repo=octo-home/ha-config&limit=200', 'viewer');
    expect(body.deliveries.map((d: { deliveryId: string }) => d.deliveryId)).toContain('ledger-case');
  });

  it('forgets deliveries older than 90 days when a new one arrives, and keeps younger ones', async () => {
    const day = 24 * 3600 * 1000;
    const insert = env.LEDGER.prepare(
      `INSERT INTO deliveries (delivery_id, received_at, event, action, repo, ref, sha, verified, verdict, reason, status, deployments, source)
       VALUES (?, ?, 'ping', NULL, NULL, NULL, NULL, 1, 'ok', 'pong', 200, '[]', NULL)`,
    );
    await insert.bind('ledger-91-days-old', Date.now() - 91 * day).run();
    await insert.bind('ledger-89-days-old', Date.now() - 89 * day).run();
    const { status } = await deliver({ event: 'ping', payload: pingPayload(), deliveryId: 'ledger-today' });
    expect(status).toBe(200);
    await ledgerEntry('ledger-today');
    expect((await apiCall('/deliveries?deliveryId=ledger-91-days-old', 'viewer')).body.deliveries).toEqual([]);
    expect((await apiCall('/deliveries?deliveryId=ledger-89-days-old', 'viewer')).body.deliveries).toHaveLength(1);
  });
});
