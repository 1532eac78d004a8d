// The real-house generator that tests and benchmarks stand on: it must give the same tree on every
// run, have the shape of real configurations at each size, survive git as a real repository does
// (links as links, scripts executable), load in Home Assistant's config check with the host's
// secrets, and make second commits that change exactly what they say.
import { execFile } from 'node:child_process';
import { lstat, mkdtemp, readFile, readlink, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinkTree, resolveLink } from '../../relay/pipeline/link-resolution.ts';
import { normaliseRepoPath } from '../../relay/pipeline/path-safety.ts';
import { isProtected } from '../../relay/pipeline/protected-paths.ts';
import { isolatedGitEnv } from './git-fixture.ts';
import { checkConfigDir } from './home-assistant-standin.ts';
import { snapshotTree } from './house.ts';
import { REAL_HOUSE_LARGE, REAL_HOUSE_MEDIUM, REAL_HOUSE_SMALL, buildRealHouse, commitWorkTree, type RealHouseSize, type RealHouseTree, type TreeFile } from './real-house-tree.ts';

const run = promisify(execFile);
const MiB = 1024 * 1024;

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'lanyard-real-house-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function git(dir: string, ...args: string[]): Promise<string> {
  return (await run('git', args, { cwd: dir, env: isolatedGitEnv(dir), maxBuffer: 64 << 20 })).stdout;
}

/** `git ls-tree -r` of HEAD: path → mode. */
async function committedModes(dir: string, rev = 'HEAD'): Promise<Map<string, string>> {
  const out = await git(dir, 'ls-tree', '-r', '-z', rev);
  return new Map(out.split('\0').filter(Boolean).map((line) => [line.slice(line.indexOf('\t') + 1), line.split(' ')[0]!]));
}

async function changedPaths(dir: string): Promise<string[]> {
  return (await git(dir, 'diff', '--name-only', '-z', '--no-renames', 'HEAD~1', 'HEAD')).split('\0').filter(Boolean).sort();
}

/** Where one link of the tree leads on its own, read against `roots` as the relay reads it; the refusal's words otherwise. */
function reached(link: { path: string; target: string }, roots: string | string[]): string {
  const resolution = resolveLink(new LinkTree([], [{ path: link.path, type: 'symlink', linkTarget: link.target }]), link.path, roots, () => null);
  return resolution.ok ? resolution.resolved : resolution.why;
}

function share(house: RealHouseTree, prefix: string): number {
  return house.repo.filter((e) => e.path.startsWith(prefix)).length / house.repo.length;
}

function gzipRatio(house: RealHouseTree, files: readonly TreeFile[]): number {
  const bytes = Buffer.concat(files.slice(0, 12).map((f) => house.contentOf(f)));
  return bytes.length / gzipSync(bytes).length;
}

describe('the real-house tree is the same on every run', () => {
  it('writes byte-identical repositories and host folders from two separate builds, committed to the same sha', async () => {
    const written = [];
    for (const name of ['one', 'two']) {
      const house = buildRealHouse(REAL_HOUSE_SMALL);
      const repo = join(scratch, `same-${name}`, 'repo');
      await house.writeRepository(repo);
      await house.writeHostState(join(scratch, `same-${name}`, 'host'));
      const snapshot = { repo: await snapshotTree(repo), host: await snapshotTree(join(scratch, `same-${name}`, 'host')) };
      written.push({ snapshot, sha: await commitWorkTree(repo, 'The whole configuration', house.repo) });
    }
    expect(Object.keys(written[0]!.snapshot.repo).length).toBeGreaterThan(REAL_HOUSE_SMALL.files);
    expect(written[1]!.snapshot).toEqual(written[0]!.snapshot);
    expect(written[1]!.sha).toBe(written[0]!.sha);
  });

  it("gives another seed other bytes in every generated file, and the same paths, kinds and links", () => {
    const house = buildRealHouse(REAL_HOUSE_SMALL);
    const other = buildRealHouse({ ...REAL_HOUSE_SMALL, seed: 'another-house' });
    expect(other.repo.map((e) => [e.path, e.kind])).toEqual(house.repo.map((e) => [e.path, e.kind]));
    expect(other.links).toEqual(house.links);
    const generated = house.files.filter((f) => f.size > 256 && !['configuration', 'gitignore', 'yamllint', 'ci-workflow', 'secrets-placeholder', 'esphome-secrets-placeholder'].includes(f.content));
    expect(generated.length).toBeGreaterThan(200);
    for (const file of generated) expect(other.contentOf(file).equals(house.contentOf(file)), file.path).toBe(false);
  });

  it('plans the large house identically twice, down to the bytes of files of every kind', () => {
    const first = buildRealHouse(REAL_HOUSE_LARGE);
    const second = buildRealHouse(REAL_HOUSE_LARGE);
    expect(second.repo).toEqual(first.repo);
    expect(second.host).toEqual(first.host);
    const sample = first.files.filter((_, i) => i % 97 === 0).filter((f) => f.size < 4 * MiB);
    expect(new Set(sample.map((f) => f.content)).size).toBeGreaterThan(10);
    for (const file of sample) expect(second.contentOf(file).equals(first.contentOf(file)), file.path).toBe(true);
  });
});

