// The generated real house, committed once and kept under /tmp between benchmark runs: writing
// and committing the large tree (15,000 entries, 400 MiB) takes about 25 s of CPU, which every
// deploy benchmark would otherwise pay again. The cache is keyed by size and seed (and a version,
// bumped when the layout of the cache changes); the generator gives the same bytes, and
// commitWorkTree the same sha, for the same key, so a cached repository is the one a fresh run
// would make. Delete /tmp/lanyard-bench-cache (or set BENCH_CACHE_DIR) to generate it again.
//
// A benchmark gets its own copies: a bare repository cloned locally (git hardlinks the objects,
// which it never writes in place) and a work tree whose files are hard links to the cache's. A
// file of that work tree must therefore be replaced (removed, then written), never written in
// place: writeChange does so, and so does copyOfWorkTree's `commitChange`.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { git } from '../../test/support/house.ts';
import { buildRealHouse, commitWorkTree, DEFAULT_REAL_HOUSE_SEED, type RealHouseChange, type RealHouseTree, type TreeEntry } from '../../test/support/real-house-tree.ts';
import type { BenchSize } from './bench-sizes.ts';

const run = promisify(execFile);
// Raised whenever the generator writes other bytes, so a cached repository never stands for a stale tree.
const CACHE_VERSION = 3;
const CACHE_ROOT = process.env.BENCH_CACHE_DIR ?? '/tmp/lanyard-bench-cache';

export interface CachedRealHouse {
  tree: RealHouseTree;
  /** The commit of the whole tree (the same for the same size and seed). */
  sha: string;
  /** Where the cache keeps the committed work tree and its bare clone. */
  dir: string;
  /** How long getting it took, and whether it was generated in this run. */
  ms: number;
  generated: boolean;
}

/** The real house of `size`, committed: from the cache, or generated into it. */
export async function cachedRealHouse(size: BenchSize, seed = DEFAULT_REAL_HOUSE_SEED): Promise<CachedRealHouse> {
  const started = performance.now();
  // Absolute /config/... links, as real houses commit them: the relay maps them onto its config root.
  const tree = buildRealHouse({ files: size.files, totalBytes: size.totalBytes, seed, absoluteLinks: true });
  const dir = join(CACHE_ROOT, `v${CACHE_VERSION}-${size.name}-${size.files}-${size.totalBytes}-${seed}`);
  const ready = join(dir, 'ready');
  if (existsSync(ready)) return { tree, sha: (await readFile(ready, 'utf8')).trim(), dir, ms: performance.now() - started, generated: false };

  // Built beside the final folder and renamed into place, so a run stopped half-way leaves no half cache.
  const building = `${dir}.building-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  await mkdir(building, { recursive: true });
  await tree.writeRepository(join(building, 'work'));
  const sha = await commitWorkTree(join(building, 'work'), 'The whole configuration', tree.repo);
  await run('git', ['clone', '--quiet', '--bare', join(building, 'work'), join(building, 'repo.git')]);
  // Packed, as GitHub serves a repository: a fetch from loose objects would spend its time
  // compressing them (16 s for the medium house), which no real remote makes a relay wait for.
  await run('git', ['-C', join(building, 'repo.git'), 'repack', '-a', '-d', '-q']);
  await writeFile(join(building, 'ready'), `${sha}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(building, dir);
  return { tree, sha, dir, ms: performance.now() - started, generated: true };
}

export interface HouseRepository {
  bare: string;
  work: string;
  /** The tree the last commit holds (the whole house, then each change applied). */
  current: readonly TreeEntry[];
  /** Writes a change of the real house into the work tree, commits it and pushes it to main; returns the sha. */
  commitChange(change: RealHouseChange): Promise<string>;
}

/** A bare repository holding the cached house at main, and a work tree checked out at it, under `dir`. */
export async function copyOfRepository(cached: CachedRealHouse, dir: string): Promise<HouseRepository> {
  const bare = join(dir, 'ha-config.git');
  const work = join(dir, 'work');
  await run('git', ['clone', '--quiet', '--bare', '--local', join(cached.dir, 'repo.git'), bare]);
  await run('git', ['clone', '--quiet', '--no-checkout', '--local', bare, work]);
  // The files as hard links to the cache's (a second copy of 400 MiB would take seconds), and
  // the index read from the commit; the first `git add` hashes the files again, once.
  const names = (await readdir(join(cached.dir, 'work'))).filter((name) => name !== '.git');
  await run('cp', ['-al', ...names.map((name) => join(cached.dir, 'work', name)), `${work}/`]);
  await git(work, 'reset', '--quiet');
  const repository: HouseRepository = {
    bare,
    work,
    current: cached.tree.repo,
    async commitChange(change) {
      // writeChange removes each path before writing it: a hard link to the cache is replaced, never written through.
      await cached.tree.writeChange(work, change);
      await git(work, 'add', '-A');
      const executables = change.writes.filter((w) => w.kind === 'executable').map((w) => w.path);
      if (executables.length) await git(work, 'update-index', '--chmod=+x', '--', ...executables);
      await git(work, 'commit', '--quiet', '-m', change.message);
      await git(work, 'push', '--quiet', 'origin', 'HEAD:main');
      repository.current = change.after;
      return git(work, 'rev-parse', 'HEAD');
    },
  };
  return repository;
}
