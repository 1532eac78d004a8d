// GET /metrics in a real workerd: who may scrape (a viewer's API token or METRICS_TOKEN, nobody
// anonymous), and what a scrape shows after a deploy a relay ran through the real protocol. The
// exposition is read with a line reader here; test/e2e/metrics-scrape.test.ts parses it with
// Prometheus' own Python parser.
import { describe, expect, it } from 'vitest';
import { fakeSha, pushPayload } from '../support/github-payloads.ts';
import { apiCall, call, deliver, TOKENS } from './helpers.ts';
import { connectRelay, drainJobs, type TestRelay } from './relay-socket.ts';

const SCRAPE_TOKEN = 'scrape-token-lanyard-test';

function scrape(token: string | null, accept?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (accept) headers.Accept = accept;
  return call('/metrics', { headers });
}

/** The body as UTF-8 (workerd warns when .text() meets a content type it does not know as text). */
async function bodyText(response: Response): Promise<string> {
  return new TextDecoder().decode(await response.arrayBuffer());
}

/** `name{labels}` → value, for every sample line (labels as written, in order). */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

async function scrapeSamples(): Promise<Map<string, number>> {
  const response = await scrape(TOKENS.viewer);
  expect(response.status).toBe(200);
  return samples(await bodyText(response));
}

/** Polls until `done`; the bound is for a hung test on a busy machine, not a speed goal. */
async function waitFor(done: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i += 1) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`never: ${what}`);
}

async function waitForStatus(target: string, id: string, status: string): Promise<void> {
  await waitFor(async () => (await apiCall(`/deployments/${target}/logs?deploymentId=${id}`, 'viewer')).body.deployment?.status === status, `${id} ${status}`);
}

/** A deploy the relay runs: fetch takes 1.5 s and apply 40 ms by its own timings, then the result. */
async function runDeploy(relay: TestRelay, seed: string, result: 'succeeded' | 'rolled_back'): Promise<string> {
  const { body } = await deliver({ event: 'push', payload: pushPayload({ after: fakeSha(seed), message: `commit ${seed}` }) });
  const id = body.deployments[0].deploymentId as string;
  await relay.next('job', 10_000);
  relay.send({ type: 'ack', jobId: id, attempt: 1 });
  const at = Date.now();
  relay.send({ type: 'progress', jobId: id, step: 'fetch', status: 'started', message: 'fetching', at });
  relay.send({ type: 'progress', jobId: id, step: 'fetch', status: 'succeeded', message: 'fetched', at, durationMs: 1500 });
  relay.send({ type: 'progress', jobId: id, step: 'apply', status: 'succeeded', message: 'applied', at, durationMs: 40 });
  // Frames of one socket are not always handled in the order sent: the result waits until the steps are in.
  await waitFor(async () => (await apiCall(`/deployments/home/logs?deploymentId=${id}`, 'viewer')).body.steps?.length === 3, `${id}'s steps`);
  relay.send({ type: 'result', jobId: id, status: result, reason: result === 'succeeded' ? null : 'Home Assistant refused it', summary: { filesChanged: ['automations.yaml'], activation: 'reload' } as never });
  await waitForStatus('home', id, result);
  return id;
}

