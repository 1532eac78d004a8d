// A Prometheus scrape of a real edge (wrangler dev) after a real deploy (a signed push, the relay
// process, the Home Assistant stand-in), parsed by Prometheus' own parsers: the numbers a user
// would graph or alert on are the ones the deploy made.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHouseWithRelay, waitForDeployment, type RunningHouse } from '../support/house.ts';
import { parseExposition, sampleValue, type ParsedFamily } from '../support/exposition-parser.ts';
import { sendPush } from '../support/push.ts';

const METRICS_TOKEN = 'e2e-metrics-scrape-token-7c41d2';
/** What Prometheus sends (scrape_protocols' default order). */
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

let running: RunningHouse;
let deployment: Record<string, any>;

async function scrape(accept: string, token = METRICS_TOKEN): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(`${running.edge.url}/metrics`, { headers: { Authorization: `Bearer ${token}`, Accept: accept } });
  return { status: response.status, type: response.headers.get('Content-Type'), text: await response.text() };
}

beforeAll(async () => {
  running = await startHouseWithRelay({}, { METRICS_TOKEN });
  const { house, edge, api } = running;
  const automations = `${await readFile(join(house.work, 'automations.yaml'), 'utf8')}- id: porch_light\n  alias: Porch light at sunset\n  trigger:\n    - platform: sun\n      event: sunset\n  action: []\n`;
  const sha = await house.commit({ 'automations.yaml': automations }, 'Porch light at sunset');
  const id = await sendPush(edge.url, sha, 'Porch light at sunset');
  ({ deployment } = await waitForDeployment(api, id, ['succeeded', 'failed', 'rolled_back']));
}, 180_000);

afterAll(async () => {
  await running?.stop();
});

describe('a Prometheus scrape after one deploy', () => {
  it('parses as OpenMetrics, with the deploy counted, its steps timed and the relay connected', async () => {
    expect(deployment.status).toBe('succeeded');
    const { status, type, text } = await scrape(PROMETHEUS_ACCEPT);
    expect(status).toBe(200);
    expect(type).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const families: ParsedFamily[] = await parseExposition(text, 'openmetrics');
    const value = (name: string, labels: Record<string, string>) => sampleValue(families, name, labels);

    expect(value('lanyard_deployments_total', { target: 'home', outcome: 'succeeded' })).toBe(1);
    expect(value('lanyard_deployments_total', { target: 'home', outcome: 'failed' })).toBe(0);
    expect(value('lanyard_rollbacks_total', { target: 'home', kind: 'automatic' })).toBe(0);
    expect(value('lanyard_relay_connected', { target: 'home' })).toBe(1);
    expect(value('lanyard_queue_depth', { target: 'home' })).toBe(0);
    expect(value('lanyard_webhook_deliveries_last_day', { verdict: 'enqueued' })).toBe(1);
    expect(value('lanyard_last_success_timestamp_seconds', { target: 'home' })).toBe(deployment.finishedAt / 1000);
    expect(value('lanyard_deployment_duration_seconds_count', { target: 'home' })).toBe(1);
    // Every step the relay ran once, each with its timing, in the histogram.
    for (const step of ['fetch', 'plan', 'backup', 'apply', 'check', 'activate', 'verify']) {
      expect(value('lanyard_step_duration_seconds_count', { target: 'home', step }), step).toBe(1);
      expect(value('lanyard_step_duration_seconds_bucket', { target: 'home', step, le: '+Inf' }), step).toBe(1);
    }
    // No MTTR before a recovery: the family is there, without a sample.
    expect(families.find((f) => f.name === 'lanyard_mean_time_to_recovery_seconds')?.samples).toEqual([]);
  });

  it('answers the 0.0.4 format to a client that accepts only text/plain, and Prometheus\' older parser reads it', async () => {
    const { type, text } = await scrape('text/plain');
    expect(type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = await parseExposition(text, 'prometheus');
    expect(sampleValue(families, 'lanyard_deployments_total', { target: 'home', outcome: 'succeeded' })).toBe(1);
  });

  it('refuses a scrape without the token', async () => {
    expect((await scrape(PROMETHEUS_ACCEPT, 'e2e-not-the-token-0000')).status).toBe(401);
    expect((await fetch(`${running.edge.url}/metrics`)).status).toBe(401);
  });
});
