// Issue 15, wall 5, through the real pipeline: Home Assistant runs as its own user (`lanyard-ha`,
// as Core in a venv runs as `homeassistant`), its config folder set up as docs/production.md says
// (its group, setgid, group-writable), and the relay deploys as the dedicated SSH user of the test
// sshd, a member of that group. After a deploy, Home Assistant saves an automation as its own user
// (in place, as an editor does, and through the folder, as its UI does) and the files keep the
// owner, group and mode they had; a new file gets the folder's group, a script keeps its +x. With
// the local transport the relay runs as root here, and gives every file back exactly.
import { execFile } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../shared/ids.ts';
import type { JobMessage, ProgressMessage } from '../../shared/protocol.ts';
import { loadRelayConfig } from '../../relay/config.ts';
import { Journal } from '../../relay/journal.ts';
import { createPipeline, type Pipeline } from '../../relay/pipeline/deploy-pipeline.ts';
import { StepRunner, type JobOutcome } from '../../relay/step-runner.ts';
import { createHouse, sshTransportOf, type House, type HouseOptions } from '../support/house.ts';
import { ensureHomeAssistantUser, saveFromTheUi, saveInPlace, type HomeAssistantUser } from '../support/home-assistant-user.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
type SshTransport = Extract<NonNullable<HouseOptions['transport']>, { kind: 'ssh' }>;

