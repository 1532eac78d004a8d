// Writes a generated real-house configuration to a folder and says how long it took: the
// repository's files in <dir>/repo (optionally committed), Home Assistant's own files in
// <dir>/host. For trying Lanyard by hand on a tree of real shape, and for timing the generator.
//
//   npx tsx scripts/write-real-house.ts large /tmp/house [--commit] [--relative-links]
//   (sizes: small ~300 files / 8 MiB, medium ~5,000 / 120 MiB, large ~15,000 / 400 MiB)
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { REAL_HOUSE_LARGE, REAL_HOUSE_MEDIUM, REAL_HOUSE_SMALL, buildRealHouse, commitWorkTree, type RealHouseSize } from '../test/support/real-house-tree.ts';

const SIZES: Record<string, RealHouseSize> = { small: REAL_HOUSE_SMALL, medium: REAL_HOUSE_MEDIUM, large: REAL_HOUSE_LARGE };
const [sizeName = '', dir = '', ...flags] = process.argv.slice(2);
const size = SIZES[sizeName];
if (!size || !dir) {
  console.error('usage: npx tsx scripts/write-real-house.ts small|medium|large <empty folder> [--commit] [--relative-links]');
  process.exit(2);
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
await rm(dir, { recursive: true, force: true });
let started = performance.now();
const house = buildRealHouse({ ...size, absoluteLinks: !flags.includes('--relative-links') });
console.log(`planned ${house.repo.length} repository entries (${mib(house.repoBytes)}) and ${house.host.length} host files (${mib(house.hostBytes)}) in ${(performance.now() - started).toFixed(0)} ms`);
const repo = await house.writeRepository(join(dir, 'repo'));
console.log(`repository: ${repo.files} files and ${repo.links} links, ${mib(repo.bytes)}, written in ${repo.ms.toFixed(0)} ms to ${join(dir, 'repo')}`);
const host = await house.writeHostState(join(dir, 'host'));
console.log(`host state: ${host.files} files, ${mib(host.bytes)}, written in ${host.ms.toFixed(0)} ms to ${join(dir, 'host')}`);
if (flags.includes('--commit')) {
  started = performance.now();
  const sha = await commitWorkTree(join(dir, 'repo'), 'The whole configuration', house.repo);
  console.log(`committed ${sha} in ${(performance.now() - started).toFixed(0)} ms`);
}
