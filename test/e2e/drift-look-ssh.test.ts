// The drift watch's look over SSH against a real sshd and a real git repository: what it finds
// after edits on the host, what it costs on a host that did not change (no file hashed, none read),
// and what it never touches. Every command the look sends the host is recorded (script and stdin),
// so "never named" is checked on the commands themselves; "never read" is checked on the bytes'
// access time, which the kernel moves on any read of a file changed since it was last read.
import { execFile } from 'node:child_process';
import { readFile, rm, stat, utimes, writeFile, mkdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRelayConfig, type LoadedConfig } from '../../relay/config.ts';
import type { Logger } from '../../relay/log.ts';
import { gitSourceFor, type GitSource } from '../../relay/pipeline/git-source.ts';
import { LiveHashCache } from '../../relay/pipeline/live-tree.ts';
import { ManifestStore } from '../../relay/pipeline/manifest-store.ts';
import { openTargetHost } from '../../relay/transport/open-target-host.ts';
import type { TargetHost } from '../../relay/transport/target-host.ts';
import { DriftLook } from '../../relay/watch/drift-look.ts';
import { DriftReportMessage } from '../../shared/drift.ts';
import { createGitFixture } from '../support/git-fixture.ts';
import { createHouse, git, sshTransportOf, type House } from '../support/house.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';

const MARKER = 'LANYARD-DRIFT-MARKER-7f3a91c2';
/** Protected files changed on the host while the watch looks; none may ever be read or named. */
const PROTECTED_EDITS: Record<string, string> = {
  'secrets.yaml': `weather_api_key: "${MARKER}-root"\n`,
  'packages/secrets.yaml': `pool_pin: "${MARKER}-packages"\n`,
  '.storage/core.config_entries': `{"data": "${MARKER}-storage"}\n`,
};
const OLD_ATIME = new Date('2001-01-01T00:00:00Z');

let sshd: Sshd;
let house: House;
let host: TargetHost;
let look: DriftLook;
let git_: GitSource;
let manifests: ManifestStore;
let sha: string;
const commands: string[] = [];
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The host, every command it is sent kept with its stdin. */
function recording(inner: TargetHost, log: string[] = commands): TargetHost {
  return {
    get description() {
      return inner.description;
    },
    get connected() {
      return inner.connected;
    },
    run(script, options) {
      const stdin = options?.stdin;
      log.push(`${script}\n--- stdin ---\n${typeof stdin === 'string' || Buffer.isBuffer(stdin) ? stdin.toString('utf8') : stdin ? '(stream)' : ''}`);
      return inner.run(script, options);
    },
    upload: (l, r) => inner.upload(l, r),
    download: (r, l) => inner.download(r, l),
    close: () => inner.close(),
  };
}

/** Waits for the clock's next whole second: files written before it are no longer "racily clean" for the hashing cache. */
async function nextSecond(): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  while (Math.floor(Date.now() / 1000) <= now) await new Promise((resolve) => setTimeout(resolve, 20));
}

async function writeOnHost(path: string, content: string | Buffer): Promise<void> {
  await mkdir(dirname(join(house.configRoot, path)), { recursive: true });
  await writeFile(join(house.configRoot, path), content);
}

beforeAll(async () => {
  sshd = await startSshd();
  house = await createHouse({ edgeUrl: 'http://127.0.0.1:9', transport: sshTransportOf(sshd) });
  const raw = parseYaml(await readFile(house.relayConfigPath, 'utf8')) as Record<string, any>;
  raw.deploy = { exclude: ['**/*.bak'] };
  const loaded: LoadedConfig = await resolveRelayConfig(raw, house.relayConfigPath, {});
  host = recording(await openTargetHost(loaded));
  git_ = gitSourceFor(loaded);
  manifests = new ManifestStore(join(house.stateDir, 'manifests'), 'home', house.configRoot);
  look = new DriftLook({ config: loaded.config, logger: quiet, git: git_, manifests, root: house.configRoot, liveHashes: new LiveHashCache(), host: async () => host });
  sha = await git(house.work, 'rev-parse', 'HEAD');
});

