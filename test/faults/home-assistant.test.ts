// Home Assistant faults (issue 9): check_config that hangs, answers 500 or answers something that
// is not Home Assistant; a restart request that never returns; an HA that comes back but stays
// STARTING; a required entity that turns unavailable. A real relay over a real sshd; HA is the
// stand-in, behind a front that can fake what the stand-in cannot. Each case: the final state and
// a reason that names the fault, the host byte-identical to before, the house's own files
// untouched, HA's notification and sensor, and the same relay deploying the commit afterwards.
//
// Already covered elsewhere (not repeated here): check_config says invalid (test/e2e/deploy-local,
// pipeline-ssh "reboots in the middle", status-page); HA never comes back after a restart
// (pipeline-ssh "does not come back"); the client's own timeouts, 500s, STARTING and unavailable
// entities against the stand-in (test/relay/home-assistant.test.ts).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FINAL_STATES, lastLanyardNotice, startFaultHouse, type FaultHouse } from '../support/fault-house.ts';
import { waitForDeployment, type TreeEntry } from '../support/house.ts';

const REQUIRED = 'sensor.outdoor_temperature';
let h: FaultHouse;
let n = 0;

beforeAll(async () => {
  h = await startFaultHouse({
    haThroughFront: true,
    relayConfig: (config) => {
      Object.assign(config.homeAssistant, { verifyTimeoutSeconds: 5, checkConfigTimeoutSeconds: 3, requiredEntities: [REQUIRED] });
    },
  });
  h.house.ha.setEntity(REQUIRED, '7.5', { friendly_name: 'Outdoor temperature', unit_of_measurement: '°C' });
}, 180_000);

afterAll(async () => {
  await h?.stop();
});

/** HA behaves again (also after a case that failed halfway) and is up before the next case. */
async function liftEveryFault(): Promise<void> {
  h.house.ha.reset();
  h.haFront!.stuckStarting = false;
  h.haFront!.notHomeAssistant = null;
  h.house.ha.setEntity(REQUIRED, '7.5', { friendly_name: 'Outdoor temperature' });
  // reset() answers requests it held, a restart among them: wait until that one is over.
  for (let i = 0; i < 200 && h.house.ha.status !== 'up'; i += 1) await new Promise((r) => setTimeout(r, 50));
}

afterEach(liftEveryFault);

/** A change that only needs `scene.reload`, or one that needs a restart. */
async function change(kind: 'reload' | 'restart'): Promise<Record<string, string>> {
  n += 1;
  if (kind === 'reload') return { 'scenes.yaml': `- id: scene_${n}\n  name: Scene ${n}\n  entities: {}\n` };
  // The recorder is read only at start-up: no reload covers it.
  const config = (await readFile(join(h.house.work, 'configuration.yaml'), 'utf8')).replace(/\nrecorder:\n {2}purge_keep_days: \d+\n$/, '');
  return { 'configuration.yaml': `${config}\nrecorder:\n  purge_keep_days: ${n}\n` };
}

interface Outcome {
  sha: string;
  deployment: Record<string, any>;
  steps: Array<{ step: string; status: string; message: string }>;
  before: Record<string, TreeEntry>;
}

/**
 * Pushes `files` with the fault on and waits for the end. `onceWritten` runs while HA is checking
 * the new files (the check is held until it returns): a fault that comes with the new config.
 */
async function deployDuringFault(files: Record<string, string>, message: string, onceWritten?: (id: string) => void): Promise<Outcome> {
  const before = await h.snapshot();
  if (onceWritten) h.house.ha.hang(/check_config/);
  const { sha, id } = await h.push(files, message);
  if (onceWritten) {
    await h.relay.waitForLog(new RegExp(`${id} check: started`), 60_000);
    onceWritten(id);
    h.house.ha.reset();
  }
  const { deployment, steps } = await waitForDeployment(h.api, id, FINAL_STATES, 90_000);
  return { sha, deployment, steps, before };
}

/** What every case checks once the deploy ended, then the same relay deploys the commit once HA behaves. */
async function expectHouseAsBeforeThenDeployed(outcome: Outcome, status: 'rolled_back' | 'failed', files: Record<string, string>): Promise<void> {
  const { sha, deployment, steps, before } = outcome;
  expect(deployment.status, JSON.stringify(steps)).toBe(status);
  expect(await h.snapshot()).toEqual(before);
  expect(await h.hostOnlyFilesUntouched()).toBe(true);
  const notice = lastLanyardNotice(h.house.ha);
  expect(notice?.title).toBe(`Lanyard: Deploy of ${sha.slice(0, 7)} ${status === 'rolled_back' ? 'rolled back' : 'failed'}`);
  expect(notice?.message).toContain(deployment.reason.slice(0, 60));
  // The sensor's last state, published after the rollback once HA answered again.
  expect(h.house.ha.stateHistory('sensor.lanyard_home').at(-1)).toMatchObject({ state: status, attributes: { deployment_id: deployment.id, reason: deployment.reason } });

  await liftEveryFault();
  const again = await h.api.post('/deployments/home/deploy', { sha });
  expect(again.status).toBe(202);
  const redeployed = await waitForDeployment(h.api, again.body.deployment.id, FINAL_STATES, 90_000);
  expect(redeployed.deployment.status, JSON.stringify(redeployed.steps)).toBe('succeeded');
  for (const [path, content] of Object.entries(files)) expect(await readFile(join(h.house.configRoot, path), 'utf8')).toBe(content);
  // The success took the failure's notice down.
  expect(h.house.ha.callsTo('persistent_notification', 'dismiss').at(-1)?.data).toMatchObject({ notification_id: 'lanyard_home' });
}

