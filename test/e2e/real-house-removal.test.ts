// Issue 15, wall 4, on a tree of real shape over a real OpenSSH sshd: a commit that removes an
// integration leaves no empty folder and no orphan bytecode on the host, a folder that still holds
// a host-only file (ESPHome's build output, camera snapshots, the real esphome/secrets.yaml) stays
// with that file, and the rollback of such a deploy brings every file back byte for byte (the
// bytecode of the removed modules aside: a cache Home Assistant compiles again, never backed up).
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHouse, snapshotTree, sshTransportOf, type House } from '../support/house.ts';
import { buildRealHouse, REAL_HOUSE_SMALL, type RealHouseChange, type RealHouseTree, type TreeEntry } from '../support/real-house-tree.ts';
import { useRealHouse, type RealHouseRelay } from '../support/real-house-relay.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';

let sshd: Sshd;
let house: House;
let real: RealHouseTree;
let relay: RealHouseRelay & { initialSha: string };

const notLanyards = (path: string) => path === '.lanyard' || path.startsWith('.lanyard/');

/** Folders under `root` that hold nothing. */
async function emptyFolders(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(folder: string, prefix: string): Promise<void> {
    const names = await readdir(folder);
    if (!names.length && prefix) out.push(prefix.slice(0, -1));
    for (const name of names) if ((await lstat(join(folder, name))).isDirectory()) await walk(join(folder, name), `${prefix}${name}/`);
  }
  await walk(root, '');
  return out.filter((p) => !notLanyards(p)).sort();
}

/** Bytecode whose module is not on the host: `x/__pycache__/foo.<tag>.pyc` without `x/foo.py`. */
function orphanBytecode(snapshot: Record<string, unknown>): string[] {
  return Object.keys(snapshot).filter((path) => {
    const match = /^(.*?)__pycache__\/([^/.]+)\.[^/.]+(\.opt-\d)?\.pyc$/.exec(path);
    return match && !(`${match[1]}${match[2]}.py` in snapshot);
  });
}

/** Bytecode Python would have written for the modules `removes` deletes. */
function bytecodeOf(removes: readonly string[]): string[] {
  return removes.filter((p) => p.endsWith('.py')).map((p) => `${p.slice(0, p.lastIndexOf('/') + 1)}__pycache__/${p.slice(p.lastIndexOf('/') + 1, -3)}.cpython-312.pyc`);
}

/** A change that deletes `removes` (repository paths) and nothing else. */
function removing(message: string, removes: string[]): RealHouseChange {
  const gone = new Set(removes);
  return { message, writes: [], removes, after: real.repo.filter((e: TreeEntry) => !gone.has(e.path)) };
}

beforeAll(async () => {
  sshd = await startSshd();
  house = await createHouse({ edgeUrl: 'http://127.0.0.1:9', transport: sshTransportOf(sshd) });
  // Links relative, as an owner commits them until the relay reads /config/... as Home Assistant does.
  real = buildRealHouse({ ...REAL_HOUSE_SMALL, absoluteLinks: false });
  relay = await useRealHouse(house, real, sshd.username);
}, 120_000);

afterAll(async () => {
  await relay?.close();
  await house?.close();
  await sshd?.stop();
});

