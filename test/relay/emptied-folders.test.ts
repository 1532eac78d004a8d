// Issue 15, wall 4: a commit that removed a folder of 1,300 files left the host an empty tree of
// folders, with `__pycache__/*.pyc` beside each removed module. The deletes now remove the
// folders they emptied and the bytecode of the modules they removed, and nothing else: on the
// local transport's sh, and with busybox's sh and tools only (Home Assistant OS), as root and as
// the dedicated user the production guide recommends.
import { execFile } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moveIntoPlace } from '../../relay/pipeline/move-into-place.ts';
import { LocalHost } from '../../relay/transport/local-host.ts';
import type { TargetHost } from '../../relay/transport/target-host.ts';
import { startBusyboxHost } from '../support/busybox-host.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;

/** Every entry under `root`, folders with a trailing slash, sorted. */
async function tree(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(folder: string, prefix: string): Promise<void> {
    for (const name of await readdir(folder)) {
      const path = `${prefix}${name}`;
      const info = await lstat(join(folder, name));
      if (info.isDirectory()) {
        out.push(`${path}/`);
        await walk(join(folder, name), `${path}/`);
      } else out.push(path);
    }
  }
  await walk(root, '');
  return out.sort();
}

/** Files (path → text) and empty folders (path ending in '/'). */
async function plant(root: string, entries: Record<string, string> | readonly string[]): Promise<void> {
  const list = Array.isArray(entries) ? entries.map((p) => [p, `bytes of ${p}\n`] as const) : Object.entries(entries);
  for (const [path, text] of list) {
    if (path.endsWith('/')) await mkdir(join(root, path), { recursive: true });
    else {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    }
  }
}

interface Case {
  name: string;
  /** The relay's user for the busybox host; null: this process's own (root on CI). */
  user: string | null;
  open(): Promise<TargetHost>;
}

let sshd: Sshd | null = null;
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'lanyard-emptied-'));
  await chmod(scratch, 0o755);
  // The dedicated user of the production guide is the test sshd's own (created once, as root).
  if (isRoot) sshd = await startSshd();
});

afterAll(async () => {
  await sshd?.stop();
  await rm(scratch, { recursive: true, force: true });
});

const cases: Case[] = [
  { name: "the local transport's sh", user: null, open: async () => new LocalHost() },
  { name: "busybox's sh and tools", user: null, open: () => startBusyboxHost() },
  ...(isRoot ? [{ name: "busybox's sh and tools as the relay's dedicated user", user: 'lanyard-test', open: () => startBusyboxHost({ user: 'lanyard-test' }) }] : []),
];

