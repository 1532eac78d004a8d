// Drift on the edge, in workerd: the relay's drift watch reports what changed on the host since the
// last deploy; the hub keeps the latest report (status, GET …/drift, the status page's panel with
// diffs), notifies once per new drift (audited `drift.seen`), and, when a deploy stopped on drift,
// lets an operator take a way on for that deployment only: overwrite (after backup) or keep the
// host's versions, through the retry API or the page.
import { describe, expect, it } from 'vitest';
import type { DriftedFile, DriftReportMessage } from '../../shared/drift.ts';
import { driftNotices } from '../../worker/outward/drift-notice.ts';
import { fakeSha } from '../support/github-payloads.ts';
import { apiCall, call, TOKENS } from './helpers.ts';
import { connectRelay, drainJobs, type TestRelay } from './relay-socket.ts';
import { csrfIn, post, signIn } from './status-page.ts';

const TARGET = 'home';
const DEPLOYED = fakeSha('drift-deployed');
const AUTOMATIONS_DIFF = '--- a/automations.yaml\n+++ b/automations.yaml\n@@ -1,2 +1,4 @@\n - id: porch\n   alias: Porch light\n+- id: made_in_the_ui\n+  alias: <script>alert(1)</script> & more\n';

function drifted(path: string, change: DriftedFile['change'] = 'modified', diff: string | null = null): DriftedFile {
  return { path, change, since: 1_790_000_000_000, diff, diffNote: diff === null && change !== 'deleted' ? 'a binary file: no diff' : null };
}

let clock = 1_790_000_100_000;

