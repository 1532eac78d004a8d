// Issue 14, finding 2: with `backupScope: full` the archive held secrets.yaml, esphome/secrets.yaml,
// ip_bans.yaml and .uuid, and restoring it reverted a rotated secret and lifted IP bans. Backups
// and restores now pass through the deploy's protected-path rules. Here, on both transports (the
// local one, and ssh against a real OpenSSH sshd), through the real pipeline run in this process
// (no edge: jobs are handed to it as the daemon would): a full backup holds none of Home
// Assistant's own files, and every way of restoring one (a rollback job from the edge, the rollback
// after a failed deploy, the journal's recovery after a kill, break glass) leaves a secret rotated
// and a ban added since as they are; an archive crafted to hold secrets.yaml and ../outside is
// restored without them, and the restore says so.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { appendFile, chmod, lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../shared/ids.ts';
import type { JobMessage, ProgressMessage } from '../../shared/protocol.ts';
import { loadRelayConfig } from '../../relay/config.ts';
import { Journal } from '../../relay/journal.ts';
import type { Logger } from '../../relay/log.ts';
import { createPipeline, type Pipeline } from '../../relay/pipeline/deploy-pipeline.ts';
import { StepRunner, type JobOutcome } from '../../relay/step-runner.ts';
import { createHouse, HOST_ONLY_FILES, sshTransportOf, type House } from '../support/house.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';

const run = promisify(execFile);

/** Home Assistant's own files beyond the house's usual ones: what the finding saw restored. */
const MORE_HOST_FILES: Record<string, string> = {
  'ip_bans.yaml': '203.0.113.7:\n  banned_at: "2026-11-01T10:00:00"\n',
  '.uuid': '{"uuid": "0f6a9e1c2b"}\n',
  'esphome/secrets.yaml': 'wifi_password: "first"\n',
  'esphome/porch.yaml': 'esphome:\n  name: porch\n',
  // Protected by the owner: the relay's deploy.protect, and the repository's lanyard.yaml.
  'zigbee2mqtt/state.json': '{"paired": 12}\n',
  'node-red/flows.json': '[{"id": "n1"}]\n',
};
const PROTECTED_NAMES = ['zigbee2mqtt/state.json', 'node-red/flows.json', 'secrets.yaml', 'esphome/secrets.yaml', 'ip_bans.yaml', '.uuid', '.storage/auth', '.storage/core.config_entries', 'home-assistant_v2.db', 'home-assistant.log', '.HA_VERSION'];

function quietLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return { lines, info: keep('info'), warn: keep('warn'), error: keep('error') };
}

const script = (alias: string) => `goodnight:\n  alias: ${alias}\n  sequence: []\n`;