afterAll(async () => {
  await host?.close();
  await house?.close();
  await sshd?.stop();
});

describe('a drift watch look over ssh', () => {
  it('before any deploy: nothing can drift and nothing is hashed', async () => {
    const report = await look.look();
    expect(report).toMatchObject({ type: 'drift', deployedSha: null, files: [], total: 0 });
    expect(look.last).toEqual({ listed: 0, hashed: 0, diffReads: 0 });
  });

  it('after a deploy, an unchanged host is hashed once, then costs a listing and no hashing at all', async () => {
    // What a deploy records: the commit's files, which the host already holds.
    await git_.fetchCommit(sha);
    const listing = await git_.listCommitFiles(sha);
    await manifests.write(host, { sha, deployedAt: Date.now(), files: listing.files });
    await nextSecond();
    const first = await look.look();
    expect(first).toMatchObject({ deployedSha: sha, files: [], total: 0 });
    expect(look.last!.hashed).toBe(listing.files.length);
    const from = commands.length;
    const second = await look.look();
    expect(second).toMatchObject({ deployedSha: sha, files: [], total: 0 });
    expect(look.last!.hashed).toBe(0);
    expect(look.last!.listed).toBeGreaterThan(listing.files.length);
    // The commands of that second look: a checksum of the manifest and one listing, no sha256sum of any file.
    expect(commands.slice(from).some((c) => c.includes('sha256sum "$@"'))).toBe(false);
  });

  it('reports an edit, a deletion and added files (text with a diff, binary without), and never a protected, excluded or root file', async () => {
    const automations = await readFile(join(house.configRoot, 'automations.yaml'), 'utf8');
    await writeOnHost('automations.yaml', `${automations}- id: ui_added\n  alias: Added in the UI\n`);
    await rm(join(house.configRoot, 'scenes.yaml'));
    await writeOnHost('packages/pool.yaml', 'input_boolean:\n  pool_pump: {}\n');
    await writeOnHost('packages/camera.yaml', Buffer.from([0x63, 0x61, 0x6d, 0x00, 0x01]));
    await writeOnHost('packages/old.bak', 'excluded by deploy.exclude\n');
    await writeOnHost('new-at-the-root.yaml', 'Home Assistant writes files here\n');
    for (const [path, content] of Object.entries(PROTECTED_EDITS)) {
      await writeOnHost(path, content);
      // Read since its last change (atime before mtime): relatime moves atime on the very next read.
      await utimes(join(house.configRoot, path), OLD_ATIME, new Date());
    }
    await nextSecond();
    const from = commands.length;
    const report = await look.look();
    expect(DriftReportMessage.safeParse(report).success).toBe(true);
    expect(report.files.map((f) => [f.path, f.change, f.diffNote])).toEqual([
      ['automations.yaml', 'modified', null],
      ['packages/camera.yaml', 'added', 'binary file: not diffed'],
      ['packages/pool.yaml', 'added', null],
      ['scenes.yaml', 'deleted', 'deleted on the host'],
    ]);
    expect(report.total).toBe(4);
    expect(report.files[0]!.diff).toContain('+- id: ui_added\n+  alias: Added in the UI\n');
    expect(report.files[2]!.diff).toContain('+  pool_pump: {}');
    expect(look.last).toMatchObject({ hashed: 3, diffReads: 3 });

    // The next look at the unchanged host: nothing hashed or read again, `since` as first seen.
    const again = await look.look();
    expect(look.last).toMatchObject({ hashed: 0, diffReads: 0 });
    expect(again.files.map((f) => f.since)).toEqual(report.files.map(() => report.at));
    expect(again.at).toBeGreaterThanOrEqual(report.at);

    // Never read, never named: the bytes' access time, the commands sent, the reports made.
    for (const path of Object.keys(PROTECTED_EDITS)) expect((await stat(join(house.configRoot, path))).atime, path).toEqual(OLD_ATIME);
    const sent = commands.slice(from).join('\n');
    expect(sent).not.toContain('secrets.yaml');
    expect(sent).not.toContain('.storage/');
    expect(sent).not.toContain(MARKER);
    expect(JSON.stringify([report, again])).not.toContain(MARKER);
    expect(JSON.stringify([report, again])).not.toMatch(/secrets|\.storage/);
    // The control: a read of such a file does move its access time on this filesystem.
    await readFile(join(house.configRoot, 'secrets.yaml'));
    expect((await stat(join(house.configRoot, 'secrets.yaml'))).atime).not.toEqual(OLD_ATIME);
  });

  it('a file put back as deployed stops drifting; drifting again starts a new since', async () => {
    const deployed = await git_.readCommitFile(sha, 'scenes.yaml');
    await writeOnHost('scenes.yaml', deployed!);
    const back = await look.look();
    expect(back.files.map((f) => f.path)).not.toContain('scenes.yaml');
    await rm(join(house.configRoot, 'scenes.yaml'));
    const gone = await look.look();
    expect(gone.files.find((f) => f.path === 'scenes.yaml')).toMatchObject({ change: 'deleted', since: gone.at });
  });
});

