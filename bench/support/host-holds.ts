// The correctness check every deploy benchmark makes after each deploy (the relay's and rsync's):
// the host holds the commit. Every entry a deploy puts there (the repository without the paths
// Home Assistant owns on the host) is on the host as in the work tree: a file byte for byte with
// its executable bit, a link with its text unchanged (absolute `/config/...` links lead nowhere on
// this machine and are never followed). And Home Assistant's protected files are still its own.
import { lstat, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { RealHouseTree, TreeEntry } from '../../test/support/real-house-tree.ts';

/** Throws, naming the first few differences, unless `hostDir` holds `entries` as `work` does. */
export async function assertHostHolds(tree: RealHouseTree, entries: readonly TreeEntry[], work: string, hostDir: string, what: string): Promise<void> {
  const problems: string[] = [];
  const deployed = entries.filter((e) => e.kind === 'symlink' || e.ownedByHost === undefined);
  let next = 0;
  const worker = async () => {
    while (next < deployed.length && problems.length < 10) {
      const entry = deployed[next]!;
      next += 1;
      const there = join(hostDir, entry.path);
      const info = await lstat(there).catch(() => null);
      if (!info) {
        problems.push(`${entry.path} is missing`);
        continue;
      }
      if (entry.kind === 'symlink') {
        if (!info.isSymbolicLink() || (await readlink(there)) !== entry.target) problems.push(`${entry.path} is not the link to ${entry.target}`);
        continue;
      }
      if (!info.isFile()) {
        problems.push(`${entry.path} is not a file`);
        continue;
      }
      if (((info.mode & 0o111) !== 0) !== (entry.kind === 'executable')) problems.push(`${entry.path} has the wrong executable bit`);
      const [ours, theirs] = await Promise.all([readFile(join(work, entry.path)), readFile(there)]);
      if (!ours.equals(theirs)) problems.push(`${entry.path} differs from the commit`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  for (const file of tree.host.filter((h) => h.ownership === 'protected')) {
    const bytes = await readFile(join(hostDir, file.path)).catch(() => null);
    if (!bytes || bytes.length !== file.size) problems.push(`Home Assistant's ${file.path} was changed or removed`);
    if (problems.length >= 10) break;
  }
  if (problems.length) throw new Error(`after ${what} the host does not hold the commit: ${problems.join('; ')}`);
}