describe('a commit that removes a folder, on a real house over ssh', () => {
  it('the first deploy takes a folder link to an integration whose __pycache__ holds Home Assistant\'s bytecode', async () => {
    const link = real.links.find((l) => l.path === 'custom_components/spook_inverse')!;
    const bytecode = real.host.filter((h) => h.path.startsWith(`${link.reaches}/__pycache__/`));
    expect(bytecode.length).toBeGreaterThan(0);
    const { outcome } = await relay.execute('deploy', relay.initialSha);
    expect(outcome.status, outcome.reason ?? '').toBe('succeeded');
    expect((await lstat(join(house.configRoot, link.path))).isSymbolicLink()).toBe(true);
    for (const file of bytecode) expect((await lstat(join(house.configRoot, file.path))).isFile(), file.path).toBe(true);
  }, 60_000);

  it('removing an integration folder leaves no empty folder and no orphan bytecode on the host', async () => {
    const change = real.folderRemoved(10, 'custom_components');
    const before = await snapshotTree(house.configRoot, notLanyards);
    // Home Assistant compiled the integration's modules: its bytecode sits beside them.
    expect(bytecodeOf(change.removes).filter((p) => !(p in before))).toEqual([]);
    const emptyBefore = await emptyFolders(house.configRoot);

    const { outcome, said } = await relay.execute('deploy', await relay.commit(change));
    expect(outcome.status, outcome.reason ?? '').toBe('succeeded');
    await expect(lstat(join(house.configRoot, change.removedFolder!))).rejects.toThrow(/ENOENT/);
    const after = await snapshotTree(house.configRoot, notLanyards);
    expect(Object.keys(after).filter((p) => p.startsWith(`${change.removedFolder}/`))).toEqual([]);
    expect(await emptyFolders(house.configRoot)).toEqual(emptyBefore);
    expect(orphanBytecode(after)).toEqual([]);
    // Everything else is as it was.
    const untouched = (p: string) => p !== change.removedFolder && !p.startsWith(`${change.removedFolder}/`);
    expect(Object.fromEntries(Object.entries(after).filter(([p]) => untouched(p)))).toEqual(Object.fromEntries(Object.entries(before).filter(([p]) => untouched(p))));
    const folders = new Set(Object.keys(before).filter((p) => before[p]!.type === 'dir' && !untouched(p)));
    expect(said('apply')).toContain(`deleted ${change.removes.length} files, removed ${folders.size} emptied folders`);
  });

  it('a folder that still holds a host-only or protected file stays, with that file', async () => {
    // The ESPHome devices moved to their own repository, and the snapshots folder is no longer
    // kept in git: ESPHome's build output, the real esphome/secrets.yaml and the snapshots stay.
    const removes = real.repo.filter((e) => /^esphome\/[^/]+\.yaml$/.test(e.path) && !e.path.endsWith('secrets.yaml')).map((e) => e.path);
    removes.push('www/snapshots/.gitkeep');
    const before = await snapshotTree(house.configRoot, notLanyards);
    const hostOnly = [...real.unmanagedOnHost.filter((p) => p.startsWith('esphome/') || p.startsWith('www/snapshots/')), 'esphome/secrets.yaml'];
    expect(hostOnly.length).toBeGreaterThan(8);

    const { outcome } = await relay.execute('deploy', await relay.commit(removing('Move the ESPHome devices out, stop tracking snapshots/', removes)));
    expect(outcome.status, outcome.reason ?? '').toBe('succeeded');
    const after = await snapshotTree(house.configRoot, notLanyards);
    for (const path of removes) expect(after[path], path).toBeUndefined();
    for (const path of hostOnly) expect(after[path], path).toEqual(before[path]);
    for (const folder of ['esphome', 'esphome/.esphome', 'www/snapshots']) expect(after[folder]?.type, folder).toBe('dir');
  });

  it('a rollback of a deploy that removed an integration brings every file back byte for byte', async () => {
    const first = real.folderRemoved(10, 'custom_components');
    const change = real.folderRemoved(real.repo.filter((e) => e.path.startsWith(`${first.removedFolder}/`)).length + 1, 'custom_components');
    expect(change.removedFolder).not.toBe(first.removedFolder);
    const before = await snapshotTree(house.configRoot, notLanyards);
    const sha = await relay.commit(change);
    const checkConfig = house.ha.checkConfig.bind(house.ha);
    house.ha.checkConfig = () => ({ result: 'invalid', errors: 'Invalid config for [sensor]: a test says so', warnings: null });
    try {
      const { outcome, said } = await relay.execute('deploy', sha);
      expect(outcome.status, outcome.reason ?? '').toBe('rolled_back');
      expect(said('apply')).toMatch(/removed \d+ emptied folders/);
    } finally {
      house.ha.checkConfig = checkConfig;
    }
    // The bytecode of the removed modules was a cache; the backup never holds __pycache__.
    const cache = new Set(bytecodeOf(change.removes));
    const expected = Object.fromEntries(Object.entries(before).filter(([p]) => !cache.has(p)));
    for (const folder of Object.keys(expected)) {
      if (folder.endsWith('__pycache__') && !Object.keys(expected).some((p) => p.startsWith(`${folder}/`))) delete expected[folder];
    }
    expect(Object.keys(before).length - Object.keys(expected).length).toBeGreaterThan(cache.size);
    expect(await snapshotTree(house.configRoot, notLanyards)).toEqual(expected);
  });
});