describe.each(cases)('deleting files with $name', ({ user, open }) => {
  let host: TargetHost;
  let n = 0;

  beforeAll(async () => {
    host = await open();
  });
  afterAll(async () => {
    await host?.close();
  });

  /** A fresh config root holding `entries`, owned by the relay's user. */
  async function configWith(entries: Record<string, string> | readonly string[]): Promise<string> {
    n += 1;
    const root = join(scratch, `${user ?? 'self'}-${n}`, 'config');
    await mkdir(join(root, '.lanyard/staging'), { recursive: true });
    await plant(root, entries);
    if (user) await run('chown', ['-R', `${user}:`, dirname(root)]);
    return root;
  }

  async function deleteFrom(root: string, toDelete: string[]) {
    return moveIntoPlace(host, root, `${root}/.lanyard/staging/job`, [], toDelete);
  }

  it('removing an integration removes its folders and the bytecode of its modules, and leaves its neighbour', async () => {
    const root = await configWith([
      'configuration.yaml',
      'custom_components/gone/__init__.py',
      'custom_components/gone/sensor.py',
      'custom_components/gone/translations/en.json',
      'custom_components/gone/__pycache__/__init__.cpython-312.pyc',
      'custom_components/gone/__pycache__/sensor.cpython-312.opt-1.pyc',
      'custom_components/stays/__init__.py',
      'custom_components/stays/__pycache__/__init__.cpython-312.pyc',
    ]);
    const report = await deleteFrom(root, ['custom_components/gone/__init__.py', 'custom_components/gone/sensor.py', 'custom_components/gone/translations/en.json']);
    expect(await tree(root)).toEqual([
      '.lanyard/',
      '.lanyard/staging/',
      'configuration.yaml',
      'custom_components/',
      'custom_components/stays/',
      'custom_components/stays/__init__.py',
      'custom_components/stays/__pycache__/',
      'custom_components/stays/__pycache__/__init__.cpython-312.pyc',
    ]);
    expect(report.foldersRemoved.sort()).toEqual(['custom_components/gone', 'custom_components/gone/__pycache__', 'custom_components/gone/translations']);
  });

  it('a folder that still holds a host-only or protected file stays, with that file', async () => {
    const root = await configWith([
      'esphome/kitchen.yaml',
      'esphome/secrets.yaml',
      'esphome/.esphome/build/kitchen/.pioenvs/kitchen/firmware.bin',
      'www/cards/card.js',
      'www/snapshots/doorbell_0.jpg',
      'custom_components/old/__init__.py',
      // Bytecode of a module this deploy did not remove (its source went long ago): Home Assistant's.
      'custom_components/old/__pycache__/helpers.cpython-312.pyc',
      'custom_components/old/__pycache__/__init__.cpython-312.pyc',
    ]);
    const report = await deleteFrom(root, ['esphome/kitchen.yaml', 'www/cards/card.js', 'custom_components/old/__init__.py']);
    expect(await tree(root)).toEqual([
      '.lanyard/',
      '.lanyard/staging/',
      'custom_components/',
      'custom_components/old/',
      'custom_components/old/__pycache__/',
      'custom_components/old/__pycache__/helpers.cpython-312.pyc',
      'esphome/',
      'esphome/.esphome/',
      'esphome/.esphome/build/',
      'esphome/.esphome/build/kitchen/',
      'esphome/.esphome/build/kitchen/.pioenvs/',
      'esphome/.esphome/build/kitchen/.pioenvs/kitchen/',
      'esphome/.esphome/build/kitchen/.pioenvs/kitchen/firmware.bin',
      'esphome/secrets.yaml',
      'www/',
      'www/snapshots/',
      'www/snapshots/doorbell_0.jpg',
    ]);
    expect(await readFile(join(root, 'esphome/secrets.yaml'), 'utf8')).toBe('bytes of esphome/secrets.yaml\n');
    expect(report.foldersRemoved).toEqual(['www/cards']);
  });

  it('only the removed modules\' bytecode goes: not that of a module named with a dot, of another module, or of a name its glob characters would match', async () => {
    const root = await configWith([
      'x/foo.py',
      'x/f*o.py',
      'x/keep.py',
      'x/__pycache__/foo.cpython-312.pyc',
      'x/__pycache__/foo.cpython-312.opt-2.pyc',
      'x/__pycache__/foo.pypy39.pyc',
      'x/__pycache__/foo.bar.cpython-312.pyc',
      'x/__pycache__/keep.cpython-312.pyc',
      'x/__pycache__/fXo.cpython-312.pyc',
      'x/__pycache__/f*o.cpython-312.pyc',
      'x/__pycache__/foo.cpython-312.pyc.tmp',
    ]);
    await deleteFrom(root, ['x/foo.py', 'x/f*o.py']);
    expect((await tree(root)).filter((p) => p.startsWith('x/'))).toEqual([
      'x/',
      'x/__pycache__/',
      'x/__pycache__/fXo.cpython-312.pyc',
      'x/__pycache__/foo.bar.cpython-312.pyc',
      'x/__pycache__/foo.cpython-312.pyc.tmp',
      'x/__pycache__/keep.cpython-312.pyc',
      'x/keep.py',
    ]);
  });

  it('never removes a folder that was empty before the deploy, nor the config root', async () => {
    const root = await configWith(['only.yaml', 'a/b/c.yaml', 'a/empty/', 'kept-empty/']);
    await deleteFrom(root, ['only.yaml', 'a/b/c.yaml']);
    expect(await tree(root)).toEqual(['.lanyard/', '.lanyard/staging/', 'a/', 'a/empty/', 'kept-empty/']);
    const lone = await configWith(['lone.yaml']);
    await rm(join(lone, '.lanyard'), { recursive: true });
    await deleteFrom(lone, ['lone.yaml']);
    expect((await lstat(lone)).isDirectory()).toBe(true);
  });

  it('removes exactly the folders the deletes emptied, whatever the tree (generated)', async () => {
    const segment = fc.constantFrom('a', 'b', 'c', '__pycache__', '.esphome');
    const file = fc.tuple(fc.array(segment, { maxLength: 3 }), fc.constantFrom('m.py', 'n.yaml', 'm.cpython-312.pyc', 'x.bin')).map(([dirs, name]) => [...dirs, name].join('/'));
    const layout = fc.record({
      repo: fc.uniqueArray(file, { minLength: 1, maxLength: 12 }),
      hostOnly: fc.uniqueArray(file, { maxLength: 5 }),
      empty: fc.uniqueArray(fc.array(segment, { minLength: 1, maxLength: 3 }).map((d) => `${d.join('/')}/`), { maxLength: 3 }),
      pick: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
    });
    await fc.assert(
      fc.asyncProperty(layout, async ({ repo, hostOnly, empty, pick }) => {
        // A path cannot be a file and a folder at once: drop those a file's folder shadows.
        const all = [...new Set([...repo, ...hostOnly])];
        const folders = new Set(all.flatMap((p) => p.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
        const files = all.filter((p) => !folders.has(p));
        const emptyFolders = empty.filter((d) => !files.some((f) => `${f}/`.startsWith(d) || d.startsWith(`${f}/`)) && !folders.has(d.slice(0, -1)));
        const deleted = files.filter((p, i) => repo.includes(p) && pick[i % pick.length]);
        const root = await configWith([...files, ...emptyFolders]);
        const before = await tree(root);
        await deleteFrom(root, deleted);
        // The model: delete, then remove a folder while it is empty and held a deleted path.
        const expected = new Set(before.filter((p) => !deleted.includes(p)));
        const heldDeleted = (folder: string) => deleted.some((p) => p.startsWith(folder));
        const isPyc = (p: string) => /(^|\/)__pycache__\/([^/]+)\.cpython-312\.pyc$/.exec(p);
        for (const p of [...expected]) {
          const m = isPyc(p);
          if (m && deleted.includes(`${p.slice(0, p.lastIndexOf('__pycache__/'))}${m[2]}.py`)) expected.delete(p);
        }
        for (let changed = true; changed; ) {
          changed = false;
          for (const p of [...expected]) {
            if (!p.endsWith('/') || p.startsWith('.lanyard/')) continue;
            const pycacheOfRemoved = p.endsWith('__pycache__/') && deleted.some((d) => d.endsWith('.py') && `${d.slice(0, d.lastIndexOf('/') + 1)}__pycache__/` === p);
            if ((heldDeleted(p) || pycacheOfRemoved) && ![...expected].some((q) => q !== p && q.startsWith(p))) {
              expected.delete(p);
              changed = true;
            }
          }
        }
        expect(await tree(root)).toEqual([...expected].sort());
      }),
      { numRuns: user ? 15 : 40 },
    );
  });
});
