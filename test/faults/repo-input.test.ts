// Faults, class "bad input from the repository" (issue 9): whatever a commit holds — links out of
// the config folder, crafted `..` entries, names no sane person types, a file where a folder was,
// 100 MB, Home Assistant's own state — the relay either deploys it exactly or refuses it by name,
// before anything is written. One house over a real OpenSSH sshd, a real relay process and the edge
// under wrangler dev; every case is a real push. After a refusal the host is compared with a full
// listing (every path, SHA-256, mode) taken before it, and the next good commit must deploy.
//
// Already covered elsewhere, so not repeated here: a relative symlink out of the root over ssh and
// secrets.yaml in the repository (test/e2e/pipeline-ssh.test.ts); `..`, absolute, backslash,
// newline and NUL paths, symlinks to the root and to protected paths, writing beneath a host file
// (test/relay/path-safety.test.ts, test/relay/plan.test.ts); submodules listed apart, export
// refusing paths outside its folder (test/relay/git-source.test.ts). A NUL cannot be in a name at
// all: it ends a name in git's tree format.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushCraftedCommit, type CraftedEntry } from '../support/crafted-commit.ts';
import { git, HOST_ONLY_FILES, snapshotTree, waitForDeployment, type ApiClient, type House, type TestEdge, type TreeEntry } from '../support/house.ts';
import { sendPush } from '../support/push.ts';
import type { RelayProcess } from '../support/relay-process.ts';
import type { Sshd } from '../support/sshd.ts';
import { startSshHouse, stopSshHouse } from '../support/ssh-house.ts';

let sshd: Sshd;
let edge: TestEdge;
let house: House;
let relay: RelayProcess;
let api: ApiClient;

const notLanyard = (path: string) => path === '.lanyard' || path.startsWith('.lanyard/');
const FINAL = ['succeeded', 'failed', 'rolled_back'];
const DEPLOY_TIMEOUT_MS = 180_000;

interface Outcome {
  sha: string;
  status: string;
  reason: string;
  summary: Record<string, any>;
  /** Each step's final message, by step name. */
  messages: Record<string, string>;
}

async function outcomeOf(sha: string, message: string): Promise<Outcome> {
  const id = await sendPush(edge.url, sha, message);
  const { deployment, steps } = await waitForDeployment(api, id, FINAL, DEPLOY_TIMEOUT_MS);
  const messages: Record<string, string> = {};
  for (const s of steps as { step: string; status: string; message?: string }[]) if (s.status !== 'started' && s.message) messages[s.step] = s.message;
  return { sha, status: deployment.status, reason: deployment.reason ?? '', summary: deployment.summary ?? {}, messages };
}

/** An ordinary commit (the house's work clone), pushed and deployed. */
async function deploy(files: Record<string, string | null>, message: string): Promise<Outcome> {
  return outcomeOf(await house.commit(files, message), message);
}

/** A crafted commit, pushed and deployed. */
async function deployCrafted(entries: CraftedEntry[], message: string): Promise<Outcome> {
  return outcomeOf(await pushCraftedCommit(house.work, entries, message), message);
}

const hostNow = () => snapshotTree(house.configRoot, notLanyard);

function changedPaths(before: Record<string, TreeEntry>, after: Record<string, TreeEntry>): string[] {
  const paths = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...paths].filter((p) => JSON.stringify(before[p]) !== JSON.stringify(after[p])).sort();
}

async function expectHostOnlyFilesUntouched(): Promise<void> {
  for (const [path, content] of Object.entries(HOST_ONLY_FILES)) expect(await readFile(join(house.configRoot, path), 'utf8'), path).toBe(content);
}

let goodCommits = 0;
/** The next ordinary commit after a refusal: drops the bad entries and changes one file; it must deploy. */
async function expectNextGoodCommitDeploys(remove: Record<string, null> = {}): Promise<void> {
  goodCommits += 1;
  const text = `good commit ${goodCommits}\n`;
  const good = await deploy({ ...remove, 'www/heartbeat.txt': text }, `Good commit ${goodCommits}`);
  expect(good.status, JSON.stringify(good)).toBe('succeeded');
  expect(await readFile(join(house.configRoot, 'www/heartbeat.txt'), 'utf8')).toBe(text);
}