describe.each([
  ['small', REAL_HOUSE_SMALL],
  ['medium', REAL_HOUSE_MEDIUM],
  ['large', REAL_HOUSE_LARGE],
] as [string, RealHouseSize][])('the %s real house has the shape of a real configuration', (_name, size) => {
  const house = buildRealHouse(size);

  it('holds exactly the asked number of entries and the asked bytes within 3%', () => {
    expect(house.repo.length).toBe(size.files);
    expect(house.repoBytes).toBeGreaterThan(size.totalBytes * 0.97);
    expect(house.repoBytes).toBeLessThan(size.totalBytes * 1.03);
  });

  it('is mostly custom integrations and HACS cards, with the hand-kept YAML around them', () => {
    expect(share(house, 'custom_components/')).toBeGreaterThan(0.35);
    expect(share(house, 'custom_components/')).toBeLessThan(0.5);
    expect(share(house, 'www/community/')).toBeGreaterThan(0.2);
    expect(share(house, 'www/community/')).toBeLessThan(0.35);
    for (const folder of ['packages/', 'automations/', 'dashboards/', 'blueprints/automation/', 'esphome/', 'themes/', 'python_scripts/', 'scripts/']) {
      expect(house.repo.some((e) => e.path.startsWith(folder)), folder).toBe(true);
    }
    const integrations = house.files.filter((f) => f.path.startsWith('custom_components/'));
    for (const name of ['manifest.json', 'services.yaml', '__init__.py']) expect(integrations.some((f) => f.path.endsWith(`/${name}`)), name).toBe(true);
    expect(integrations.some((f) => /\/translations\/[^/]+\.json$/.test(f.path))).toBe(true);
    expect(Math.max(...integrations.map((f) => f.path.split('/').length))).toBeGreaterThanOrEqual(6);
  });

  it('has absolute /config and /homeassistant links, a folder link, relative links and executables', () => {
    const absolute = house.absoluteLinks.map((l) => l.target);
    expect(absolute).toContain('/config/custom_components/spook/integrations/spook_inverse');
    expect(absolute.some((t) => t.startsWith('/homeassistant/'))).toBe(true);
    expect(house.links.some((l) => l.absolute && l.names === 'folder')).toBe(true);
    expect(house.links.some((l) => !l.absolute && l.names === 'folder')).toBe(true);
    expect(house.links.some((l) => !l.absolute && l.names === 'file')).toBe(true);
    expect(house.executables.length).toBeGreaterThanOrEqual(3);
    for (const command of house.facts.shellCommands) expect(house.executables.map((e) => e.path)).toContain(command.script);
  });

  it('commits some __pycache__ and a placeholder secrets file, and the host holds Home Assistant state', () => {
    expect(house.ownedByHost.some((f) => /\/__pycache__\/[^/]+\.cpython-312\.pyc$/.test(f.path))).toBe(true);
    expect(house.ownedByHost.map((f) => f.path)).toContain('esphome/secrets.yaml');
    const host = house.host.map((h) => h.path);
    expect(host.filter((p) => p.startsWith('.storage/')).length).toBeGreaterThanOrEqual(50);
    for (const path of ['home-assistant_v2.db', 'home-assistant_v2.db-wal', 'home-assistant_v2.db-shm', 'home-assistant.log', '.HA_VERSION', '.uuid', 'secrets.yaml', 'ip_bans.yaml', 'known_devices.yaml']) {
      expect(host, path).toContain(path);
    }
    for (const folder of ['.cloud/', 'deps/', 'tts/']) expect(host.some((p) => p.startsWith(folder)), folder).toBe(true);
    // Python's bytecode for every module of every custom integration.
    const modules = house.files.filter((f) => f.path.startsWith('custom_components/') && f.path.endsWith('.py')).length;
    expect(host.filter((p) => p.endsWith('.cpython-312.pyc')).length).toBe(modules);
    const hostPaths = new Set(host);
    const owned = new Set(house.ownedByHost.map((f) => f.path));
    expect(house.repo.filter((e) => hostPaths.has(e.path) && !owned.has(e.path))).toEqual([]);
  });

  it('has multi-MB files and odd but legal names', () => {
    expect(Math.max(...house.files.map((f) => f.size))).toBeGreaterThanOrEqual(2 * MiB);
    const paths = new Set(house.repo.map((e) => e.path));
    for (const odd of house.oddNames) expect(paths.has(odd), odd).toBe(true);
    expect(house.oddNames.some((p) => p.includes(' '))).toBe(true);
    expect(house.oddNames.some((p) => /[^\x00-\x7f]/.test(p))).toBe(true);
    expect(house.oddNames.some((p) => p.split('/').slice(1).some((s) => s.startsWith('-')))).toBe(true);
  });
});

