// `relay doctor` against a good setup and broken ones: one line per check, the right verdict and
// the fix, and an exit code that says whether the relay is ready.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHouse, sshTransportOf, startTestEdge, type House, type TestEdge } from '../support/house.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';

const run = promisify(execFile);
let sshd: Sshd;
let edge: TestEdge;
let house: House;

beforeAll(async () => {
  sshd = await startSshd();
  edge = await startTestEdge(await mkdtemp(join(tmpdir(), 'lanyard-edge-')));
  house = await createHouse({ edgeUrl: edge.url, transport: sshTransportOf(sshd) });
});

afterAll(async () => {
  await edge?.stop();
  await house?.close();
  await sshd?.stop();
});

async function doctor(change: (config: Record<string, any>) => void = () => undefined): Promise<{ code: number; out: string }> {
  const config = parse(await readFile(house.relayConfigPath, 'utf8')) as Record<string, any>;
  change(config);
  const path = join(house.dir, `doctor-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(path, stringify(config));
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'relay/cli.ts', 'doctor', '--config', path], { cwd: join(import.meta.dirname, '../..') });
    return { code: 0, out: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, out: `${failed.stdout}${failed.stderr}` };
  }
}

const line = (out: string, check: string) => out.split('\n').find((l) => new RegExp(`^(ok  |FAIL)  ${check} `).test(l)) ?? '';

describe('relay doctor', () => {
  it('says ready, one ok line per check, for a good setup', async () => {
    const { code, out } = await doctor();
    expect(code, out).toBe(0);
    for (const check of ['config', 'edge', 'ssh', 'config folder', 'backup folder', 'disk', 'home assistant', 'git']) expect(line(out, check), out).toMatch(/^ok/);
    expect(line(out, 'ssh')).toMatch(/host key matches the pinned fingerprint/);
    expect(out).toMatch(/ready: the relay can deploy/);
  });

  it('says ready from the single-file build the systemd unit and the add-on run (npm run build:relay)', async () => {
    const root = join(import.meta.dirname, '../..');
    await run('npm', ['run', '--silent', 'build:relay'], { cwd: root });
    const { stdout } = await run(process.execPath, [join(root, 'dist/relay.mjs'), 'doctor', '--config', house.relayConfigPath], { cwd: house.dir });
    for (const check of ['config', 'edge', 'ssh', 'home assistant', 'git']) expect(line(stdout, check), stdout).toMatch(/^ok/);
    expect(stdout).toMatch(/ready: the relay can deploy/);
  });

  it('names a wrong host key and how to pin the right one', async () => {
    const { code, out } = await doctor((c) => (c.host.ssh.hostKeyFingerprint = `SHA256:${'Z'.repeat(43)}`));
    expect(code).toBe(1);
    expect(line(out, 'ssh')).toMatch(/^FAIL.*host key is SHA256:/);
    expect(out).toMatch(/fix: .*ssh-keyscan -p \d+ 127\.0\.0\.1 \| ssh-keygen -lf -/);
  });

  it('names a Home Assistant token that is refused and where to make a new one', async () => {
    const { code, out } = await doctor((c) => (c.homeAssistant.token = 'not-the-token'));
    expect(code).toBe(1);
    expect(line(out, 'home assistant')).toMatch(/^FAIL.*refused the token/);
    expect(out).toMatch(/fix: create a long-lived access token/);
  });

  it('names a backup folder the relay cannot write', async () => {
    const locked = join(tmpdir(), `lanyard-locked-${Date.now()}`);
    await mkdir(locked, { mode: 0o755 }); // owned by root: the ssh user cannot write there
    const { code, out } = await doctor((c) => (c.host.backupDir = locked));
    expect(code).toBe(1);
    expect(line(out, 'backup folder')).toMatch(new RegExp(`^FAIL.*${locked} is not writable`));
    expect(line(out, 'config folder')).toMatch(/^ok/);
  });

  it('names a relay token the edge refuses', async () => {
    const { code, out } = await doctor((c) => (c.edge.token = 'wrong-relay-token'));
    expect(code).toBe(1);
    expect(line(out, 'edge')).toMatch(/^FAIL.*refused the relay token/);
  });

  it('stops at an invalid config, naming the field', async () => {
    const { code, out } = await doctor((c) => delete c.git.remote);
    expect(code).toBe(1);
    expect(line(out, 'config')).toMatch(/^FAIL.*git\.remote/);
  });
});
