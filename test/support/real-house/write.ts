// Puts a real house on disk fast: folders first, then files generated and written a few at a
// time (generation is CPU, writing is the thread pool's, so both stay busy), symlinks as
// symlinks, executables with mode 0755. And commits a work tree the way a fixture must: cut off
// from the machine's git config, with a fixed author and date so the same tree gives the same sha.
import { execFile } from 'node:child_process';
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { isolatedGitEnv } from '../git-fixture.ts';
import type { TreeEntry, TreeLink } from './entries.ts';

const run = promisify(execFile);

/** A file to write: where, and how to make its bytes. Links carry their target instead. */
export type Writable = { path: string; kind: 'file' | 'executable'; bytes: () => Buffer } | TreeLink;

export interface WriteReport {
  files: number;
  links: number;
  bytes: number;
  ms: number;
}

/** How many files are generated and in flight at once: enough to keep the disk busy, little memory. */
const IN_FLIGHT = 16;

/** Writes `items` under `dir` (created if missing), replacing whatever stood at their paths. */
export async function writeItems(dir: string, items: readonly Writable[], options: { replace?: boolean } = {}): Promise<WriteReport> {
  const started = performance.now();
  const folders = [...new Set(items.map((item) => dirname(join(dir, item.path))))].sort();
  for (const folder of folders) await mkdir(folder, { recursive: true });
  const report: WriteReport = { files: 0, links: 0, bytes: 0, ms: 0 };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next]!;
      next += 1;
      const full = join(dir, item.path);
      if (options.replace) await rm(full, { recursive: true, force: true });
      if (item.kind === 'symlink') {
        await symlink(item.target, full);
        report.links += 1;
        continue;
      }
      const bytes = item.bytes();
      await writeFile(full, bytes);
      // Explicit, so the umask of whoever runs the tests cannot take the bits away.
      if (item.kind === 'executable') await chmod(full, 0o755);
      report.files += 1;
      report.bytes += bytes.length;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  report.ms = performance.now() - started;
  return report;
}

/** Deletes repository paths from a work tree (a folder emptied by it stays; git does not see folders). */
export async function removePaths(dir: string, paths: readonly string[]): Promise<void> {
  for (const path of paths) await rm(join(dir, path), { recursive: true, force: true });
}

export const FIXTURE_AUTHOR = { name: 'Ada Homeowner', email: 'ada@example.com', date: '2026-11-22T10:00:00Z' };

/**
 * `git add -A` and a commit of everything in `dir` (a work tree, initialised here if it is not
 * one yet), with the executable bit said explicitly for `executables` in case the file system has
 * no modes (core.fileMode false). Returns the commit's sha.
 */
export async function commitWorkTree(dir: string, message: string, entries: readonly TreeEntry[] = []): Promise<string> {
  const env = { ...isolatedGitEnv(dir), GIT_AUTHOR_DATE: FIXTURE_AUTHOR.date, GIT_COMMITTER_DATE: FIXTURE_AUTHOR.date };
  const git = async (...args: string[]) =>
    (await run('git', ['-c', `user.name=${FIXTURE_AUTHOR.name}`, '-c', `user.email=${FIXTURE_AUTHOR.email}`, '-c', 'init.defaultBranch=main', ...args], { cwd: dir, env, maxBuffer: 256 << 20 })).stdout.trim();
  await git('init', '--quiet');
  await git('add', '-A');
  const executables = entries.filter((e) => e.kind === 'executable').map((e) => e.path);
  if (executables.length > 0) await git('update-index', '--chmod=+x', '--', ...executables);
  await git('commit', '--quiet', '--no-verify', '--allow-empty', '-m', message);
  return git('rev-parse', 'HEAD');
}
