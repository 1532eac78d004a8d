// A deployment as an OpenTelemetry trace, end to end: the edge under wrangler dev, a real relay
// deploying to a Home Assistant stand-in over real git, and an OTLP collector stand-in on 127.0.0.1
// that validates what it receives against the OTLP/HTTP JSON shape. One trace per deployment; the
// edge's spans chain delivery → queue → dispatch; every relay step is a span under the dispatch span
// whose traceparent its job carried; a collector that is down gets the trace once it is back.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, createHouse, startTestEdge, TEST_REPO, TEST_SECRETS, waitForDeployment, type ApiClient, type House, type TestEdge } from '../support/house.ts';
import { startOtlpCollector, type CollectedSpan, type OtlpCollectorStandIn } from '../support/otlp-collector-standin.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { sendPush } from '../support/push.ts';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';

const FINAL = ['succeeded', 'failed', 'rolled_back'];

let collector: OtlpCollectorStandIn;
let edge: TestEdge;
let house: House;
let relay: RelayProcess;
let api: ApiClient;

beforeAll(async () => {
  collector = await startOtlpCollector(await freePort());
  edge = await startTestEdge(await mkdtemp(join(tmpdir(), 'lanyard-traces-')), {
    TARGETS: JSON.stringify([{ name: 'home', repo: TEST_REPO, branch: 'main', relayTokenSecret: 'RELAY_TOKEN_HOME' }]),
    OTLP_ENDPOINT: collector.url,
    OTLP_HEADERS: 'Authorization=Bearer%20tempo-token,X-Scope-OrgID=home',
    OUTBOX_RETRY_BASE_MS: '300',
  });
  house = await createHouse({ edgeUrl: edge.url });
  relay = startRelayProcess(house.relayConfigPath);
  await relay.waitForLog(/edge ready/);
  api = apiClient(edge.url, TEST_SECRETS.operatorToken);
});

afterAll(async () => {
  await relay?.kill('SIGTERM');
  await edge?.stop();
  await house?.close();
  await collector?.stop();
});

async function deploy(files: Record<string, string>, message: string) {
  const sha = await house.commit(files, message);
  const id = await sendPush(edge.url, sha, message);
  const { deployment } = await waitForDeployment(api, id, FINAL);
  return { sha, id, deployment };
}

function traceOf(id: string): Promise<CollectedSpan[]> {
  return waitFor(`the trace of ${id} at the collector`, async () => {
    const spans = collector.traceOf(id);
    return spans.length ? spans : null;
  }, 30_000, 100);
}

const nanos = (s: CollectedSpan, end = false) => BigInt(end ? s.endTimeUnixNano : s.startTimeUnixNano);

function one(spans: CollectedSpan[], name: string): CollectedSpan {
  const found = spans.filter((s) => s.name === name);
  expect(found.map((s) => s.name)).toEqual([name]);
  return found[0]!;
}