describe.each(['local', 'ssh'] as const)('over the %s transport', (transport) => {
  let sshd: Sshd | null = null;
  let house: House;
  let pipeline: Pipeline;
  const logger = quietLogger();

  const host = (path: string) => join(house.configRoot, path);
  const read = (path: string) => readFile(host(path), 'utf8');

  function jobOf(kind: 'deploy' | 'rollback', sha: string, backupId: string | null = null): JobMessage {
    return { type: 'job', jobId: newId('dep'), attempt: 1, kind, target: 'home', sha, ref: 'refs/heads/main', backupId, driftPolicy: 'stop', requestedBy: 'test' };
  }

  async function stepsFor(job: JobMessage): Promise<{ steps: StepRunner; messages: ProgressMessage[] }> {
    const journal = new Journal(join(house.stateDir, `journal-${job.jobId}`));
    await journal.open();
    const messages: ProgressMessage[] = [];
    return { steps: new StepRunner(job, journal, (m) => void messages.push(m), logger, {}, Date.now()), messages };
  }

  async function execute(job: JobMessage): Promise<{ outcome: JobOutcome; said: (step: string) => string }> {
    const { steps, messages } = await stepsFor(job);
    const outcome = await pipeline.execute(job, steps);
    return { outcome, said: (step) => messages.filter((m) => m.step === step && m.status !== 'started').map((m) => m.message).join('\n') };
  }

  async function deployScript(alias: string): Promise<{ outcome: JobOutcome; sha: string }> {
    const sha = await house.commit({ 'scripts.yaml': script(alias) }, alias);
    return { outcome: (await execute(jobOf('deploy', sha))).outcome, sha };
  }

  /** Home Assistant rotates a secret and bans an address: what no restore may undo. */
  async function homeAssistantMovesOn(round: string): Promise<{ secret: string; espSecret: string; bans: string }> {
    const secret = `weather_api_key: "rotated-${round}"\n`;
    const espSecret = `wifi_password: "rotated-${round}"\n`;
    await writeFile(host('secrets.yaml'), secret);
    await writeFile(host('esphome/secrets.yaml'), espSecret);
    await appendFile(host('ip_bans.yaml'), `198.51.100.${round.length}:\n  banned_at: "2026-11-2${round.length}T10:00:00"\n`);
    return { secret, espSecret, bans: await read('ip_bans.yaml') };
  }

  /** The same, at once: Home Assistant does it while it answers check_config. */
  function homeAssistantMovesOnNow(round: string): { secret: string; espSecret: string; bans: string } {
    const secret = `weather_api_key: "rotated-${round}"\n`;
    const espSecret = `wifi_password: "rotated-${round}"\n`;
    writeFileSync(host('secrets.yaml'), secret);
    writeFileSync(host('esphome/secrets.yaml'), espSecret);
    appendFileSync(host('ip_bans.yaml'), `198.51.100.99:\n  banned_at: "2026-11-30T10:00:00"\n`);
    return { secret, espSecret, bans: readFileSync(host('ip_bans.yaml'), 'utf8') };
  }

  async function expectStillThere(state: { secret: string; espSecret: string; bans: string }): Promise<void> {
    expect(await read('secrets.yaml')).toBe(state.secret);
    expect(await read('esphome/secrets.yaml')).toBe(state.espSecret);
    expect(await read('ip_bans.yaml')).toBe(state.bans);
    for (const path of ['.uuid', 'zigbee2mqtt/state.json', 'node-red/flows.json']) expect(await read(path), path).toBe(MORE_HOST_FILES[path]);
    for (const path of ['.storage/auth', '.storage/core.config_entries', 'home-assistant_v2.db', '.HA_VERSION']) expect(await read(path), path).toBe(HOST_ONLY_FILES[path]);
  }

  beforeAll(async () => {
    sshd = transport === 'ssh' ? await startSshd() : null;
    house = await createHouse({
      // Jobs are handed to the pipeline directly; nothing connects to this edge.
      edgeUrl: 'http://127.0.0.1:9',
      transport: sshd ? sshTransportOf(sshd) : { kind: 'local' },
      relayOverrides: { deploy: { backupScope: 'full', protect: ['zigbee2mqtt/**'] } },
    });
    for (const [path, content] of Object.entries(MORE_HOST_FILES)) {
      await mkdir(dirname(host(path)), { recursive: true });
      await writeFile(host(path), content);
    }
    if (sshd) await run('chown', ['-R', `${sshd.username}:`, house.configRoot]);
    pipeline = await createPipeline(await loadRelayConfig(house.relayConfigPath), logger);
  });

  afterAll(async () => {
    await pipeline?.close();
    await house?.close();
    await sshd?.stop();
  });

  let first: { backupId: string; before: string };

  it('a full-scope backup holds none of Home Assistant\'s protected files, and its record lists none', async () => {
    const before = await read('scripts.yaml');
    await house.commit({ 'lanyard.yaml': 'version: 1\nprotect: ["node-red/**"]\n' }, 'Protect the Node-RED flows');
    const { outcome } = await deployScript('Goodnight, one');
    expect(outcome.status, outcome.reason ?? '').toBe('succeeded');
    const backupId = outcome.summary.backupId!;
    const { stdout } = await run('tar', ['-tzf', join(house.backupDir, `${backupId}.tar.gz`)]);
    const names = stdout.split('\n').filter(Boolean).map((n) => n.replace(/^\.\//, ''));
    expect(names).toContain('configuration.yaml');
    expect(names).toContain('esphome/porch.yaml');
    expect(names.filter((n) => PROTECTED_NAMES.includes(n))).toEqual([]);
    const record = JSON.parse(await readFile(join(house.backupDir, `${backupId}.json`), 'utf8')) as { files: string[]; scope: string };
    expect(record.scope).toBe('full');
    expect(record.files.filter((n) => PROTECTED_NAMES.includes(n))).toEqual([]);
    first = { backupId, before };
  });

  it('a rollback job from the edge restores that backup, and the rotated secrets and the new ban stay', async () => {
    const moved = await homeAssistantMovesOn('edge');
    const { outcome, said } = await execute(jobOf('rollback', '0'.repeat(40), first.backupId));
    expect(outcome.status, outcome.reason ?? '').toBe('succeeded');
    expect(await read('scripts.yaml')).toBe(first.before);
    await expectStillThere(moved);
    expect(said('restore')).toMatch(new RegExp(`^restored \\d+ files, removed 0 added files from backup ${first.backupId}$`));
  });

  it('the rollback after a failed deploy leaves a secret rotated and a ban added during the deploy', async () => {
    const before = await read('scripts.yaml');
    let moved: Awaited<ReturnType<typeof homeAssistantMovesOn>> | null = null;
    const checkConfig = house.ha.checkConfig.bind(house.ha);
    // Home Assistant rotates a secret and bans an address while the deploy waits on check_config,
    // then finds the new configuration invalid: the rollback restores the backup taken just before.
    house.ha.checkConfig = () => {
      moved = homeAssistantMovesOnNow('failed-deploy');
      return { result: 'invalid', errors: 'Invalid config for [script]: expected a dictionary', warnings: null };
    };
    try {
      const { outcome } = await deployScript('Goodnight, broken');
      expect(outcome.status, outcome.reason ?? '').toBe('rolled_back');
    } finally {
      house.ha.checkConfig = checkConfig;
    }
    expect(moved).not.toBeNull();
    expect(await read('scripts.yaml')).toBe(before);
    await expectStillThere(moved!);
  });

  it('the journal\'s recovery after a kill mid-deploy restores the backup, and the rotated secret and the ban stay', async () => {
    const before = await read('scripts.yaml');
    const { outcome, sha } = await deployScript('Goodnight, killed during check');
    expect(outcome.status, outcome.reason ?? '').toBe('succeeded');
    const moved = await homeAssistantMovesOn('journal');
    // What the journal holds when the relay was killed during check: the job and its backup.
    const job = jobOf('deploy', sha);
    const { steps } = await stepsFor(job);
    const recovered = await pipeline.recover({ job, step: 'check', startedAt: Date.now(), context: { backupId: outcome.summary.backupId } }, steps);
    expect(recovered.status, recovered.reason ?? '').toBe('rolled_back');
    expect(await read('scripts.yaml')).toBe(before);
    await expectStillThere(moved);
  });

  it('break glass (`relay rollback --to`) restores a backup, and the rotated secret and the ban stay', async () => {
    const before = await read('scripts.yaml');
    const { outcome } = await deployScript('Goodnight, before break glass');
    expect(outcome.status, outcome.reason ?? '').toBe('succeeded');
    const moved = await homeAssistantMovesOn('break-glass');
    const restored = await pipeline.breakGlassRestore(outcome.summary.backupId!);
    expect(restored.status, restored.reason ?? '').toBe('succeeded');
    expect(await read('scripts.yaml')).toBe(before);
    await expectStillThere(moved);
  });

  it('an archive crafted to hold secrets.yaml, ../outside and a link into .storage is restored without them, and the restore names each', async () => {
    // As an older Lanyard wrote full backups (every file), or as someone with the host's backup
    // folder could change one, with the record's checksum made to match.
    const scratch = await mkdtemp(join(tmpdir(), 'lanyard-crafted-'));
    const tree = join(scratch, 'tree');
    await mkdir(join(tree, 'www'), { recursive: true });
    await writeFile(join(tree, 'secrets.yaml'), 'weather_api_key: "old-from-the-archive"\n');
    await writeFile(join(tree, 'ip_bans.yaml'), '{}\n');
    await mkdir(join(tree, 'node-red'));
    await writeFile(join(tree, 'node-red/flows.json'), '[]\n');
    await mkdir(join(tree, 'zigbee2mqtt'));
    await writeFile(join(tree, 'zigbee2mqtt/state.json'), '{}\n');
    await writeFile(join(tree, 'www/ok.txt'), 'restored from the archive\n');
    // Not ASCII: GNU tar lists it escaped under the C locale of an ssh session unless told not to.
    await writeFile(join(tree, 'www/café.txt'), 'also restored\n');
    await symlink('../.storage', join(tree, 'www/auth-dir'));
    await writeFile(join(scratch, 'outside'), 'written beside the config folder\n');
    const plain = join(scratch, 'crafted.tar');
    await run('tar', ['-cf', plain, '-C', tree, './secrets.yaml', './ip_bans.yaml', './www/ok.txt', './www/café.txt', './www/auth-dir', './node-red/flows.json', './zigbee2mqtt/state.json']);
    // -P keeps the ../ that tar would otherwise strip.
    await run('tar', ['-rf', plain, '-P', '-C', tree, '../outside']);
    await run('gzip', ['-n', plain]);
    const id = 'lanyard-20260101T000000Z-crafted';
    const archivePath = join(house.backupDir, `${id}.tar.gz`);
    const bytes = await readFile(`${plain}.gz`);
    await writeFile(archivePath, bytes);
    const record = {
      id,
      createdAt: Date.parse('2026-01-01T00:00:00Z'),
      jobId: newId('dep'),
      reason: 'crafted',
      scope: 'full',
      archive: { path: archivePath, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length, entries: 8 },
      files: ['secrets.yaml', 'ip_bans.yaml', 'www/ok.txt', 'www/café.txt', 'www/auth-dir', '../outside'],
      absent: ['secrets.yaml', '../escape.txt'],
      baseSha: null,
      manifest: null,
    };
    await writeFile(join(house.backupDir, `${id}.json`), `${JSON.stringify(record)}\n`);
    if (sshd) await run('chown', ['-R', `${sshd.username}:`, house.backupDir]);
    await chmod(archivePath, 0o600);
    const moved = await homeAssistantMovesOn('crafted');
    try {
      const { outcome, said } = await execute(jobOf('rollback', '0'.repeat(40), id));
      expect(outcome.status, outcome.reason ?? '').toBe('succeeded');
      expect(await read('www/ok.txt')).toBe('restored from the archive\n');
      expect(await read('www/café.txt')).toBe('also restored\n');
      await expectStillThere(moved);
      await expect(lstat(host('www/auth-dir'))).rejects.toThrow(/ENOENT/);
      await expect(lstat(join(house.configRoot, '..', 'outside'))).rejects.toThrow(/ENOENT/);
      const message = said('restore');
      expect(message).toMatch(/^restored 2 files, removed 0 added files from backup lanyard-20260101T000000Z-crafted; left alone 8: /);
      expect(message).toContain('../outside (leaves the config folder)');
      expect(message).toContain('secrets.yaml (protected (secrets.yaml (any folder)))');
      expect(message).toContain('ip_bans.yaml (protected (ip_bans.yaml))');
      expect(message).toContain('www/auth-dir (a link to ../.storage, which resolves to .storage, which is protected)');
      expect(message).toContain('secrets.yaml (not deleted: protected (secrets.yaml (any folder)))');
      expect(message).toContain('../escape.txt (not deleted: leaves the config folder)');
      expect(message).toContain('node-red/flows.json (protected by the configured glob node-red/**)');
      expect(message).toContain('zigbee2mqtt/state.json (protected by the configured glob zigbee2mqtt/**)');
      expect(outcome.summary.filesChanged).toEqual(['www/ok.txt', 'www/café.txt']);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