describe('the large real house', () => {
  const house = buildRealHouse(REAL_HOUSE_LARGE);

  it('has HACS bundles of several MB among thousands of small card files', () => {
    const cards = house.files.filter((f) => f.path.startsWith('www/community/'));
    expect(cards.filter((f) => f.path.endsWith('.js') && f.size >= 2 * MiB).length).toBeGreaterThanOrEqual(3);
    expect(cards.filter((f) => f.size < 32 * 1024).length).toBeGreaterThan(cards.length / 2);
  });

  it('can remove a folder of over 1,300 files, as uninstalling a big integration does', () => {
    const change = house.folderRemoved(1_300, 'custom_components');
    expect(change.removes.length).toBeGreaterThanOrEqual(1_300);
    expect(change.removes.length).toBeLessThan(2_000);
    expect(change.removedFolder).toMatch(/^custom_components\/[^/]+$/);
  });
});

describe('the content of a real house', () => {
  const house = buildRealHouse(REAL_HOUSE_SMALL);
  const of = (kind: TreeFile['content']) => house.files.filter((f) => f.content === kind);

  it('compresses like text, minified bundles and media each do', () => {
    expect(gzipRatio(house, of('package'))).toBeGreaterThan(3);
    expect(gzipRatio(house, of('python'))).toBeGreaterThan(3);
    const javascript = gzipRatio(house, of('javascript'));
    expect(javascript).toBeGreaterThan(2.5);
    expect(javascript).toBeLessThan(5);
    for (const kind of ['png', 'jpeg', 'gzip', 'tflite'] as const) expect(gzipRatio(house, of(kind)), kind).toBeLessThan(1.01);
  });

  it('writes automations.yaml as the UI does', () => {
    const text = house.contentOf(of('automations-ui')[0]!).toString();
    expect(text).toMatch(/^- id: '\d{13}'\n {2}alias: .+\n {2}description: ''\n {2}triggers:\n {2}- trigger: /);
    expect(text).toContain('  mode: single\n');
    expect(text.match(/^- id: /gm)?.length).toBe(house.facts.automations);
  });

  it('writes every file at its planned size, links as links and scripts executable', async () => {
    const dir = join(scratch, 'sizes');
    await house.writeRepository(dir);
    for (const entry of house.repo) {
      const info = await lstat(join(dir, entry.path));
      if (entry.kind === 'symlink') expect(await readlink(join(dir, entry.path)), entry.path).toBe(entry.target);
      else {
        expect(info.size, entry.path).toBe(entry.size);
        expect(info.mode & 0o111, entry.path).toBe(entry.kind === 'executable' ? 0o111 : 0);
      }
    }
  });

  it("loads in Home Assistant's config check once the host's secrets are beside it, and not without them", async () => {
    const dir = join(scratch, 'checked');
    await house.writeRepository(dir);
    await house.writeHostState(dir);
    expect(checkConfigDir(dir)).toEqual([]);
    await unlink(join(dir, 'secrets.yaml'));
    expect(checkConfigDir(dir).join('\n')).toMatch(/Secret \w+ not defined/);
  });

  it("holds only paths the relay's guard accepts, with every link reaching the path the tree says", () => {
    for (const entry of house.repo) expect(normaliseRepoPath(entry.path)).toBe(entry.path);
    // Read as Home Assistant does: `/config` in its container, `/homeassistant` in an add-on's.
    for (const link of house.links) expect(reached(link, ['/srv/homeassistant/config', '/config', '/homeassistant']), link.path).toBe(link.reaches);
  });

  it('writes the absolute links relative when asked, reaching the same paths', () => {
    const relative = buildRealHouse({ ...REAL_HOUSE_SMALL, absoluteLinks: false });
    expect(relative.absoluteLinks).toEqual([]);
    expect(relative.links.map((l) => [l.path, l.reaches])).toEqual(house.links.map((l) => [l.path, l.reaches]));
    for (const link of relative.links) expect(reached(link, '/srv/homeassistant/config'), link.path).toBe(link.reaches);
    expect(relative.links.find((l) => l.path === 'custom_components/spook_inverse')?.target).toBe('spook/integrations/spook_inverse');
  });

  it("marks as Home Assistant's exactly the paths the relay protects", () => {
    for (const file of house.host) expect(isProtected(file.path), file.path).toBe(file.ownership === 'protected');
    for (const file of house.ownedByHost) expect(isProtected(file.path), file.path).toBe(true);
    for (const entry of house.deployed) expect(isProtected(entry.path), entry.path).toBe(false);
    expect(house.deployed.length + house.ownedByHost.length).toBe(house.repo.length);
  });
});