describe('traces: each deployment is one trace at the OTLP collector', () => {
  it('a pushed deploy arrives as one trace: delivery → queue → dispatch at the edge, every relay step under the dispatch span', async () => {
    const automations = `${await readFile(join(house.work, 'automations.yaml'), 'utf8')}- id: porch_light\n  alias: Porch light at dusk\n  trigger: []\n  action: []\n`;
    const { sha, id, deployment } = await deploy({ 'automations.yaml': automations }, 'Porch light at dusk');
    expect(deployment.status).toBe('succeeded');

    const spans = await traceOf(id);
    // One trace id for everything the deployment did, exported once.
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    expect(collector.requests.filter((r) => r.body && JSON.stringify(r.body).includes(id))).toHaveLength(1);
    expect(collector.requests.every((r) => r.status === 200)).toBe(true);
    // The headers OTLP_HEADERS names, percent-decoded, as OTEL_EXPORTER_OTLP_HEADERS would be.
    expect(collector.requests[0]!.headers).toMatchObject({ authorization: 'Bearer tempo-token', 'x-scope-orgid': 'home', 'content-type': 'application/json' });

    const edgeSpans = spans.filter((s) => s.service === 'lanyard-edge');
    const relaySpans = spans.filter((s) => s.service === 'lanyard-relay');
    const root = one(edgeSpans, 'deploy home');
    const delivery = one(edgeSpans, 'delivery');
    const queue = one(edgeSpans, 'queue');
    const dispatch = one(edgeSpans, 'dispatch');
    expect(root.parentSpanId).toBeUndefined();
    expect(delivery.parentSpanId).toBe(root.spanId);
    expect(queue.parentSpanId).toBe(delivery.spanId);
    expect(dispatch.parentSpanId).toBe(queue.spanId);
    expect(root.attrs).toMatchObject({
      'lanyard.target': 'home',
      'lanyard.deployment.id': id,
      'lanyard.deployment.status': 'succeeded',
      'lanyard.trigger': 'push',
      'lanyard.commit.sha': sha,
      'lanyard.commit.subject': 'Porch light at dusk',
    });
    expect(delivery.attrs['lanyard.delivery.id']).toEqual(expect.any(String));
    expect(dispatch.attrs).toMatchObject({ 'lanyard.attempt': '1', 'lanyard.files_changed': '1', 'lanyard.activation': expect.stringMatching(/^(reload|restart|none)$/) });

    // The relay's steps: each under the dispatch span, in the order they ran, with their facts.
    expect(relaySpans.map((s) => s.name)).toEqual(expect.arrayContaining(['fetch', 'plan', 'backup', 'apply', 'check', 'activate', 'verify']));
    for (const step of relaySpans) {
      expect(step.parentSpanId).toBe(dispatch.spanId);
      expect(step.attrs).toMatchObject({ 'lanyard.step': step.name, 'lanyard.step.status': expect.stringMatching(/^(succeeded|skipped)$/), 'lanyard.step.message': expect.any(String) });
      expect(nanos(step)).toBeGreaterThanOrEqual(nanos(dispatch));
      expect(nanos(step, true)).toBeLessThanOrEqual(nanos(dispatch, true));
    }
    const apply = relaySpans.find((s) => s.name === 'apply')!;
    expect(apply.attrs).toMatchObject({ 'lanyard.files_changed': '1', 'lanyard.step.duration_ms': expect.stringMatching(/^\d+$/) });
    expect(relaySpans.find((s) => s.name === 'activate')!.attrs['lanyard.activation']).toBe(dispatch.attrs['lanyard.activation']);
    const starts = relaySpans.map((s) => nanos(s));
    expect([...starts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(starts);

    // Stages follow one another, inside the root span.
    expect(nanos(root)).toBe(nanos(delivery));
    expect(nanos(delivery, true)).toBe(nanos(queue));
    expect(nanos(queue, true)).toBe(nanos(dispatch));
    expect(nanos(dispatch, true)).toBe(nanos(root, true));
  });

  it('a collector that is down gets the trace once it is back: retried from the outbox, the deploy never waits', async () => {
    await collector.stop();
    const before = collector.requests.length;
    const configuration = await readFile(join(house.work, 'configuration.yaml'), 'utf8');
    const { id, deployment } = await deploy({ 'configuration.yaml': `${configuration}\n# evening scenes\n` }, 'Evening scenes');
    // The deploy finished while nothing listened for its trace.
    expect(deployment.status).toBe('succeeded');
    const problem = await waitFor('the failed export to show in the status', async () => {
      const status = await api.get('/deployments/home/status');
      return status.outward?.problems?.find((p: { channel: string; deploymentId: string }) => p.channel === 'otlp' && p.deploymentId === id);
    }, 30_000, 100);
    expect(problem).toMatchObject({ state: 'pending', lastError: expect.stringMatching(/could not connect/) });
    expect(collector.requests.length).toBe(before);

    await collector.start();
    const spans = await traceOf(id);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    expect(spans.filter((s) => s.service === 'lanyard-relay').length).toBeGreaterThan(3);
    await waitFor('the outbox to drain', async () => (await api.get('/deployments/home/status')).outward?.pending === 0, 30_000, 200);
  });
});
