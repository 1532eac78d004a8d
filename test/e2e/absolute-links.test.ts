// Issue 15, walls 1 and 3: a real house (the generator's, with `/config/...` and `/homeassistant/...`
// links as popular integrations document them) deployed over a real OpenSSH sshd to a config folder
// that is NOT /config (`<home>/srv/homeassistant/config`, the production guide's Container
// example), through the real pipeline run in this process. The links land with their text
// unchanged and lead, as Home Assistant sees the folder, where the tree says; the relay itself never
// follows them on the host, where their text leads nowhere (a changed one is backed up and rolled
// back as a link). Links that really leave the folder or reach protected data are refused with the
// fix, and a commit refused for what it holds alone is refused before the host is listed or hashed:
// not one command runs on it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, mkdtemp, readlink, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../shared/ids.ts';
import type { JobMessage, ProgressMessage } from '../../shared/protocol.ts';
import { resolveRelayConfig } from '../../relay/config.ts';
import { Journal } from '../../relay/journal.ts';
import type { Logger } from '../../relay/log.ts';
import { createPipeline, type Pipeline } from '../../relay/pipeline/deploy-pipeline.ts';
import { StepRunner, type JobOutcome } from '../../relay/step-runner.ts';
import { startHomeAssistantStandIn, type HomeAssistantStandIn } from '../support/home-assistant-standin.ts';
import { git, snapshotTree } from '../support/house.ts';
import { buildRealHouse, commitWorkTree, REAL_HOUSE_SMALL, type RealHouseTree } from '../support/real-house-tree.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';

const run = promisify(execFile);
const HA_TOKEN = 'absolute-links-ha-token';

let sshd: Sshd;
let scratch: string;

beforeAll(async () => {
  sshd = await startSshd();
  scratch = await mkdtemp(join(tmpdir(), 'lanyard-absolute-links-'));
});

afterAll(async () => {
  await sshd?.stop();
  await rm(scratch, { recursive: true, force: true });
});

function quietLogger(): Logger {
  return { info: () => undefined, warn: () => undefined, error: () => undefined };
}

/** A house on the sshd's host: a repository of the generated tree, its config folder under srv/, Home Assistant on it, and a pipeline. */
interface LinkHouse {
  tree: RealHouseTree;
  work: string;
  configRoot: string;
  backupDir: string;
  ha: HomeAssistantStandIn;
  pipeline: Pipeline;
  /** Runs a deploy of `sha`; returns its outcome and what each step said. */
  deploy(sha: string): Promise<{ outcome: JobOutcome; said: (step: string) => string }>;
  /** Commits the work tree as it is and pushes it; returns the sha. */
  commit(message: string): Promise<string>;
  close(): Promise<void>;
}