describe('Home Assistant faults', () => {
  it('check_config hangs: rolled back once checkConfigTimeoutSeconds is up, naming the request and the setting', async () => {
    h.house.ha.hang(/check_config/);
    const files = await change('reload');
    const outcome = await deployDuringFault(files, 'A scene while the check hangs');
    expect(outcome.deployment.reason).toMatch(/Home Assistant did not answer POST http:\/\/127\.0\.0\.1:\d+\/api\/config\/core\/check_config within 3000 ms/);
    expect(outcome.deployment.reason).toMatch(/raise homeAssistant\.checkConfigTimeoutSeconds/);
    expect(outcome.steps.filter((s) => s.status === 'failed').map((s) => s.step)).toEqual(['check']);
    await expectHouseAsBeforeThenDeployed(outcome, 'rolled_back', files);
  });

  it('check_config answers 500: rolled back, quoting the answer', async () => {
    h.house.ha.answer500(/check_config/);
    const files = await change('reload');
    const outcome = await deployDuringFault(files, 'A scene while the check crashes');
    expect(outcome.deployment.reason).toMatch(/Home Assistant answered POST \S+check_config with HTTP 500: 500 Internal Server Error Server got itself in trouble/);
    await expectHouseAsBeforeThenDeployed(outcome, 'rolled_back', files);
  });

  it('check_config answers with something that is not Home Assistant (an HTML page, 200): rolled back, saying so', async () => {
    h.haFront!.notHomeAssistant = /check_config/;
    const files = await change('reload');
    const outcome = await deployDuringFault(files, 'A scene behind a captive portal');
    expect(outcome.deployment.reason).toMatch(/answered POST \S+check_config with something that is not what its API returns \(not JSON: <!doctype html>/);
    await expectHouseAsBeforeThenDeployed(outcome, 'rolled_back', files);
  });

  it('the restart request never returns and HA never restarts: not taken for a success, rolled back', async () => {
    h.house.ha.hang(/\/api\/services\/homeassistant\/restart/);
    const files = await change('restart');
    const outcome = await deployDuringFault(files, 'Recorder change while restarts hang');
    expect(outcome.deployment.reason).toMatch(/Home Assistant did not restart: the restart request got no answer \(no answer within 5000 ms .*\) and Home Assistant never went down/);
    expect(h.house.ha.restarts).toBe(0);
    await expectHouseAsBeforeThenDeployed(outcome, 'rolled_back', files);
  }, 120_000);

  it('HA comes back but stays STARTING: the files are restored, and the reason says HA is still STARTING, not "restore by hand"', async () => {
    const files = await change('restart');
    // Stuck from the moment the new config is live, and it stays stuck through the rollback.
    const outcome = await deployDuringFault(files, 'An integration that never finishes starting', () => (h.haFront!.stuckStarting = true));
    expect(outcome.deployment.reason).toMatch(/^Home Assistant did not come back healthy: Home Assistant at \S+ was still STARTING, not RUNNING, after \d+\.\d s/);
    expect(outcome.deployment.reason).toMatch(/the files were restored from backup lanyard-\S+, but afterwards Home Assistant did not come back healthy: .*still STARTING/);
    expect(outcome.deployment.reason).not.toMatch(/Restore by hand/);
    await expectHouseAsBeforeThenDeployed(outcome, 'failed', files);
  }, 120_000);

  it('a required entity turns unavailable with the new config: rolled back, naming the entity', async () => {
    const files = await change('reload');
    const outcome = await deployDuringFault(files, 'A scene that breaks the weather integration', (id) => {
      h.house.ha.setUnavailable(REQUIRED);
      // The old config brings it back: once the rollback restored it, the integration recovers.
      void h.relay.waitForLog(new RegExp(`${id} rollback: started`), 60_000).then(() => h.house.ha.setEntity(REQUIRED, '7.5'), () => undefined);
    });
    expect(outcome.deployment.reason).toMatch(new RegExp(`is running, but after \\d+\\.\\d s ${REQUIRED.replace('.', '\\.')} is unavailable`));
    await expectHouseAsBeforeThenDeployed(outcome, 'rolled_back', files);
  }, 120_000);
});
