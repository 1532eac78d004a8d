// The stand-in's automation editor behaves as Home Assistant's UI does to automations.yaml: the
// whole file rewritten in HA's format, ids given to automations without one, a reload after.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startHomeAssistantStandIn, type HomeAssistantStandIn } from './home-assistant-standin.ts';

const TOKEN = 'ui-editor-token';
let dir: string;
let ha: HomeAssistantStandIn;

const HAND_WRITTEN = `# Kept in git by hand
- id: porch
  alias: "Porch light"   # at sunset
  trigger: [{platform: sun, event: sunset}]
  action:
    - service: light.turn_on
      data: {entity_id: light.porch, brightness: null}
- alias: Pasted without an id
  trigger: []
  action: []
`;

function call(method: string, id: string, body?: unknown, token = TOKEN) {
  return fetch(`${ha.url}/api/config/automation/config/${id}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lanyard-ui-editor-'));
  await writeFile(join(dir, 'configuration.yaml'), 'automation: !include automations.yaml\n');
  await writeFile(join(dir, 'automations.yaml'), HAND_WRITTEN);
  ha = await startHomeAssistantStandIn({ configDir: dir, token: TOKEN });
});

afterAll(async () => {
  await ha?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the stand-in's automation editor", () => {
  it('refuses a request without the bearer token', async () => {
    expect((await call('GET', 'porch', undefined, 'wrong')).status).toBe(401);
  });

  it('saves an edit by rewriting the whole file the way Home Assistant writes it, then reloads', async () => {
    const response = await call('POST', 'porch', { mode: 'single', alias: 'Porch light at dusk', triggers: [{ trigger: 'sun', event: 'sunset' }], actions: [{ action: 'light.turn_on', target: { entity_id: 'light.porch' } }], description: '' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ result: 'ok' });
    const text = await readFile(join(dir, 'automations.yaml'), 'utf8');
    expect(text).not.toContain('#');
    expect(text.startsWith("- id: porch\n  alias: Porch light at dusk\n  description: ''\n  triggers:\n  - trigger: sun\n")).toBe(true);
    const [, pasted] = parse(text) as Array<Record<string, unknown>>;
    expect(pasted).toMatchObject({ alias: 'Pasted without an id', id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(ha.callsTo('automation', 'reload').map((c) => c.data)).toEqual([{ id: 'porch' }]);
  });

  it('appends a new automation, answers GET with it, and deletes it', async () => {
    expect((await call('POST', '1700000000123', { alias: 'Café lights', triggers: [], actions: [], mode: 'single' })).status).toBe(200);
    expect(await (await call('GET', '1700000000123')).json()).toEqual({ id: '1700000000123', alias: 'Café lights', triggers: [], actions: [], mode: 'single' });
    expect(await readFile(join(dir, 'automations.yaml'), 'utf8')).toContain("- id: '1700000000123'\n  alias: Café lights\n");
    expect((await call('DELETE', '1700000000123')).status).toBe(200);
    expect((await call('GET', '1700000000123')).status).toBe(404);
    expect((await call('DELETE', '1700000000123')).status).toBe(404);
  });

  it('refuses an automation without triggers, writing nothing', async () => {
    const before = await readFile(join(dir, 'automations.yaml'), 'utf8');
    const response = await call('POST', 'broken', { alias: 'No triggers', actions: [] });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(/Message malformed: required key not provided @ data\['triggers'\]/);
    expect(await readFile(join(dir, 'automations.yaml'), 'utf8')).toBe(before);
  });
});