describe.skipIf(!isRoot).each(['ssh', 'local'] as const)('Home Assistant runs as its own user; the relay deploys over %s', (transport) => {
  let sshd: Sshd;
  let ha: HomeAssistantUser;
  let house: House;
  let pipeline: Pipeline;
  let scratch: string;
  let relayUid: number;

  const onHost = (path: string) => join(house.configRoot, path);
  const attributes = async (path: string) => {
    const info = await lstat(onHost(path));
    return { uid: info.uid, gid: info.gid, mode: info.mode & 0o7777, ino: info.ino };
  };

  async function deploy(message: string, files: Record<string, string>, executables: string[] = []): Promise<{ outcome: JobOutcome; said: (step: string) => string }> {
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(house.work, path)), { recursive: true });
      await writeFile(join(house.work, path), text);
      await chmod(join(house.work, path), executables.includes(path) ? 0o755 : 0o644);
    }
    const sha = await house.commit({}, message);
    const job: JobMessage = { type: 'job', jobId: newId('dep'), attempt: 1, kind: 'deploy', target: 'home', sha, ref: 'refs/heads/main', backupId: null, driftPolicy: 'stop', requestedBy: 'test' };
    const journal = new Journal(join(house.stateDir, `journal-${job.jobId}`));
    await journal.open();
    const messages: ProgressMessage[] = [];
    const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const outcome = await pipeline.execute(job, new StepRunner(job, journal, (m) => void messages.push(m), logger, {}, Date.now()));
    return { outcome, said: (step) => messages.filter((m) => m.step === step && m.status !== 'started').map((m) => m.message).join('\n') };
  }

  beforeAll(async () => {
    sshd = await startSshd();
    ha = await ensureHomeAssistantUser(sshd.username);
    relayUid = transport === 'ssh' ? Number((await run('id', ['-u', sshd.username])).stdout.trim()) : 0;
    // Home Assistant's folder, outside the SSH user's home: reached through its group only.
    scratch = await mkdtemp(join(tmpdir(), 'lanyard-ha-owned-'));
    await chmod(scratch, 0o755);
    const configRoot = join(scratch, 'config');
    house = await createHouse({ edgeUrl: 'http://127.0.0.1:9', transport: transport === 'ssh' ? { ...(sshTransportOf(sshd) as SshTransport), configRoot } : { kind: 'local' } });
    // The local house lives in a folder of its own (0700): Home Assistant's user must reach its config.
    await chmod(dirname(house.configRoot), 0o755);
    pipeline = await createPipeline(await loadRelayConfig(house.relayConfigPath), { info: () => undefined, warn: () => undefined, error: () => undefined });
    // A script the repository and the host already share, deployed once as the relay's user.
    const first = await deploy('Notify script', { 'scripts/notify.sh': '#!/bin/sh\necho first\n' }, ['scripts/notify.sh']);
    expect(first.outcome.status, first.outcome.reason ?? '').toBe('succeeded');
    // Then the production guide's setup: everything Home Assistant's, its group, setgid folders,
    // group-writable files (Home Assistant's service with UMask=0002).
    const root = house.configRoot;
    // Lanyard's own .lanyard/ (the manifest, 0600) stays the relay user's.
    await run('sh', ['-c', `cd "$1" && find . -path ./.lanyard -prune -o -exec chown ${ha.name}:${ha.name} {} + && find . -path ./.lanyard -prune -o -type d -exec chmod 2775 {} + && find . -path ./.lanyard -prune -o -type f -exec chmod g+w {} +`, 'sh', root]);
  }, 60_000);

  afterAll(async () => {
    await pipeline?.close();
    await house?.close();
    await sshd?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('after a deploy, Home Assistant saves an automation as its own user, and the files keep owner, group and mode', async () => {
    const automations = { before: await attributes('automations.yaml'), text: `${await readFile(onHost('automations.yaml'), 'utf8')}- id: porch_at_dusk\n  alias: Porch light at dusk\n  trigger: []\n  action: []\n` };
    const script = await attributes('scripts/notify.sh');
    expect(automations.before).toMatchObject({ uid: ha.uid, gid: ha.gid, mode: 0o664 });
    expect(script).toMatchObject({ uid: ha.uid, gid: ha.gid, mode: 0o775 });

    const { outcome, said } = await deploy(
      'Porch light, a notify script that says more, a blueprint',
      {
        'automations.yaml': automations.text,
        'scripts/notify.sh': '#!/bin/sh\necho second\n',
        'packages/porch.yaml': 'light:\n  - platform: group\n    name: Porch\n    entities: []\n',
        'blueprints/automation/ada/dusk.yaml': 'blueprint:\n  name: Dusk\n  domain: automation\n',
      },
      ['scripts/notify.sh'],
    );
    expect(outcome.status, outcome.reason ?? '').toBe('succeeded');
    expect(said('apply')).not.toContain('now the relay user');
    expect(await readFile(onHost('automations.yaml'), 'utf8')).toBe(automations.text);
    expect(await attributes('automations.yaml')).toMatchObject({ uid: ha.uid, gid: ha.gid, mode: 0o664 });
    expect(await attributes('scripts/notify.sh')).toMatchObject({ uid: ha.uid, gid: ha.gid, mode: 0o775 });
    expect(await readFile(onHost('scripts/notify.sh'), 'utf8')).toBe('#!/bin/sh\necho second\n');
    // New files and the folders made for them: the folder's group, writable by it.
    for (const path of ['packages/porch.yaml', 'blueprints/automation/ada/dusk.yaml']) expect(await attributes(path), path).toMatchObject({ uid: transport === 'ssh' ? relayUid : ha.uid, gid: ha.gid, mode: 0o664 });
    for (const folder of ['blueprints', 'blueprints/automation', 'blueprints/automation/ada']) expect(await attributes(folder), folder).toMatchObject({ gid: ha.gid, mode: 0o2775 });

    // Home Assistant, as its own user: the automation editor and an editor that saves in place.
    const edited = `${automations.text}- id: garage_at_night\n  alias: Close the garage\n  trigger: []\n  action: []\n`;
    await saveInPlace(ha.name, onHost('automations.yaml'), edited);
    expect(await readFile(onHost('automations.yaml'), 'utf8')).toBe(edited);
    expect(await attributes('automations.yaml')).toMatchObject({ uid: ha.uid, gid: ha.gid, mode: 0o664 });
    await saveInPlace(ha.name, onHost('packages/porch.yaml'), 'light: []\n');
    await saveFromTheUi(ha.name, onHost('automations.yaml'), '- id: from_the_ui\n');
    expect(await readFile(onHost('automations.yaml'), 'utf8')).toBe('- id: from_the_ui\n');
    await saveFromTheUi(ha.name, onHost('blueprints/automation/ada/imported.yaml'), 'blueprint: {name: Imported}\n');
    expect((await attributes('blueprints/automation/ada/imported.yaml')).gid).toBe(ha.gid);
  });

  it('a rolled-back deploy puts each file back with the owner, group and mode it had, and removes the folders it made', async () => {
    const before = { scenes: await attributes('scenes.yaml'), scenesText: await readFile(onHost('scenes.yaml'), 'utf8'), script: await attributes('scripts/notify.sh') };
    expect(before.scenes).toMatchObject({ uid: ha.uid, gid: ha.gid, mode: 0o664 });
    const checkConfig = house.ha.checkConfig.bind(house.ha);
    house.ha.checkConfig = () => ({ result: 'invalid', errors: 'Invalid config for [scene]: a test says so', warnings: null });
    try {
      const { outcome } = await deploy(
        'Evening scene, a louder script, a theme',
        {
          // What Home Assistant saved is copied into the repository first, as the drift guard asks.
          'automations.yaml': await readFile(onHost('automations.yaml'), 'utf8'),
          'packages/porch.yaml': await readFile(onHost('packages/porch.yaml'), 'utf8'),
          'scenes.yaml': '- id: evening\n  name: Evening\n  entities: {}\n',
          'scripts/notify.sh': '#!/bin/sh\necho third\n',
          'themes/dusk/dusk.yaml': 'dusk: {}\n',
        },
        ['scripts/notify.sh'],
      );
      expect(outcome.status, outcome.reason ?? '').toBe('rolled_back');
    } finally {
      house.ha.checkConfig = checkConfig;
    }
    expect(await readFile(onHost('scenes.yaml'), 'utf8')).toBe(before.scenesText);
    expect(await attributes('scenes.yaml')).toMatchObject({ uid: ha.uid, gid: ha.gid, mode: 0o664 });
    expect(await readFile(onHost('scripts/notify.sh'), 'utf8')).toBe('#!/bin/sh\necho second\n');
    expect(await attributes('scripts/notify.sh')).toMatchObject({ uid: ha.uid, gid: ha.gid, mode: 0o775 });
    await expect(lstat(onHost('themes'))).rejects.toThrow(/ENOENT/);
  });
});
