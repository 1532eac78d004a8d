// The drift watch end to end: a real relay process over a real sshd, its config repository in real
// git, talking to a stand-in edge that keeps every frame the relay sends. What the edge and the
// homeowner see: a report on connect, a fresh one after every job (never a look during one), an
// edit made on the host reported within one interval of the watch, the HA sensor's drift
// attributes; and the bytes of secrets.yaml and .storage/ never leaving the host, nor even read.
import { mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../shared/ids.ts';
import { startFakeEdge, type FakeEdge, type RelayFrame } from '../support/fake-edge.ts';
import { createHouse, git, sshTransportOf, TEST_SECRETS, type House } from '../support/house.ts';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';

const MARKER = 'LANYARD-E2E-SECRET-MARKER-41d0c9';
const OLD_ATIME = new Date('2001-01-01T00:00:00Z');

let edge: FakeEdge;
let sshd: Sshd;
let house: House;
let relay: RelayProcess;

type DriftFrame = RelayFrame & { deployedSha: string | null; total: number; at: number; files: Array<{ path: string; change: string; since: number; diff: string | null; diffNote: string | null }> };
const isDrift = (m: RelayFrame): m is DriftFrame => m.type === 'drift';

async function writeOnHost(path: string, content: string): Promise<void> {
  await mkdir(dirname(join(house.configRoot, path)), { recursive: true });
  await writeFile(join(house.configRoot, path), content);
}

beforeAll(async () => {
  edge = await startFakeEdge({ token: TEST_SECRETS.relayToken, target: 'home' });
  sshd = await startSshd();
  house = await createHouse({ edgeUrl: edge.url, transport: sshTransportOf(sshd), restartDelayMs: 50, relayOverrides: { watch: { intervalSeconds: 1 } } });
  relay = startRelayProcess(house.relayConfigPath);
  await edge.connected();
});

afterAll(async () => {
  await relay?.kill('SIGTERM');
  await edge?.close();
  await house?.close();
  await sshd?.stop();
});

describe('the drift watch, end to end', () => {
  it('reports on connect: before any deploy nothing can drift', async () => {
    const first = await edge.waitFor(isDrift);
    expect(first).toMatchObject({ type: 'drift', deployedSha: null, files: [], total: 0 });
    expect(edge.received.findIndex((m) => m.type === 'hello')).toBeLessThan(edge.received.indexOf(first));
  });

  it('never looks while a job runs, and looks right after it: the edge hears the deployed commit has no drift', async () => {
    const sha = await git(house.work, 'rev-parse', 'HEAD');
    const jobId = newId('dep');
    const from = edge.received.length;
    edge.send(JSON.stringify({ type: 'job', jobId, attempt: 1, kind: 'deploy', target: 'home', sha, ref: 'refs/heads/main', backupId: null, driftPolicy: 'stop', requestedBy: 'drift watch test' }));
    const result = await edge.waitFor((m) => m.type === 'result' && m.jobId === jobId, from, 120_000);
    expect(result.status, JSON.stringify(result)).toBe('succeeded');
    const fresh = await edge.waitFor((m) => isDrift(m) && m.deployedSha === sha, from);
    expect(fresh).toMatchObject({ total: 0, files: [] });
    // Between the job's first and last step, the relay sent no drift report: no look ran.
    const frames = edge.received.slice(from);
    const steps = frames.map((m, i) => (m.type === 'progress' && m.jobId === jobId ? i : -1)).filter((i) => i >= 0);
    expect(steps.length).toBeGreaterThan(3);
    expect(frames.slice(steps[0], steps.at(-1)! + 1).filter((m) => m.type === 'drift')).toEqual([]);
  });

  it('an edit in Home Assistant is reported within one interval, with its diff; secrets and .storage never leave the host, nor are read', async () => {
    const protectedEdits: Record<string, string> = {
      'secrets.yaml': `weather_api_key: "${MARKER}"\n`,
      'packages/secrets.yaml': `pool_pin: "${MARKER}"\n`,
      '.storage/core.config_entries': `{"data": "${MARKER}"}\n`,
    };
    for (const [path, content] of Object.entries(protectedEdits)) {
      await writeOnHost(path, content);
      // Older than the change: the kernel (relatime) moves it on the very next read.
      await utimes(join(house.configRoot, path), OLD_ATIME, new Date());
    }
    const from = edge.received.length;
    const automations = await readFile(join(house.configRoot, 'automations.yaml'), 'utf8');
    // As Home Assistant's automation editor does: the whole file written again, one automation added.
    await writeOnHost('automations.yaml', `${automations}- id: '1764000000001'\n  alias: Porch light at dusk\n  triggers: []\n  actions: []\n`);
    await writeOnHost('packages/pool.yaml', 'input_boolean:\n  pool_pump: {}\n');

    const seen = (await edge.waitFor((m) => isDrift(m) && m.total === 2, from)) as DriftFrame;
    expect(seen.files.map((f) => [f.path, f.change])).toEqual([
      ['automations.yaml', 'modified'],
      ['packages/pool.yaml', 'added'],
    ]);
    expect(seen.files[0]!.diff).toContain("+- id: '1764000000001'\n+  alias: Porch light at dusk\n");
    // The watch keeps looking (a report each look), and `since` stays when it was first seen.
    const later = (await edge.waitFor((m) => isDrift(m) && m.at > seen.at + 1500 && m.total === 2, from)) as DriftFrame;
    expect(later.files.map((f) => f.since)).toEqual(seen.files.map((f) => f.since));

    // The sensor in Home Assistant carries the drift.
    await edge.waitUntil('the sensor to show the drift', () => house.ha.entity('sensor.lanyard_home')?.attributes.drift_count === 2);
    const sensor = house.ha.entity('sensor.lanyard_home')!;
    expect(sensor.state).toBe('succeeded');
    expect(sensor.attributes).toMatchObject({ drift_count: 2, drift_paths: ['automations.yaml', 'packages/pool.yaml'], drift_since: new Date(seen.files[0]!.since).toISOString() });

    // By the bytes: no frame the relay sent the edge holds the marker or names a protected file...
    const everything = JSON.stringify(edge.received);
    expect(everything).not.toContain(MARKER);
    for (const report of edge.received.filter(isDrift)) expect(report.files.filter((f) => /secrets|\.storage/.test(f.path))).toEqual([]);
    // ...and none of them was read on the host: their access time is where the test put it.
    for (const path of Object.keys(protectedEdits)) expect((await stat(join(house.configRoot, path))).atime, path).toEqual(OLD_ATIME);
  });

  it('an edit put back as deployed is no drift any more', async () => {
    const from = edge.received.length;
    const sha = await git(house.work, 'rev-parse', 'HEAD');
    await writeOnHost('automations.yaml', await readFile(join(house.work, 'automations.yaml'), 'utf8'));
    const back = (await edge.waitFor((m) => isDrift(m) && m.total === 1, from)) as DriftFrame;
    expect(back).toMatchObject({ deployedSha: sha, files: [{ path: 'packages/pool.yaml', change: 'added' }] });
  });
});
