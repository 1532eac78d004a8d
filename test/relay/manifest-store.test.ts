// The manifest store remembers what it last wrote, so a deploy of a 15,000-file house does not
// re-read and re-check 2.7 MB of JSON each time. Memory must never outvote the host: an edited,
// restored or removed manifest on the host is what the next read gives.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../../relay/pipeline/manifest.ts';
import { serializeManifest } from '../../relay/pipeline/manifest.ts';
import { ManifestStore } from '../../relay/pipeline/manifest-store.ts';
import { LocalHost } from '../../relay/transport/local-host.ts';

const host = new LocalHost();
let dir: string;
let configRoot: string;
const hash = (c: string) => c.repeat(64);
const manifestOf = (sha: string, files: [string, string][]): Manifest => ({
  sha: sha.repeat(40),
  deployedAt: 1_700_000_000_000,
  files: files.map(([path, c]) => ({ path, sha256: hash(c), mode: 0o644, size: 10, type: 'file' as const })),
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lanyard-manifest-store-'));
  configRoot = join(dir, 'config');
  await mkdir(join(configRoot, '.lanyard'), { recursive: true });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the manifest store', () => {
  it('gives back what it wrote, and what the host holds once someone changed it there', async () => {
    const store = new ManifestStore(join(dir, 'state'), 'home', configRoot);
    const first = manifestOf('a', [['automations.yaml', 'a']]);
    await store.write(host, first);
    expect(await store.read(host)).toEqual(first);

    // Restored from an older snapshot of the host, behind the relay's back.
    const older = manifestOf('b', [['automations.yaml', 'b'], ['scripts.yaml', 'c']]);
    await writeFile(join(configRoot, '.lanyard', 'manifest.json'), serializeManifest(older));
    expect(await store.read(host)).toEqual(older);
  });

  it('refuses a manifest damaged on the host even after it wrote a good one', async () => {
    const store = new ManifestStore(join(dir, 'state'), 'home', configRoot);
    await store.write(host, manifestOf('a', [['automations.yaml', 'a']]));
    const path = join(configRoot, '.lanyard', 'manifest.json');
    await writeFile(path, (await readFile(path, 'utf8')).replace(hash('a'), 'not-a-hash'));
    await expect(store.read(host)).rejects.toThrow(/manifest .* is damaged/);
  });

  it("falls back to the relay's copy when the host's is gone, and to nothing after a removal", async () => {
    const store = new ManifestStore(join(dir, 'state'), 'home', configRoot);
    const written = manifestOf('a', [['automations.yaml', 'a']]);
    await store.write(host, written);
    await rm(join(configRoot, '.lanyard', 'manifest.json'));
    expect(await store.read(host)).toEqual(written);
    await store.write(host, null);
    expect(await store.read(host)).toBeNull();
  });

  it('reads the same manifest a second store wrote (a relay restarted with its state)', async () => {
    const written = manifestOf('c', [['configuration.yaml', 'c']]);
    await new ManifestStore(join(dir, 'state'), 'home', configRoot).write(host, written);
    expect(await new ManifestStore(join(dir, 'state'), 'home', configRoot).read(host)).toEqual(written);
  });

  it("keeps a job's new manifest for recovery, gives it only to that job, and records the same bytes", async () => {
    const store = new ManifestStore(join(dir, 'state'), 'home', configRoot);
    const next = manifestOf('d', [['automations.yaml', 'd'], ['scripts.yaml', 'e']]);
    await store.writePending('dep_01jobaaaaaaaaaaaaaaaaaaaaa', next);
    // A relay started again after a kill: a new store reads what the old one kept.
    const restarted = new ManifestStore(join(dir, 'state'), 'home', configRoot);
    expect(await restarted.readPending('dep_01jobaaaaaaaaaaaaaaaaaaaaa')).toEqual(next);
    expect(await restarted.readPending('dep_01otheraaaaaaaaaaaaaaaaaa')).toBeNull();
    await store.write(host, next);
    expect(await readFile(join(configRoot, '.lanyard', 'manifest.json'), 'utf8')).toBe(serializeManifest(next));
  });
});