describe('a real house in git', () => {
  const house = buildRealHouse(REAL_HOUSE_SMALL);
  let work: string;

  beforeAll(async () => {
    work = join(scratch, 'git-work');
    await house.writeRepository(work);
    await commitWorkTree(work, 'The whole configuration', house.repo);
  });

  it('round-trips through git add -A: links as mode 120000 with their text, scripts as 100755, nothing ignored', async () => {
    const modes = await committedModes(work);
    expect([...modes.keys()].sort()).toEqual(house.repo.map((e) => e.path).sort());
    for (const link of house.links) {
      expect(modes.get(link.path), link.path).toBe('120000');
      expect(await git(work, 'cat-file', 'blob', `HEAD:${link.path}`)).toBe(link.target);
    }
    for (const script of house.executables) expect(modes.get(script.path), script.path).toBe('100755');
    expect(modes.get('configuration.yaml')).toBe('100644');
    expect(await git(work, 'status', '--porcelain')).toBe('');
  });

  it('commits one edited automation as a change of automations.yaml alone, in one place', async () => {
    const change = house.oneAutomationChanged(1);
    await house.writeChange(work, change);
    await commitWorkTree(work, change.message, change.after);
    expect(await changedPaths(work)).toEqual(['automations.yaml']);
    const records = (text: string) => text.split(/^(?=- id: )/m);
    const before = records(await git(work, 'show', 'HEAD~1:automations.yaml'));
    const after = records(await readFile(join(work, 'automations.yaml'), 'utf8'));
    expect(after.length).toBe(before.length);
    expect(after.filter((record, i) => record !== before[i]).map((record) => record.split('\n')[0])).toEqual([before.find((record, i) => record !== after[i])!.split('\n')[0]]);
    expect((await readFile(join(work, 'automations.yaml'))).length).toBe(change.writes[0]!.size);
  });

  it('commits 100 changed files as exactly those 100 paths, each at its size', async () => {
    const change = house.filesChanged(100, 2);
    await house.writeChange(work, change);
    await commitWorkTree(work, change.message, change.after);
    expect(await changedPaths(work)).toEqual(change.writes.map((w) => w.path).sort());
    expect(new Set(change.writes.map((w) => w.path.split('/')[0])).size).toBeGreaterThan(5);
  });

  it('commits a removed folder as the deletion of every file under it and nothing else', async () => {
    const change = house.folderRemoved(20);
    await house.writeChange(work, change);
    await commitWorkTree(work, change.message, change.after);
    expect(change.removes.length).toBeGreaterThanOrEqual(20);
    expect(await changedPaths(work)).toEqual([...change.removes].sort());
    const modes = await committedModes(work);
    expect([...modes.keys()].some((p) => p.startsWith(`${change.removedFolder}/`))).toBe(false);
    expect(modes.size).toBe(change.after.length);
  });
});