/** Pushes `push`, expects a refusal before anything was written that names `named`, then a good commit. */
async function expectRefused(push: () => Promise<Outcome>, named: RegExp, cleanUp: Record<string, null> = {}): Promise<Outcome> {
  const before = await hostNow();
  const outcome = await push();
  expect(outcome.status, JSON.stringify(outcome)).toBe('failed');
  expect(outcome.reason).toMatch(named);
  expect(outcome.summary.backupId ?? null, 'a refusal takes no backup: nothing was about to be written').toBeNull();
  expect(await hostNow()).toEqual(before);
  await expectHostOnlyFilesUntouched();
  await expectNextGoodCommitDeploys(cleanUp);
  return outcome;
}

beforeAll(async () => {
  ({ sshd, edge, house, relay, api } = await startSshHouse());
  // The first deploy adopts the host; every case below starts from a deployed house.
  await expectNextGoodCommitDeploys();
});

afterAll(() => stopSshHouse({ relay, edge, house, sshd }));

describe('symlinks', () => {
  it('refuses a link to an absolute path outside the config folder, naming link and target', async () => {
    const outcome = await expectRefused(
      () => deployCrafted([{ path: ['www', 'passwd'], kind: 'symlink', content: '/etc/passwd' }], 'Link to /etc/passwd'),
      /www\/passwd is a symlink to \/etc\/passwd, which points outside the config folder/,
    );
    expect(outcome.reason).toMatch(/nothing was deployed/);
  });

  it('refuses an absolute link that names the config folder but climbs out of it', async () => {
    const sneaky = `${house.configRoot}/../backup/secrets-copy`;
    await expectRefused(() => deployCrafted([{ path: ['www', 'backup'], kind: 'symlink', content: sneaky }], 'Link through /config/..'), /www\/backup is a symlink to .*outside the config folder/);
  });

  it('refuses links to the config folder itself and to protected data', async () => {
    await expectRefused(() => deployCrafted([{ path: ['www', 'everything'], kind: 'symlink', content: '..' }], 'Link to the root'), /www\/everything is a symlink to \.\., which resolves to the config folder itself/);
    await expectRefused(() => deployCrafted([{ path: ['www', 'auth'], kind: 'symlink', content: '../.storage/auth' }], 'Link to .storage'), /www\/auth is a symlink to \.\.\/\.storage\/auth, which reaches \.storage, which is protected/);
  });

  it('refuses a link to a folder that holds protected files, as it refuses one to the root', async () => {
    // www/ is served without signing in: a link there to esphome/ would serve its secrets.yaml.
    await mkdir(join(house.configRoot, 'esphome'), { recursive: true });
    await writeFile(join(house.configRoot, 'esphome/secrets.yaml'), 'wifi_password: "real"\n');
    await writeFile(join(house.configRoot, 'esphome/livingroom.yaml'), 'esphome: {name: livingroom}\n');
    await expectRefused(
      () => deployCrafted([{ path: ['www', 'esphome'], kind: 'symlink', content: '../esphome' }], 'Publish the ESPHome folder'),
      /www\/esphome is a symlink to \.\.\/esphome, which resolves to esphome, a folder that holds esphome\/secrets\.yaml, which is protected/,
    );
    expect(await readFile(join(house.configRoot, 'esphome/secrets.yaml'), 'utf8')).toBe('wifi_password: "real"\n');
  });

  // Issue 14, finding 3: the check read link targets as text, so this pair was deployed and
  // www/x/auth served .storage/auth.
  it('refuses a link that reaches .storage through another link of the commit, and www/x/auth serves nothing', async () => {
    const outcome = await expectRefused(
      () =>
        deployCrafted(
          [
            { path: ['p', 'q', 'y'], kind: 'symlink', content: '../../t' },
            { path: ['www', 'x'], kind: 'symlink', content: '../p/q/y/../.storage' },
          ],
          'A link through a link',
        ),
      /www\/x is a symlink to \.\.\/p\/q\/y\/\.\.\/\.storage, which resolves to \.storage, which is protected \(following p\/q\/y → \.\.\/\.\.\/t\); fix: add `- 'www\/x'` to `exclude:` in lanyard\.yaml \(or to `deploy\.exclude` in relay\.yaml\) to leave it out of the deploy/,
    );
    expect(outcome.reason).toMatch(/nothing was deployed/);
    await expect(readFile(join(house.configRoot, 'www/x/auth'), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('refuses the same link when the link two folders up is already on the host', async () => {
    await mkdir(join(house.configRoot, 'p/q'), { recursive: true });
    await symlink('../../t', join(house.configRoot, 'p/q/y'));
    try {
      await expectRefused(() => deployCrafted([{ path: ['www', 'x'], kind: 'symlink', content: '../p/q/y/../.storage' }], 'A link through a host link'), /www\/x is a symlink to .*, which resolves to \.storage, which is protected \(following p\/q\/y → \.\.\/\.\.\/t\)/);
      await expect(readFile(join(house.configRoot, 'www/x/auth'), 'utf8')).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(join(house.configRoot, 'p'), { recursive: true, force: true });
    }
  });

  it('deploys a link to a file inside the config folder as that very link, and removes it again', async () => {
    const before = await hostNow();
    const outcome = await deployCrafted(
      [
        { path: ['floorplan', 'ground.svg'], kind: 'file', content: '<svg/>\n' },
        { path: ['www', 'floorplan.svg'], kind: 'symlink', content: '../floorplan/ground.svg' },
      ],
      'Publish the floor plan through a link',
    );
    expect(outcome.status, JSON.stringify(outcome)).toBe('succeeded');
    expect(await readlink(join(house.configRoot, 'www/floorplan.svg'))).toBe('../floorplan/ground.svg');
    expect(changedPaths(before, await hostNow())).toEqual(['floorplan', 'floorplan/ground.svg', 'www/floorplan.svg']);
    await expectNextGoodCommitDeploys();
    expect(await hostNow()).not.toHaveProperty(['www/floorplan.svg']);
  });
});

describe('crafted trees', () => {
  it('refuses a tree entry named ".." that would put secrets.yaml beside the config folder', async () => {
    await expectRefused(
      () => deployCrafted([{ path: ['..', 'secrets.yaml'], kind: 'file', content: 'api_password: "from the repository"\n' }], 'A tree named ..'),
      /\.\.\/secrets\.yaml leaves the deployed folder through "\.\."/,
    );
  });

  it.each([
    [['www', '..', 'configuration.yaml'], /www\/\.\.\/configuration\.yaml/],
    [['www', '..', 'www', 'new.txt'], /www\/\.\.\/www\/new\.txt/],
    [['www', '.', 'dot.txt'], /www\/\.\/dot\.txt/],
  ])('refuses a path with "." or ".." entries that lands back in the folder: %j', async (path, named) => {
    await expectRefused(() => deployCrafted([{ path, kind: 'file', content: 'homeassistant: {}\n' }], `Crafted ${path.join('/')}`), named);
  });

  it('refuses a name with a newline, showing it escaped', async () => {
    await expectRefused(() => deployCrafted([{ path: ['www', 'two\nlines.txt'], kind: 'file', content: 'x\n' }], 'A newline in a name'), /"www\/two\\nlines\.txt" contains a control character/);
  });

  it('refuses a name that is not UTF-8, which the host would get under another name', async () => {
    await expectRefused(
      () => deployCrafted([{ path: ['www', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74])], kind: 'file', content: 'latin-1 name\n' }], 'A Latin-1 name'),
      /www\/caf.\.txt .*not valid UTF-8/,
    );
  });

  it('refuses a name longer than a file system takes', async () => {
    await expectRefused(() => deployCrafted([{ path: ['www', `${'a'.repeat(300)}.txt`], kind: 'file', content: 'x\n' }], 'A 304-byte name'), /www\/a+… has a name of 304 bytes, and a file system takes at most 255; fix: rename it in the repository to names of at most 255 bytes, e\.g\. to `www\/a{60}\.txt`/);
  });

  it('refuses a path longer than the host can name', async () => {
    const path = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(2, '0')}-${'n'.repeat(97)}`);
    const bytes = Buffer.byteLength([...path, 'bottom.txt'].join('/'));
    await expectRefused(() => deployCrafted([{ path: [...path, 'bottom.txt'], kind: 'file', content: 'x\n' }], 'A 4,000-byte path'), new RegExp(`00-n+/01-n+… is ${bytes} bytes long, and Lanyard deploys paths of at most 3840 bytes .*; fix: rename it in the repository to a path of at most 3840 bytes`));
  });

  it('refuses a file and a folder under one name', async () => {
    await expectRefused(
      () =>
        deployCrafted(
          [
            { path: ['www', 'twice'], kind: 'file', content: 'a file\n' },
            { path: ['www', 'twice', 'inside.txt'], kind: 'file', content: 'a file in a folder of the same name\n' },
          ],
          'A blob and a tree named twice',
        ),
      /www\/twice\/inside\.txt cannot be written: the commit also has a file www\/twice/,
    );
  });
});

describe('names no one should have to think about', () => {
  const nfc = 'café'.normalize('NFC');
  const nfd = 'café'.normalize('NFD');
  // Every name here is passed to the host's sh scripts (find, stat, tar, mkdir, mv, rm) over ssh.
  const names = [
    'www/my notes.txt',
    'www/ leading and trailing spaces .txt',
    `www/${nfc} (NFC).txt`,
    `www/${nfd} (NFD).txt`,
    `www/${nfc}`,
    `www/${nfd}`,
    'www/it\'s "quoted".txt',
    'www/💡 lights.txt',
    'www/$(touch INJECTED).txt',
    'www/`touch INJECTED`.txt',
    'www/;touch INJECTED;.txt',
    'www/a|b&c>d<e*?[x].txt',
    'www/-rf',
    '-rf',
    '--checkpoint=1',
    '--checkpoint-action=exec=touch INJECTED',
    '--directory=..',
    '--help/readme.txt',
    '-v/readme.txt',
    `deep/${Array.from({ length: 120 }, (_, i) => `level-${i}`).join('/')}/bottom.txt`,
  ];
  const contentOf = (name: string, round: number) => `round ${round} of ${JSON.stringify(name)}\n`;

  async function expectNothingInjected(): Promise<void> {
    const everywhere = { ...(await snapshotTree(sshd.homeDir)), ...(await snapshotTree(house.dir)) };
    expect(Object.keys(everywhere).filter((p) => p.split('/').pop() === 'INJECTED')).toEqual([]);
    await expect(stat(join(process.cwd(), 'INJECTED'))).rejects.toThrow(/ENOENT/);
  }

  async function expectOnHost(round: number): Promise<void> {
    for (const name of names) expect(await readFile(join(house.configRoot, name), 'utf8'), name).toBe(contentOf(name, round));
  }

  it('deploys them byte for byte, changes them (through a backup), and deletes them, running none of them as a command', async () => {
    const before = await hostNow();
    const added = await deploy(Object.fromEntries(names.map((n) => [n, contentOf(n, 1)])), 'Odd names');
    expect(added.status, JSON.stringify(added)).toBe('succeeded');
    expect([...added.summary.filesChanged].sort()).toEqual([...names].sort());
    await expectOnHost(1);
    // NFC and NFD spell different names on Linux: both are there, each with its own content.
    expect(await readFile(join(house.configRoot, `www/${nfc}`), 'utf8')).not.toBe(await readFile(join(house.configRoot, `www/${nfd}`), 'utf8'));
    await expectNothingInjected();

    const unchangedAgain = await deploy({ 'www/heartbeat.txt': 'odd names planned again\n' }, 'Plan the odd names again');
    expect(unchangedAgain.status, JSON.stringify(unchangedAgain)).toBe('succeeded');
    expect(unchangedAgain.summary.filesChanged).toEqual(['www/heartbeat.txt']);
    expect(unchangedAgain.summary.drift).toEqual([]);

    const changed = await deploy(Object.fromEntries(names.map((n) => [n, contentOf(n, 2)])), 'Odd names, again');
    expect(changed.status, JSON.stringify(changed)).toBe('succeeded');
    expect(changed.messages.backup).toMatch(new RegExp(`${names.length} files`));
    await expectOnHost(2);
    await expectNothingInjected();

    const removed = await deploy(Object.fromEntries(names.map((n) => [n, null])), 'No more odd names');
    expect(removed.status, JSON.stringify(removed)).toBe('succeeded');
    expect([...removed.summary.filesDeleted].sort()).toEqual([...names].sort());
    const after = await hostNow();
    // Only the folders the odd names needed remain (Lanyard deletes files, never folders).
    expect(changedPaths(before, after).filter((p) => after[p]?.type !== 'dir')).toEqual(['www/heartbeat.txt']);
    await expectNothingInjected();
    await expectHostOnlyFilesUntouched();
  });
});

describe('a file where a folder was, and a folder where a file was', () => {
  it('refuses a file where the host has a folder of its own, naming it', async () => {
    await mkdir(join(house.configRoot, 'www/notes'), { recursive: true });
    await writeFile(join(house.configRoot, 'www/notes/from-the-host.txt'), 'written on the host\n');
    await expectRefused(() => deploy({ 'www/notes': 'a file in git\n' }, 'notes as a file'), /www\/notes cannot be written: it is a folder on the host/, { 'www/notes': null });
  });

  // A folder Lanyard deployed that the repository turns into a file (or the other way round) is
  // refused the same way, before anything is written: the swap would have to delete, remove the
  // emptied folder and write in one step, and undo all of it on a rollback. The message says what
  // to do on the host; after that the commit deploys.
  it('refuses to turn a folder it deployed into a file, names it, and deploys once the host folder is gone', async () => {
    const first = await deploy({ 'www/gallery/a.txt': 'a picture\n' }, 'A gallery folder');
    expect(first.status, JSON.stringify(first)).toBe('succeeded');
    await rm(join(house.work, 'www/gallery'), { recursive: true });
    const before = await hostNow();
    const swapped = await deploy({ 'www/gallery': 'a gallery file\n' }, 'gallery as a file');
    expect(swapped.status, JSON.stringify(swapped)).toBe('failed');
    expect(swapped.reason).toContain(
      "www/gallery cannot be written: it is a folder on the host; fix: remove or rename the folder www/gallery on the host, or add `- 'www/gallery'` to `exclude:` in lanyard.yaml (or to `deploy.exclude` in relay.yaml) to leave it out of the deploy.",
    );
    expect(await hostNow()).toEqual(before);
    await rm(join(house.configRoot, 'www/gallery'), { recursive: true });
    const again = await outcomeOf(await house.commit({ 'www/heartbeat.txt': 'after the gallery\n' }, 'Deploy the gallery file'), 'Deploy the gallery file');
    expect(again.status, JSON.stringify(again)).toBe('succeeded');
    expect(await readFile(join(house.configRoot, 'www/gallery'), 'utf8')).toBe('a gallery file\n');
    await deploy({ 'www/gallery': null }, 'No gallery');
  });

  it('refuses a folder where the host has a file of its own, naming it', async () => {
    await writeFile(join(house.configRoot, 'www/legend'), 'written on the host\n');
    await expectRefused(() => deploy({ 'www/legend/a.txt': 'a file in a folder in git\n' }, 'legend as a folder'), /www\/legend\/a\.txt cannot be written: www\/legend is a file on the host/, {
      'www/legend/a.txt': null,
    });
  });
});

describe('Home Assistant\'s own state in the repository', () => {
  // On Linux `Secrets.yaml` and `.STORAGE/` are other names than Home Assistant's, but on a
  // case-insensitive filesystem (a config folder on SMB, exFAT, or Docker Desktop's bind mounts) they
  // are the same files. No repository needs them, so they are protected like the real names.
  it.each([
    ['.storage/auth', '{"users": ["mallory"]}\n'],
    ['.storage/core.config_entries', '{}\n'],
    ['home-assistant_v2.db', 'not a database\n'],
    ['.HA_VERSION', '0.1\n'],
    ['esphome/secrets.yaml', 'wifi_password: from-the-repo\n'],
    ['Secrets.yaml', 'api_password: from-the-repo\n'],
    ['.STORAGE/auth', '{"users": ["mallory"]}\n'],
    ['.Storage/auth', '{"users": ["mallory"]}\n'],
    ['.ha_version', '0.1\n'],
    ['Home-Assistant_v2.DB', 'not a database\n'],
  ])('never writes %s, says so, and deploys the rest', async (path, content) => {
    const before = await hostNow();
    const outcome = await deploy({ [path]: content, 'www/heartbeat.txt': `with ${path}\n` }, `Commit ${path}`);
    expect(outcome.status, JSON.stringify(outcome)).toBe('succeeded');
    expect(outcome.messages.plan).toContain(`protected, not written: ${path}`);
    expect(changedPaths(before, await hostNow())).toEqual(['www/heartbeat.txt']);
    await expectHostOnlyFilesUntouched();
    await house.commit({ [path]: null }, `Remove ${path} from the repository`);
  });
});

describe('modes and kinds', () => {
  it('follows an executable bit set and cleared, with the content unchanged', async () => {
    const script = '#!/bin/sh\necho hello\n';
    await deploy({ 'www/run.sh': script }, 'A script');
    expect((await stat(join(house.configRoot, 'www/run.sh'))).mode & 0o777).toBe(0o644);
    await git(house.work, 'update-index', '--chmod=+x', 'www/run.sh');
    await git(house.work, 'commit', '--quiet', '-m', 'Make it executable');
    await git(house.work, 'push', '--quiet', 'origin', 'HEAD:main');
    const executable = await outcomeOf(await git(house.work, 'rev-parse', 'HEAD'), 'Make it executable');
    expect(executable.status, JSON.stringify(executable)).toBe('succeeded');
    expect(executable.summary.filesChanged).toEqual(['www/run.sh']);
    expect((await stat(join(house.configRoot, 'www/run.sh'))).mode & 0o777).toBe(0o755);
    expect(await readFile(join(house.configRoot, 'www/run.sh'), 'utf8')).toBe(script);
    await git(house.work, 'update-index', '--chmod=-x', 'www/run.sh');
    await git(house.work, 'commit', '--quiet', '-m', 'Not executable after all');
    await git(house.work, 'push', '--quiet', 'origin', 'HEAD:main');
    const plain = await outcomeOf(await git(house.work, 'rev-parse', 'HEAD'), 'Not executable after all');
    expect(plain.status, JSON.stringify(plain)).toBe('succeeded');
    expect((await stat(join(house.configRoot, 'www/run.sh'))).mode & 0o777).toBe(0o644);
  });

  it('replaces a symlink with a file whose bytes are the link\'s target text, and back', async () => {
    // The host hashes a link by its target text: the kind must still tell them apart.
    const asLink = await deployCrafted([{ path: ['www', 'current.txt'], kind: 'symlink', content: 'heartbeat.txt' }], 'current.txt as a link');
    expect(asLink.status, JSON.stringify(asLink)).toBe('succeeded');
    expect(await readlink(join(house.configRoot, 'www/current.txt'))).toBe('heartbeat.txt');
    const asFile = await deploy({ 'www/current.txt': 'heartbeat.txt' }, 'current.txt as a file');
    expect(asFile.status, JSON.stringify(asFile)).toBe('succeeded');
    expect((await stat(join(house.configRoot, 'www/current.txt'))).isFile()).toBe(true);
    expect(await readFile(join(house.configRoot, 'www/current.txt'), 'utf8')).toBe('heartbeat.txt');
    await deploy({ 'www/current.txt': null }, 'No current.txt');
  });
});

describe('submodules', () => {
  it('deploys the rest, says the submodule was not deployed, and leaves what was there before', async () => {
    const component = 'custom_components/lights/__init__.py';
    const first = await deploy({ [component]: '"""lights"""\n' }, 'Vendor the lights component');
    expect(first.status, JSON.stringify(first)).toBe('succeeded');
    const before = await hostNow();
    const outcome = await outcomeOf(
      await pushCraftedCommit(house.work, [{ path: ['custom_components', 'lights'], kind: 'gitlink', content: 'c0ffee'.padEnd(40, '0') }, { path: ['www', 'heartbeat.txt'], kind: 'file', content: 'with a submodule\n' }], 'The lights component as a submodule', [component]),
      'The lights component as a submodule',
    );
    expect(outcome.status, JSON.stringify(outcome)).toBe('succeeded');
    expect(outcome.messages.plan).toMatch(/submodule.*custom_components\/lights/);
    expect(outcome.summary.filesDeleted).toEqual([]);
    expect(changedPaths(before, await hostNow())).toEqual(['www/heartbeat.txt']);
    expect(await readFile(join(house.configRoot, component), 'utf8')).toBe('"""lights"""\n');
    await expectNextGoodCommitDeploys({ [component]: null });
  });
});

describe('a 100 MB file', () => {
  function relayPid(): Promise<number> {
    return (async () => {
      for (const name of await readdir('/proc')) {
        if (!/^\d+$/.test(name)) continue;
        const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
        if (cmdline.includes('relay/cli.ts') && cmdline.includes(house.relayConfigPath)) return Number(name);
      }
      throw new Error('the relay process is not running');
    })();
  }
  /** Peak resident memory of a process so far (VmHWM), in MB. */
  async function peakRssMb(pid: number): Promise<number> {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
  }

  it('is deployed byte for byte without the relay holding it in memory, and removed again', async () => {
    // Random bytes do not compress: git storing them uncompressed only saves the test's time.
    await git(house.work, 'config', 'core.compression', '0');
    await git(house.bare, 'config', 'core.compression', '0');
    const bytes = randomBytes(100 * 1024 * 1024);
    const digest = createHash('sha256').update(bytes).digest('hex');
    await mkdir(join(house.work, 'www/video'), { recursive: true });
    await writeFile(join(house.work, 'www/video/tour.bin'), bytes);
    const pid = await relayPid();
    const peakBefore = await peakRssMb(pid);
    const added = await deploy({}, 'A 100 MB video');
    const peakAfter = await peakRssMb(pid);
    expect(added.status, JSON.stringify(added)).toBe('succeeded');
    const onHost = await readFile(join(house.configRoot, 'www/video/tour.bin'));
    expect(onHost.length).toBe(bytes.length);
    expect(createHash('sha256').update(onHost).digest('hex')).toBe(digest);
    console.info(`relay peak RSS ${peakBefore.toFixed(0)} MB before, ${peakAfter.toFixed(0)} MB after deploying 100 MB; steps ${JSON.stringify(added.summary.durationsMs)}`);
    // Streaming keeps the relay's peak well below the file's size; holding the archive whole added
    // 200 MB (the chunks, then Buffer.concat of them).
    expect(peakAfter - peakBefore).toBeLessThan(64);
    const removed = await deploy({ 'www/video/tour.bin': null }, 'No video');
    expect(removed.status, JSON.stringify(removed)).toBe('succeeded');
    console.info(`removing it: steps ${JSON.stringify(removed.summary.durationsMs)}`);
    await expect(stat(join(house.configRoot, 'www/video/tour.bin'))).rejects.toThrow(/ENOENT/);
  });
});