async function startLinkHouse(name: string, tree: RealHouseTree, homeAssistantConfigPaths?: string[]): Promise<LinkHouse> {
  const dir = join(scratch, name);
  const bare = join(dir, 'ha-config.git');
  const work = join(dir, 'work');
  const stateDir = join(dir, 'relay-state');
  await mkdir(dir, { recursive: true });
  await git(dir, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  await tree.writeRepository(work);
  await commitWorkTree(work, 'The whole configuration', tree.repo);
  await git(work, 'push', '--quiet', bare, 'HEAD:main');

  const configRoot = join(sshd.homeDir, name, 'srv/homeassistant/config');
  const backupDir = join(sshd.homeDir, name, 'backup');
  await tree.writeHostState(configRoot);
  await mkdir(backupDir, { recursive: true });
  await run('chown', ['-R', `${sshd.username}:`, join(sshd.homeDir, name)]);
  const ha = await startHomeAssistantStandIn({ configDir: configRoot, token: HA_TOKEN, restartDelayMs: 50 });

  const loaded = await resolveRelayConfig(
    {
      relayId: 'absolute-links-relay',
      stateDir,
      // Jobs are handed to the pipeline directly; nothing connects to this edge.
      edge: { url: 'http://127.0.0.1:9', target: 'home', token: 'absolute-links-relay-token' },
      git: { remote: bare, branch: 'main' },
      host: {
        transport: 'ssh',
        configRoot,
        backupDir,
        ...(homeAssistantConfigPaths ? { homeAssistantConfigPaths } : {}),
        ssh: { host: sshd.host, port: sshd.port, username: sshd.username, privateKeyPath: sshd.privateKeyPath, hostKeyFingerprint: sshd.hostKeyFingerprint },
      },
      homeAssistant: { url: ha.url, token: HA_TOKEN, verifyTimeoutSeconds: 10, requestTimeoutSeconds: 5, sensor: false, notify: false },
    },
    join(dir, 'relay.yaml'),
  );
  const pipeline = await createPipeline(loaded, quietLogger());
  return {
    tree,
    work,
    configRoot,
    backupDir,
    ha,
    pipeline,
    async deploy(sha) {
      const job: JobMessage = { type: 'job', jobId: newId('dep'), attempt: 1, kind: 'deploy', target: 'home', sha, ref: 'refs/heads/main', backupId: null, driftPolicy: 'stop', requestedBy: 'test' };
      const journal = new Journal(join(stateDir, `journal-${job.jobId}`));
      await journal.open();
      const messages: ProgressMessage[] = [];
      const steps = new StepRunner(job, journal, (m) => void messages.push(m), quietLogger(), {}, Date.now());
      const outcome = await pipeline.execute(job, steps);
      return { outcome, said: (step) => messages.filter((m) => m.step === step && m.status !== 'started').map((m) => m.message).join('\n') };
    },
    async commit(message) {
      await git(work, 'add', '-A');
      await git(work, 'commit', '--quiet', '-m', message);
      await git(work, 'push', '--quiet', bare, 'HEAD:main');
      return git(work, 'rev-parse', 'HEAD');
    },
    async close() {
      await pipeline.close();
      await ha.close();
    },
  };
}

/** Where an absolute link leads as Home Assistant sees the folder: `/config/x` and `/homeassistant/x` are the config folder's `x`. */
function asHomeAssistantSees(configRoot: string, target: string): string {
  return target.replace(/^\/(config|homeassistant)(?=\/|$)/, configRoot);
}

/** Every repository entry on the host as the tree says: files byte for byte (with the executable bit), links with their text unchanged. */
async function expectDeployedExactly(house: LinkHouse): Promise<void> {
  const host = await snapshotTree(house.configRoot, (path) => path === '.lanyard' || path.startsWith('.lanyard/'));
  for (const entry of house.tree.deployed) {
    const landed = host[entry.path];
    if (entry.kind === 'symlink') {
      expect(landed, entry.path).toEqual({ type: 'symlink', mode: 0o777, target: entry.target });
      continue;
    }
    expect(landed?.type, entry.path).toBe('file');
    expect(landed?.sha256, entry.path).toBe((await import('node:crypto')).createHash('sha256').update(house.tree.contentOf(entry)).digest('hex'));
    expect((landed!.mode & 0o111) !== 0, `${entry.path} executable`).toBe(entry.kind === 'executable');
  }
}

/** How many sessions sshd has started so far: each command the relay runs on the host is one. */
function sessionsStarted(): number {
  return sshd.log().split('\n').filter((line) => /Starting session: command/.test(line)).length;
}

describe('a real house whose links name /config and /homeassistant, on a host whose config folder is elsewhere', () => {
  let house: LinkHouse;

  beforeAll(async () => {
    // Home Assistant sees the folder at /config, an add-on such as ESPHome at /homeassistant.
    house = await startLinkHouse('container', buildRealHouse({ ...REAL_HOUSE_SMALL, absoluteLinks: true }), ['/config', '/homeassistant']);
  }, 120_000);

  afterAll(async () => {
    await house?.close();
  });

  it('deploys every link with its text unchanged and every file byte for byte, and each absolute link reaches, as Home Assistant sees the folder, what the tree says', async () => {
    // The claim below that the relay never follows these links rests on their text leading nowhere here.
    expect(existsSync('/config') || existsSync('/homeassistant'), 'this machine has a /config or /homeassistant of its own').toBe(false);
    expect(house.tree.absoluteLinks.length).toBeGreaterThanOrEqual(3);
    const sha = await git(house.work, 'rev-parse', 'HEAD');
    const { outcome, said } = await house.deploy(sha);
    expect(outcome.status, `${outcome.reason}\n${said('plan')}`).toBe('succeeded');
    await expectDeployedExactly(house);
    for (const link of house.tree.absoluteLinks) {
      const reached = await stat(asHomeAssistantSees(house.configRoot, link.target));
      expect(reached.isDirectory(), link.path).toBe(link.names === 'folder');
      expect(asHomeAssistantSees(house.configRoot, link.target)).toBe(join(house.configRoot, link.reaches));
    }
    // Home Assistant's own files stay as they were.
    for (const path of house.tree.protectedOnHost) expect((await lstat(join(house.configRoot, path))).isFile(), path).toBe(true);
  });

  it('treats such links as links on the host: a changed one is backed up and rolled back as a link, though its text leads nowhere there', async () => {
    const link = house.tree.absoluteLinks.find((l) => l.path === 'themes/current.yaml')!;
    await unlink(join(house.work, link.path));
    // The same file, named as an add-on sees it.
    await symlink(link.target.replace(/^\/config\//, '/homeassistant/'), join(house.work, link.path));
    const sha = await house.commit('Name the current theme as the add-ons see it');
    const checkConfig = house.ha.checkConfig.bind(house.ha);
    house.ha.checkConfig = () => ({ result: 'invalid', errors: 'Invalid config for [frontend]: pretend the theme broke', warnings: null });
    let result: Awaited<ReturnType<LinkHouse['deploy']>>;
    try {
      result = await house.deploy(sha);
    } finally {
      house.ha.checkConfig = checkConfig;
    }
    expect(result.outcome.status, result.outcome.reason ?? '').toBe('rolled_back');
    expect(await readlink(join(house.configRoot, link.path))).toBe(link.target);
    // The backup holds the link itself, not what its text would have led to.
    const archive = join(house.backupDir, `${result.outcome.summary.backupId}.tar.gz`);
    const { stdout } = await run('tar', ['-tvzf', archive]);
    expect(stdout).toMatch(new RegExp(`^l\\S+ .* \\./themes/current\\.yaml -> ${link.target.replaceAll('/', '\\/').replaceAll('.', '\\.')}$`, 'm'));
    await expectDeployedExactly(house);
    // Put the repository back as the tree has it.
    await git(house.work, 'revert', '--no-edit', 'HEAD');
    await git(house.work, 'push', '--quiet', join(scratch, 'container', 'ha-config.git'), 'HEAD:main');
  });

  it('refuses /config links that really leave the folder or reach protected data, each with its fix, and leaves the host as it was', async () => {
    const before = await snapshotTree(house.configRoot);
    const bad: Record<string, string> = { 'www/passwd': '/config/../etc/passwd', 'www/auth': '/config/.storage/auth', 'www/everything': '/config', 'www/other': '/other/x' };
    for (const [path, target] of Object.entries(bad)) await symlink(target, join(house.work, path));
    const sha = await house.commit('Links out of the config folder');
    const { outcome } = await house.deploy(sha);
    expect(outcome.status).toBe('failed');
    const fix = (path: string) => `fix: add \`- '${path}'\` to \`exclude:\` in lanyard.yaml (or to \`deploy.exclude\` in relay.yaml) to leave it out of the deploy`;
    const folder = `${house.configRoot} (/config or /homeassistant inside Home Assistant's containers)`;
    expect(outcome.reason).toContain(`www/auth is a symlink to /config/.storage/auth, which reaches .storage, which is protected; ${fix('www/auth')}.`);
    expect(outcome.reason).toContain(`www/everything is a symlink to /config, which resolves to the config folder itself, which would expose every file under it (secrets.yaml included); ${fix('www/everything')}.`);
    expect(outcome.reason).toContain(`www/other is a symlink to /other/x, which points outside the config folder ${folder}; ${fix('www/other')}.`);
    expect(outcome.reason).toContain(`www/passwd is a symlink to /config/../etc/passwd, which resolves outside the config folder ${folder}; ${fix('www/passwd')}.`);
    expect(outcome.summary.backupId ?? null).toBeNull();
    expect(await snapshotTree(house.configRoot)).toEqual(before);
  });

  // The commit is the one of the case above, with its four links out of the folder.
  it('refuses such a commit before the host is listed or hashed: not one command runs on it, even where hashing would fail', async () => {
    // A file the relay's user cannot read: hashing the host would fail on it, and say so.
    const trap = join(house.configRoot, 'packages/locked.yaml');
    await mkdir(join(house.configRoot, 'packages'), { recursive: true });
    await writeFile(trap, 'locked: true\n');
    await chown(trap, 0, 0);
    await chmod(trap, 0o600);
    try {
      const sha = await git(house.work, 'rev-parse', 'HEAD');
      const sessions = sessionsStarted();
      const { outcome, said } = await house.deploy(sha);
      expect(outcome.status).toBe('failed');
      expect(outcome.reason).toMatch(/^4 paths in the commit cannot be deployed safely, so nothing was deployed\. www\/auth is a symlink/);
      expect(outcome.reason).not.toMatch(/cannot read/);
      expect(said('plan')).toMatch(/www\/passwd is a symlink to \/config\/\.\.\/etc\/passwd/);
      expect(sessionsStarted()).toBe(sessions);
    } finally {
      await rm(trap, { force: true });
    }
    // The same trap, with a commit that passes: the host is hashed, and the unreadable file is named.
    for (const path of ['www/passwd', 'www/auth', 'www/everything', 'www/other']) await unlink(join(house.work, path));
    const good = await house.commit('Remove the links out of the folder');
    await writeFile(trap, 'locked: true\n');
    await chown(trap, 0, 0);
    await chmod(trap, 0o600);
    try {
      const sessions = sessionsStarted();
      const { outcome } = await house.deploy(good);
      expect(outcome.status).toBe('failed');
      expect(outcome.reason).toMatch(/the relay's user cannot read packages\/locked\.yaml/);
      expect(sessionsStarted()).toBeGreaterThan(sessions);
    } finally {
      await rm(trap, { force: true });
    }
    const { outcome } = await house.deploy(good);
    expect(outcome.status, outcome.reason ?? '').toBe('succeeded');
  });
});

describe('the same house on a Container install with the default settings (Home Assistant at /config only)', () => {
  let house: LinkHouse;

  beforeAll(async () => {
    house = await startLinkHouse('defaults', buildRealHouse({ ...REAL_HOUSE_SMALL, absoluteLinks: true }));
  }, 120_000);

  afterAll(async () => {
    await house?.close();
  });

  it('refuses the add-on\'s /homeassistant link with the relative link to commit instead; committed, the house deploys byte for byte', async () => {
    const link = house.tree.absoluteLinks.find((l) => l.target.startsWith('/homeassistant/'))!;
    const { outcome } = await house.deploy(await git(house.work, 'rev-parse', 'HEAD'));
    expect(outcome.status).toBe('failed');
    const relative = buildRealHouse({ ...REAL_HOUSE_SMALL, absoluteLinks: false }).links.find((l) => l.path === link.path)!.target;
    expect(outcome.reason).toBe(
      `1 path in the commit cannot be deployed safely, so nothing was deployed. ${link.path} is a symlink to ${link.target}, which points outside the config folder ${house.configRoot} (/config inside Home Assistant's containers); ` +
        `fix: commit the relative link \`${link.path} -> ${relative}\` instead, which leads to the same file, or add \`- '${link.path}'\` to \`exclude:\` in lanyard.yaml (or to \`deploy.exclude\` in relay.yaml) to leave it out of the deploy.`,
    );
    // The owner commits the relative link the refusal names.
    await unlink(join(house.work, link.path));
    await symlink(relative, join(house.work, link.path));
    const { outcome: fixed } = await house.deploy(await house.commit('Link the ESPHome network relative'));
    expect(fixed.status, fixed.reason ?? '').toBe('succeeded');
    expect(await readlink(join(house.configRoot, link.path))).toBe(relative);
    for (const other of house.tree.absoluteLinks.filter((l) => l !== link)) expect(await readlink(join(house.configRoot, other.path))).toBe(other.target);
  });
});

describe('the same house with its links committed relative', () => {
  it('deploys byte for byte with the default settings, every link as committed', async () => {
    const house = await startLinkHouse('relative', buildRealHouse({ ...REAL_HOUSE_SMALL, absoluteLinks: false }));
    try {
      const { outcome } = await house.deploy(await git(house.work, 'rev-parse', 'HEAD'));
      expect(outcome.status, outcome.reason ?? '').toBe('succeeded');
      await expectDeployedExactly(house);
    } finally {
      await house.close();
    }
  });
});