describe('who may scrape /metrics', () => {
  it('nobody anonymous, even with a public target: 401 with how to authenticate', async () => {
    const response = await scrape(null);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/METRICS_TOKEN/);
  });

  it('a wrong token is refused and logged as the API logs refusals', async () => {
    const response = await scrape('not-a-token-anyone-knows');
    expect(response.status).toBe(401);
    for (let i = 0; i < 250; i += 1) {
      const { body } = await apiCall('/access-log?limit=20', 'admin');
      if (body.entries.some((e: any) => e.path === '/metrics' && e.action === 'api.unauthorized')) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('the refused scrape is not in the access log');
  });

  it('a viewer\'s API token scrapes, in OpenMetrics, ending with # EOF', async () => {
    const response = await scrape(TOKENS.viewer);
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const text = await bodyText(response);
    expect(text.endsWith('# EOF\n')).toBe(true);
    expect(text).toContain('# TYPE lanyard_deployments counter');
  });

  it('METRICS_TOKEN (stored as its SHA-256) scrapes, and opens nothing else', async () => {
    expect((await scrape(SCRAPE_TOKEN)).status).toBe(200);
    const api = await call('/api/targets', { headers: { Authorization: `Bearer ${SCRAPE_TOKEN}` } });
    expect(api.status).toBe(401);
  });

  it('a client that accepts only text/plain gets the 0.0.4 format', async () => {
    const response = await scrape(SCRAPE_TOKEN, 'text/plain;version=0.0.4;q=1,*/*;q=0.1');
    expect(response.headers.get('Content-Type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await bodyText(response);
    expect(text).toContain('# TYPE lanyard_deployments_total counter');
    expect(text).not.toContain('# EOF');
    expect(text).not.toContain('# UNIT');
    // Prometheus' own Accept asks for OpenMetrics first.
    const prometheus = await scrape(SCRAPE_TOKEN, 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1');
    expect(prometheus.headers.get('Content-Type')).toMatch(/^application\/openmetrics-text/);
  });
});

describe('what a scrape shows', () => {
  it('counts a deploy and an automatic rollback, the step timings, the relay and the queue', async () => {
    const relay = await connectRelay('home');
    await drainJobs(relay);
    const before = await scrapeSamples();
    const at = (m: Map<string, number>, key: string) => m.get(key) ?? 0;

    await runDeploy(relay, 'metrics-ok', 'succeeded');
    await runDeploy(relay, 'metrics-bad', 'rolled_back');
    const after = await scrapeSamples();
    const delta = (key: string) => at(after, key) - at(before, key);

    expect(delta('lanyard_deployments_total{target="home",outcome="succeeded"}')).toBe(1);
    expect(delta('lanyard_deployments_total{target="home",outcome="rolled_back"}')).toBe(1);
    expect(delta('lanyard_rollbacks_total{target="home",kind="automatic"}')).toBe(1);
    expect(after.get('lanyard_relay_connected{target="home"}')).toBe(1);
    expect(after.get('lanyard_queue_depth{target="home"}')).toBe(0);
    // Two fetches of 1.5 s: in the 2.5 s bucket and above, not in the 1 s one; two applies of 40 ms.
    expect(delta('lanyard_step_duration_seconds_bucket{target="home",step="fetch",le="1.0"}')).toBe(0);
    expect(delta('lanyard_step_duration_seconds_bucket{target="home",step="fetch",le="2.5"}')).toBe(2);
    expect(delta('lanyard_step_duration_seconds_bucket{target="home",step="fetch",le="+Inf"}')).toBe(2);
    expect(delta('lanyard_step_duration_seconds_count{target="home",step="fetch"}')).toBe(2);
    expect(delta('lanyard_step_duration_seconds_sum{target="home",step="fetch"}')).toBeCloseTo(3, 6);
    expect(delta('lanyard_step_duration_seconds_bucket{target="home",step="apply",le="0.1"}')).toBe(2);
    // Scraping again counts nothing twice: each step event is counted once.
    const again = await scrapeSamples();
    expect(again.get('lanyard_step_duration_seconds_count{target="home",step="fetch"}')).toBe(after.get('lanyard_step_duration_seconds_count{target="home",step="fetch"}'));
    expect(again.get('lanyard_deployments_total{target="home",outcome="succeeded"}')).toBe(after.get('lanyard_deployments_total{target="home",outcome="succeeded"}'));
    // The success finished before the rollback: its time is the last success's.
    const lastSuccess = after.get('lanyard_last_success_timestamp_seconds{target="home"}')!;
    expect(lastSuccess * 1000).toBeLessThanOrEqual(Date.now());
    expect(lastSuccess * 1000).toBeGreaterThan(Date.now() - 60_000);

    relay.close();
    for (let i = 0; i < 250; i += 1) {
      if ((await scrapeSamples()).get('lanyard_relay_connected{target="home"}') === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await scrapeSamples()).get('lanyard_relay_connected{target="home"}')).toBe(0);
    // Queued while no relay is there.
    await deliver({ event: 'push', payload: pushPayload({ after: fakeSha('metrics-queued'), message: 'waits' }) });
    expect((await scrapeSamples()).get('lanyard_queue_depth{target="home"}')).toBe(1);
  });

  it('counts webhook deliveries of the last day by verdict, every verdict named', async () => {
    const before = await scrapeSamples();
    const bad = await call('/webhooks/github', { method: 'POST', headers: { 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': 'metrics-unsigned' }, body: '{}' });
    expect(bad.status).toBe(401);
    // The ledger is written after the answer (waitUntil).
    const rejected = (m: Map<string, number>) => m.get('lanyard_webhook_deliveries_last_day{verdict="rejected"}') ?? 0;
    let after = await scrapeSamples();
    for (let i = 0; i < 250 && rejected(after) === rejected(before); i += 1) {
      await new Promise((r) => setTimeout(r, 20));
      after = await scrapeSamples();
    }
    expect(rejected(after) - rejected(before)).toBe(1);
    for (const verdict of ['enqueued', 'duplicate', 'ignored', 'refused', 'rejected', 'invalid', 'ok']) {
      expect(after.has(`lanyard_webhook_deliveries_last_day{verdict="${verdict}"}`)).toBe(true);
    }
  });
});
