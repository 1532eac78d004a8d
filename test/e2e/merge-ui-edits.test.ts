// Merging UI edits, end to end over a real sshd and real git: Home Assistant's UI (the stand-in's
// automation editor) changes one automation, a push changes another, and the deploy merges the two
// instead of stopping on drift; a conflicting edit stops with both versions shown and nothing
// written; a merge Home Assistant's check refuses is rolled back with the UI's edit intact.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { snapshotTree, TEST_SECRETS, waitForDeployment, type ApiClient, type House, type TestEdge } from '../support/house.ts';
import { sendPush } from '../support/push.ts';
import type { RelayProcess } from '../support/relay-process.ts';
import type { Sshd } from '../support/sshd.ts';
import { startSshHouse, stopSshHouse } from '../support/ssh-house.ts';
import { saveAutomationInTheUi } from '../support/home-assistant-ui-editor.ts';

let sshd: Sshd;
let edge: TestEdge;
let house: House;
let relay: RelayProcess;
let api: ApiClient;

const notLanyard = (path: string) => path === '.lanyard' || path.startsWith('.lanyard/');
const finalStates = ['succeeded', 'failed', 'rolled_back'];
type Step = { step: string; status: string; message?: string };

const PORCH = `- id: porch_light_at_sunset
  alias: Porch light at sunset
  trigger:
    - platform: sun
      event: sunset
  action:
    - service: light.turn_on
      target:
        entity_id: light.porch
`;
const garage = (alias: string, extra = '') => `- id: garage_closed_at_night
  alias: ${alias}
  trigger:
    - platform: time
      at: "23:00:00"
  action:
    - service: cover.close_cover
      target:
        entity_id: cover.garage
${extra}`;

async function deploy(files: Record<string, string | null>, message: string) {
  const sha = await house.commit(files, message);
  const id = await sendPush(edge.url, sha, message);
  const { deployment, steps } = await waitForDeployment(api, id, finalStates, 90_000);
  return { sha, deployment, steps: steps as Step[] };
}

/** Saves an automation through Home Assistant's config API, as its UI does. */
async function saveInTheUi(id: string, config: Record<string, unknown>): Promise<void> {
  const response = await saveAutomationInTheUi({ url: house.ha.url, token: TEST_SECRETS.haToken }, id, config);
  expect(response.status, await response.text()).toBe(200);
}

async function aliasesOnTheHost(): Promise<Record<string, string>> {
  const list = parse(await readFile(join(house.configRoot, 'automations.yaml'), 'utf8')) as Array<{ id: string; alias: string }>;
  return Object.fromEntries(list.map((a) => [a.id, a.alias]));
}

const porchFromTheUi = (alias: string) => ({ alias, triggers: [{ trigger: 'sun', event: 'sunset' }], actions: [{ action: 'light.turn_on', target: { entity_id: 'light.porch' } }], mode: 'single' });

beforeAll(async () => {
  ({ sshd, edge, house, relay, api } = await startSshHouse());
  const first = await deploy({ 'automations.yaml': `${PORCH}${garage('Close the garage at night')}` }, 'Close the garage at night');
  expect(first.deployment.status, JSON.stringify(first.steps)).toBe('succeeded');
});

afterAll(() => stopSshHouse({ relay, edge, house, sshd }));

describe('merging UI edits into a deploy', () => {
  it('a UI edit to one automation and a push changing another deploy together, checked by Home Assistant', async () => {
    await saveInTheUi('porch_light_at_sunset', porchFromTheUi('Porch light at dusk'));
    const { deployment, steps } = await deploy({ 'automations.yaml': `${PORCH}${garage('Close the garage at ten')}` }, 'Close the garage earlier');
    expect(deployment.status, JSON.stringify(steps)).toBe('succeeded');
    expect(deployment.summary.merged).toEqual(['automations.yaml']);
    expect(deployment.summary.drift).toEqual([]);
    expect(deployment.summary.filesChanged).toEqual(['automations.yaml']);
    expect(await aliasesOnTheHost()).toEqual({ porch_light_at_sunset: 'Porch light at dusk', garage_closed_at_night: 'Close the garage at ten' });
    expect(steps.find((s) => s.step === 'plan' && s.status === 'succeeded')?.message).toMatch(/merged with the host's edits: automations\.yaml/);
    expect(steps.some((s) => s.step === 'check' && s.status === 'succeeded')).toBe(true);
    // Written as Home Assistant's UI writes it: list items flush with their key.
    expect(await readFile(join(house.configRoot, 'automations.yaml'), 'utf8')).toContain('  triggers:\n  - trigger: sun\n');
  });

  it('a merge Home Assistant refuses is rolled back, the UI edit still on the host byte for byte', async () => {
    await saveInTheUi('porch_light_at_sunset', porchFromTheUi('Porch light at dusk, dimmed'));
    const before = await snapshotTree(house.configRoot, notLanyard);
    const { deployment, steps } = await deploy(
      { 'automations.yaml': `${PORCH}${garage('Close the garage at ten', '  variables:\n    code: !secret garage_code\n')}` },
      'Garage code from secrets (not on the host yet)',
    );
    expect(deployment.status, JSON.stringify(steps)).toBe('rolled_back');
    expect(deployment.reason).toMatch(/invalid.*garage_code/s);
    expect(steps.some((s) => s.step === 'check' && s.status === 'failed')).toBe(true);
    expect(await snapshotTree(house.configRoot, notLanyard)).toEqual(before);
    expect((await aliasesOnTheHost()).porch_light_at_sunset).toBe('Porch light at dusk, dimmed');
  });

  it('the same automation changed in the UI and in git stops on drift, writes nothing, and shows both versions', async () => {
    await saveInTheUi('garage_closed_at_night', { alias: 'Garage from the UI', triggers: [{ trigger: 'time', at: '22:00:00' }], actions: [{ action: 'cover.close_cover', target: { entity_id: 'cover.garage' } }] });
    const before = await snapshotTree(house.configRoot, notLanyard);
    const { deployment, steps } = await deploy({ 'automations.yaml': `${PORCH}${garage('Garage from git')}` }, 'Rename the garage automation');
    expect(deployment.status, JSON.stringify(steps)).toBe('failed');
    expect(deployment.summary.drift).toEqual(['automations.yaml']);
    expect(deployment.summary.merged).toBeUndefined();
    const refusal = steps.find((s) => s.step === 'drift' && s.status === 'failed')?.message ?? '';
    expect(refusal).toMatch(/changed on the host since the last deploy/);
    expect(refusal).toMatch(/automations\.yaml, item garage_closed_at_night: changed on the host and in the commit, differently/);
    expect(refusal).toContain('alias: Garage from the UI');
    expect(refusal).toContain('alias: Garage from git');
    expect(deployment.reason).toContain('alias: Garage from git');
    expect(await snapshotTree(house.configRoot, notLanyard)).toEqual(before);
  });
});
