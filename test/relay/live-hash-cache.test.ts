// The live-hash cache lets a plan re-read only the files written since the last one. It must never
// hide an edit: not one made in the same second, of the same size, nor one that keeps the mtime.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, utimes, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashLiveTree, LiveHashCache } from '../../relay/pipeline/live-tree.ts';
import { LocalHost } from '../../relay/transport/local-host.ts';

const host = new LocalHost();
let root: string;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const hashOf = async (cache: LiveHashCache, path: string) => (await hashLiveTree(host, root, cache)).files.find((f) => f.path === path)?.sha256;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'lanyard-live-hash-'));
  await writeFile(join(root, 'automations.yaml'), 'alias: one\n');
  await writeFile(join(root, 'scripts.yaml'), 'script: a\n');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('hashing the live tree with a cache', () => {
  it('sees an edit of the same size made in the same second, right after a hashing', async () => {
    const cache = new LiveHashCache();
    expect(await hashOf(cache, 'automations.yaml')).toBe(sha('alias: one\n'));
    await writeFile(join(root, 'automations.yaml'), 'alias: two\n');
    expect(await hashOf(cache, 'automations.yaml')).toBe(sha('alias: two\n'));
  });

  it('sees an edit that puts the old mtime back', async () => {
    const cache = new LiveHashCache();
    const before = await stat(join(root, 'scripts.yaml'));
    // Old enough that the first hashing may trust it (its ctime is what gives the edit away).
    await utimes(join(root, 'scripts.yaml'), before.atime, new Date(before.mtimeMs - 60_000));
    await new Promise((r) => setTimeout(r, 1100));
    expect(await hashOf(cache, 'scripts.yaml')).toBe(sha('script: a\n'));
    const kept = await stat(join(root, 'scripts.yaml'));
    await writeFile(join(root, 'scripts.yaml'), 'script: b\n');
    await utimes(join(root, 'scripts.yaml'), kept.atime, kept.mtime);
    expect(await hashOf(cache, 'scripts.yaml')).toBe(sha('script: b\n'));
  });

  it('gives the same answer as hashing everything, for a tree hashed twice', async () => {
    const cache = new LiveHashCache();
    await hashLiveTree(host, root, cache);
    await new Promise((r) => setTimeout(r, 1100));
    await hashLiveTree(host, root, cache);
    await writeFile(join(root, 'new.yaml'), 'new: true\n');
    // The same answer; only the cost (`hashed`: how many files were read) differs.
    const { hashed: readWithCache, ...withCache } = await hashLiveTree(host, root, cache);
    const { hashed: readWithout, ...without } = await hashLiveTree(host, root);
    expect(withCache).toEqual(without);
    expect(readWithCache).toBeLessThanOrEqual(readWithout);
  });
});