/** Sends a drift report and waits until the edge shows it (reports carry the relay's time of looking). */
async function report(relay: TestRelay, files: DriftedFile[], total = files.length): Promise<number> {
  clock += 1000;
  const at = clock;
  const message: DriftReportMessage = { type: 'drift', at, deployedSha: DEPLOYED, files, total };
  relay.send(message);
  for (let i = 0; i < 100; i += 1) {
    const { body } = await apiCall(`/deployments/${TARGET}/drift`, 'viewer');
    if (body.drift?.at === at) return at;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the edge never showed the drift report of ${at}`);
}

async function driftSeen(): Promise<Record<string, any>[]> {
  return (await apiCall(`/deployments/${TARGET}/audit?action=drift.seen`, 'admin')).body.entries;
}

/** Deploys `seed`'s commit and lets the relay stop it on drift, as its `drift` step does. */
async function stoppedOnDrift(relay: TestRelay, seed: string): Promise<string> {
  const { body } = await apiCall(`/deployments/${TARGET}/deploy`, 'operator', { body: { sha: fakeSha(seed) } });
  const job = await relay.next('job');
  if (job.type !== 'job') throw new Error('expected a job');
  expect(job).toMatchObject({ jobId: body.deployment.id, driftPolicy: 'stop' });
  relay.send({ type: 'ack', jobId: job.jobId, attempt: job.attempt });
  const reason = 'DriftDetected: 1 file changed on the host since the last deploy: automations.yaml. Nothing was written.';
  relay.send({ type: 'progress', jobId: job.jobId, step: 'drift', status: 'started', message: 'drift started', at: Date.now() });
  relay.send({ type: 'progress', jobId: job.jobId, step: 'drift', status: 'failed', message: reason, at: Date.now() });
  // As the relay's pipeline does, the result comes once the step's end is in the log.
  for (let i = 0; i < 100; i += 1) {
    const { body: logs } = await apiCall(`/deployments/${TARGET}/logs?deploymentId=${job.jobId}`, 'viewer');
    if (logs.steps.some((s: { step: string; status: string }) => s.step === 'drift' && s.status === 'failed')) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  relay.send({ type: 'result', jobId: job.jobId, status: 'failed', reason, summary: { drift: ['automations.yaml'] } as never });
  await relay.next('recorded');
  return job.jobId;
}

describe('the drift report', () => {
  it('is kept as the relay sent it and shown in the status and at GET …/drift, to viewers only', async () => {
    const relay = await connectRelay(TARGET);
    await drainJobs(relay);
    const at = await report(relay, [drifted('automations.yaml', 'modified', AUTOMATIONS_DIFF), drifted('www/logo.png'), drifted('scripts.yaml', 'deleted')], 7);

    const { status, body } = await apiCall(`/deployments/${TARGET}/drift`, 'viewer');
    expect(status).toBe(200);
    expect(body.drift).toMatchObject({ at, deployedSha: DEPLOYED, total: 7, receivedAt: expect.any(Number) });
    expect(body.drift.files.map((f: DriftedFile) => [f.path, f.change])).toEqual([
      ['automations.yaml', 'modified'],
      ['www/logo.png', 'modified'],
      ['scripts.yaml', 'deleted'],
    ]);
    expect(body.drift.files[0].diff).toBe(AUTOMATIONS_DIFF);
    expect((await apiCall(`/deployments/${TARGET}/status`, 'viewer')).body.drift).toEqual(body.drift);
    expect((await apiCall(`/deployments/${TARGET}/drift`, null)).status).toBe(401);
    expect((await apiCall('/deployments/nowhere/drift', 'viewer')).status).toBe(404);

    // A report that cannot be true is answered with an error and kept nowhere.
    relay.send({ type: 'drift', at: clock + 500, deployedSha: null, files: [drifted('configuration.yaml')], total: 1 });
    const error = await relay.next('error');
    expect(error).toMatchObject({ code: 'invalid_message', message: expect.stringContaining('no deployed commit') });
    relay.send({ type: 'drift', at: clock + 600, deployedSha: DEPLOYED, files: [drifted('a.yaml'), drifted('b.yaml')], total: 1 });
    expect(await relay.next('error')).toMatchObject({ message: expect.stringContaining('counts 1 files in all but names 2') });
    expect((await apiCall(`/deployments/${TARGET}/drift`, 'viewer')).body.drift.at).toBe(at);
    relay.close();
  });

  it('is shown on the status page with each diff escaped and folded, and nothing the report does not carry', async () => {
    const relay = await connectRelay(TARGET);
    await drainJobs(relay);
    await report(relay, [drifted('automations.yaml', 'modified', AUTOMATIONS_DIFF), drifted('www/logo.png')]);
    const vera = await signIn(TOKENS.viewer);
    const page = await (await call(`/targets/${TARGET}`, { headers: { Cookie: vera.cookie } })).text();
    // At a glance: what the watch saw last, not what the last deploy's plan found.
    expect(page).toMatch(/data-fact="drift"><span class="badge drift" data-badge="drift">2 files changed on the host<\/span> <span class="message">automations.yaml, www\/logo.png<\/span>/);
    const panel = page.slice(page.indexOf('id="drift"'), page.indexOf('</section>', page.indexOf('id="drift"')));
    expect(panel).toContain('data-drift-path="automations.yaml"');
    expect(panel).toContain('edited on the host');
    expect(panel).toContain('<details data-diff="true" id="drift-diff-automations.yaml">');
    expect(panel).not.toMatch(/<details[^>]* open/);
    expect(panel).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; more');
    expect(panel).not.toContain('<script>alert(1)');
    // A binary file has no diff: its note says so, and no empty diff is shown.
    expect(panel).toContain('a binary file: no diff');
    expect(panel.match(/data-diff=/g)).toHaveLength(1);
    relay.close();
  });
});

describe('notifying drift', () => {
  it('notifies once per new drift: a repeated report does nothing, a new file does, and drift that cleared and came back is new again', async () => {
    const relay = await connectRelay(TARGET);
    await drainJobs(relay);
    await report(relay, []);
    const before = (await driftSeen()).length;

    await report(relay, [drifted('automations.yaml', 'modified', AUTOMATIONS_DIFF)]);
    let seen = await driftSeen();
    expect(seen).toHaveLength(before + 1);
    expect(seen[0]).toMatchObject({ actor: 'relay', detail: { deployedSha: DEPLOYED, total: 1, new: [{ path: 'automations.yaml', change: 'modified' }] } });

    // The watch looks again and sees the same: nobody hears of it twice.
    await report(relay, [drifted('automations.yaml', 'modified', AUTOMATIONS_DIFF)]);
    await report(relay, [drifted('automations.yaml', 'modified', `${AUTOMATIONS_DIFF}+  mode: single\n`)]);
    expect(await driftSeen()).toHaveLength(before + 1);

    // A second file: one notice, naming only the new one as new.
    await report(relay, [drifted('automations.yaml', 'modified'), drifted('scenes.yaml', 'added')]);
    seen = await driftSeen();
    expect(seen).toHaveLength(before + 2);
    expect(seen[0]!.detail.new).toEqual([{ path: 'scenes.yaml', change: 'added', since: expect.any(Number) }]);
    // A file dropping out is not news.
    await report(relay, [drifted('scenes.yaml', 'added')]);
    expect(await driftSeen()).toHaveLength(before + 2);

    // Cleared (the host matches again), then back: new again.
    await report(relay, []);
    await report(relay, [drifted('scenes.yaml', 'added')]);
    seen = await driftSeen();
    expect(seen).toHaveLength(before + 3);
    expect(seen[0]!.detail.new).toEqual([{ path: 'scenes.yaml', change: 'added', since: expect.any(Number) }]);
    await report(relay, []);
    relay.close();
  });

  it('goes out on each notification channel that is on, naming the files, with no diff', () => {
    const fresh = [drifted('scenes.yaml', 'added')];
    const reportView = { receivedAt: 1, at: 2, deployedSha: DEPLOYED, files: [drifted('automations.yaml', 'modified', AUTOMATIONS_DIFF), ...fresh], total: 2 };
    const settings = { slack: { url: 'http://127.0.0.1:9/slack' }, webhook: { url: 'http://127.0.0.1:9/hook', secret: 's' }, statusPageUrl: 'https://lanyard.example.org/targets/home' };
    const input = { target: 'home', repo: 'octo-home/ha-config', environment: 'production', settings, report: reportView, fresh, noticeId: 'drf_01m82e4vg06ns08fd0' };
    const messages = driftNotices(input);
    expect(messages.map((m) => [m.channel, m.what, m.deploymentId])).toEqual([
      ['slack', 'slack drift', 'drf_01m82e4vg06ns08fd0'],
      ['webhook', 'webhook drift.detected', 'drf_01m82e4vg06ns08fd0'],
    ]);
    const webhook = messages[1]!;
    if (webhook.kind !== 'webhook.event') throw new Error('expected the webhook event');
    expect(webhook.payload.event).toMatchObject({
      event: 'drift.detected',
      deliveryId: 'drf_01m82e4vg06ns08fd0',
      target: 'home',
      url: 'https://lanyard.example.org/targets/home',
      drift: { deployedSha: DEPLOYED, total: 2, files: [{ path: 'automations.yaml', new: false }, { path: 'scenes.yaml', change: 'added', new: true }] },
    });
    expect(JSON.stringify(messages)).not.toContain('made_in_the_ui');
    const slack = messages[0]!;
    if (slack.kind !== 'slack.message') throw new Error('expected the Slack message');
    expect(slack.payload.message.text).toBe('home: 2 files changed on the host since the last deploy: automations.yaml, scenes.yaml');
    // No channel on: nothing is queued (the audit entry is still written by the hub).
    expect(driftNotices({ ...input, settings: { slack: null, webhook: null, statusPageUrl: null } })).toEqual([]);
  });
});

describe('a way on from a deploy stopped on drift', () => {
  it('retries with overwrite or keep for that deployment only, audited, and leaves the target\'s policy as it was', async () => {
    const relay = await connectRelay(TARGET);
    await drainJobs(relay);
    const stopped = await stoppedOnDrift(relay, 'drift-stop-api');
    const status = (await apiCall(`/deployments/${TARGET}/status`, 'viewer')).body;
    expect(status.stoppedOnDrift).toBe(stopped);
    expect((await apiCall(`/deployments/${TARGET}/drift`, 'viewer')).body.stoppedOnDrift).toBe(stopped);

    // Refused: a way on that does not exist, a viewer. (The capture way on is test/worker/capture.test.ts's.)
    const odd = await apiCall(`/deployments/${TARGET}/retry`, 'operator', { body: { deploymentId: stopped, drift: 'yes' } });
    expect(odd.status).toBe(400);
    expect(odd.body.error.message).toContain('"capture", "overwrite" or "keep"');
    expect((await apiCall(`/deployments/${TARGET}/retry`, 'viewer', { body: { deploymentId: stopped, drift: 'keep' } })).status).toBe(403);

    const kept = await apiCall(`/deployments/${TARGET}/retry`, 'operator', { body: { deploymentId: stopped, drift: 'keep' } });
    expect(kept.status).toBe(202);
    expect(kept.body.deployment).toMatchObject({ sha: fakeSha('drift-stop-api'), trigger: 'retry', driftChoice: 'keep' });
    const job = await relay.next('job');
    expect(job).toMatchObject({ jobId: kept.body.deployment.id, driftPolicy: 'report-only' });
    const trail = (await apiCall(`/deployments/${TARGET}/audit?action=deploy.retried`, 'admin')).body.entries;
    expect(trail[0]).toMatchObject({ actor: 'otto', detail: { deploymentId: kept.body.deployment.id, retryOf: stopped, drift: 'keep' } });
    relay.send({ type: 'ack', jobId: kept.body.deployment.id, attempt: 1 });
    relay.send({ type: 'result', jobId: kept.body.deployment.id, status: 'succeeded', reason: null, summary: { drift: ['automations.yaml'] } as never });
    await relay.next('recorded');
    expect((await apiCall(`/deployments/${TARGET}/status`, 'viewer')).body.stoppedOnDrift).toBeNull();

    // The next deploy stops again under the target's own policy; overwrite this time.
    const again = await stoppedOnDrift(relay, 'drift-stop-api-2');
    const overwrite = await apiCall(`/deployments/${TARGET}/retry`, 'operator', { body: { deploymentId: again, drift: 'overwrite' } });
    expect(overwrite.status).toBe(202);
    const overwriteJob = await relay.next('job');
    expect(overwriteJob).toMatchObject({ jobId: overwrite.body.deployment.id, driftPolicy: 'overwrite' });
    const entries = (await apiCall(`/deployments/${TARGET}/audit?action=deploy.retried`, 'admin')).body.entries;
    expect(entries[0]).toMatchObject({ actor: 'otto', detail: { retryOf: again, drift: 'overwrite' } });
    relay.send({ type: 'ack', jobId: overwrite.body.deployment.id, attempt: 1 });
    relay.send({ type: 'result', jobId: overwrite.body.deployment.id, status: 'succeeded', reason: null, summary: {} as never });
    await relay.next('recorded');
    relay.close();
  });

  it('is refused, with the reason, for a deploy that did not stop on drift', async () => {
    const relay = await connectRelay(TARGET);
    await drainJobs(relay);
    const { body } = await apiCall(`/deployments/${TARGET}/deploy`, 'operator', { body: { sha: fakeSha('drift-not-drift') } });
    const job = await relay.next('job');
    if (job.type !== 'job') throw new Error('expected a job');
    relay.send({ type: 'ack', jobId: job.jobId, attempt: job.attempt });
    relay.send({ type: 'result', jobId: job.jobId, status: 'failed', reason: 'check: Home Assistant says the configuration is invalid', summary: {} as never });
    await relay.next('recorded');
    const refused = await apiCall(`/deployments/${TARGET}/retry`, 'operator', { body: { deploymentId: body.deployment.id, drift: 'overwrite' } });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'not_stopped_on_drift' });
    expect(refused.body.error.message).toContain('did not stop on drift (it ended failed: check: Home Assistant says');
    expect((await apiCall(`/deployments/${TARGET}/status`, 'viewer')).body.stoppedOnDrift).toBeNull();
    // A plain retry still works.
    expect((await apiCall(`/deployments/${TARGET}/retry`, 'operator', { body: { deploymentId: body.deployment.id } })).status).toBe(202);
    await drainJobs(relay);
    relay.close();
  });

  it('is offered on the status page to operators, named before it is done, and queues the job with the chosen policy', async () => {
    const relay = await connectRelay(TARGET);
    await drainJobs(relay);
    const stopped = await stoppedOnDrift(relay, 'drift-stop-page');
    const otto = await signIn(TOKENS.operator);
    const page = await (await call(`/targets/${TARGET}?deployment=${stopped}`, { headers: { Cookie: otto.cookie } })).text();
    const keepHref = `/targets/${TARGET}/retry?deploymentId=${stopped}&amp;drift=keep`;
    const overwriteHref = `/targets/${TARGET}/retry?deploymentId=${stopped}&amp;drift=overwrite`;
    // On the drift panel and on the deployment: two places, the same two links each.
    expect(page.split(`href="${keepHref}"`)).toHaveLength(3);
    expect(page.split(`href="${overwriteHref}"`)).toHaveLength(3);
    const vera = await signIn(TOKENS.viewer);
    const read = await (await call(`/targets/${TARGET}?deployment=${stopped}`, { headers: { Cookie: vera.cookie } })).text();
    expect(read).not.toContain('data-action="drift-keep"');
    expect(read).toContain('An operator can capture these edits into a pull request');

    const confirm = await (await call(`/targets/${TARGET}/retry?deploymentId=${stopped}&drift=overwrite`, { headers: { Cookie: otto.cookie } })).text();
    expect(confirm).toContain(`Deploy ${stopped} (${fakeSha('drift-stop-page').slice(0, 7)}) to ${TARGET} again, overwriting the files changed on the host`);
    expect(confirm).toContain('deploy.allowDriftOverwrite: true');
    expect(confirm).toContain('name="drift" value="overwrite"');
    // Capturing first has its own confirmation, which then retries keeping the host's files.
    const odd = await call(`/targets/${TARGET}/retry?deploymentId=${stopped}&drift=capture`, { headers: { Cookie: otto.cookie } });
    expect(odd.status).toBe(400);
    expect(page).toContain(`href="/targets/${TARGET}/capture?deploymentId=${stopped}"`);
    const captureFirst = await (await call(`/targets/${TARGET}/capture?deploymentId=${stopped}`, { headers: { Cookie: otto.cookie } })).text();
    expect(captureFirst).toContain(`Then deployment <code>${stopped}</code> runs again, keeping the host`);

    const keepConfirm = await (await call(`/targets/${TARGET}/retry?deploymentId=${stopped}&drift=keep`, { headers: { Cookie: otto.cookie } })).text();
    expect(keepConfirm).toContain('keeping the host&#39;s versions of the files changed there');
    const done = await post(`/targets/${TARGET}/retry`, otto, { deploymentId: stopped, drift: 'keep', csrf: csrfIn(keepConfirm) });
    expect(done.status).toBe(303);
    const job = await relay.next('job');
    expect(job).toMatchObject({ type: 'job', sha: fakeSha('drift-stop-page'), driftPolicy: 'report-only' });
    if (job.type !== 'job') throw new Error('expected a job');
    const shown = await (await call(`/targets/${TARGET}?deployment=${job.jobId}`, { headers: { Cookie: otto.cookie } })).text();
    expect(shown).toContain("keep the host&#39;s versions, for this deployment only");
    relay.send({ type: 'result', jobId: job.jobId, status: 'succeeded', reason: null, summary: {} as never });
    await relay.next('recorded');
    relay.close();
  });
});