describe('a drift watch look with git.subfolder', () => {
  it('diffs against the deployed file inside the subfolder, and honours the deployed lanyard.yaml protect globs', async () => {
    const repo = await createGitFixture();
    const root = join(sshd.homeDir, 'subfolder-config');
    const hostCommands: string[] = [];
    try {
      const deployed = { 'configuration.yaml': 'default_config:\n', 'packages/lights.yaml': 'light:\n  - platform: group\n    name: Hall\n' };
      const sha = await repo.commitAndPush(
        {
          'README.md': 'not deployed: outside the subfolder\n',
          'ha/lanyard.yaml': 'version: 1\nprotect:\n  - packages/alarm_codes.yaml\n',
          ...Object.fromEntries(Object.entries(deployed).map(([p, c]) => [`ha/${p}`, c])),
        },
        'Config in a subfolder',
      );
      for (const [path, content] of Object.entries({ ...deployed, 'packages/lights.yaml': 'light:\n  - platform: group\n    name: Hallway\n', 'packages/alarm_codes.yaml': `code: "${MARKER}"\n` })) {
        await mkdir(dirname(join(root, path)), { recursive: true });
        await writeFile(join(root, path), content);
      }
      if (process.getuid?.() === 0) await promisify(execFile)('chown', ['-R', `${sshd.username}:`, root]);
      await utimes(join(root, 'packages/alarm_codes.yaml'), OLD_ATIME, new Date());
      const raw = parseYaml(await readFile(house.relayConfigPath, 'utf8')) as Record<string, any>;
      raw.git = { remote: repo.bare, branch: 'main', subfolder: 'ha/' };
      raw.host.configRoot = root;
      raw.stateDir = join(house.dir, 'subfolder-state');
      const loaded = await resolveRelayConfig(raw, house.relayConfigPath, {});
      const inner = await openTargetHost(loaded);
      const target = recording(inner, hostCommands);
      const source = gitSourceFor(loaded);
      await source.fetchCommit(sha);
      const store = new ManifestStore(join(raw.stateDir, 'manifests'), 'home', root);
      // As a deploy records it: the subfolder's files, lanyard.yaml left out.
      await store.write(target, { sha, deployedAt: Date.now(), files: (await source.listCommitFiles(sha, 'ha')).files.filter((f) => f.path !== 'lanyard.yaml') });
      const subLook = new DriftLook({ config: loaded.config, logger: quiet, git: source, manifests: store, root, liveHashes: new LiveHashCache(), host: async () => target });
      const report = await subLook.look();
      await inner.close();
      expect(report.files.map((f) => [f.path, f.change])).toEqual([['packages/lights.yaml', 'modified']]);
      expect(report.files[0]!.diff).toContain('-    name: Hall\n+    name: Hallway\n');
      expect(hostCommands.join('\n')).not.toContain('alarm_codes');
      expect((await stat(join(root, 'packages/alarm_codes.yaml'))).atime).toEqual(OLD_ATIME);
    } finally {
      await repo.dispose();
      await rm(root, { recursive: true, force: true });
    }
  });
});
