// rsync as the baseline a homeowner would run against the same host, doing the same work as the
// relay: the same paths left alone. rsync's excludes are written from the relay's own list of
// protected paths (relay/pipeline/protected-paths.ts, docs/protected-paths.md), so with --delete
// it neither writes nor deletes Home Assistant's state; the files add-ons write beside the
// repository's (ESPHome's build output, camera snapshots), which the relay never deletes because
// it never deployed them, are excluded by path too.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROTECTED_PATHS } from '../../relay/pipeline/protected-paths.ts';
import { time } from './stats.ts';

const run = promisify(execFile);

/** One of the relay's globs as an rsync exclude: `**​/x` matches at any depth, `x/**` is the folder x at the root. */
export function rsyncPatternOf(glob: string): string {
  const anyDepth = glob.startsWith('**/');
  let pattern = anyDepth ? glob.slice(3) : glob;
  if (pattern.endsWith('/**')) pattern = `${pattern.slice(0, -3)}/`;
  if (pattern.includes('*') && pattern.replace(/\*/g, '').includes('/')) throw new Error(`no rsync pattern for ${glob}`);
  return anyDepth ? pattern : `/${pattern}`;
}

/** The exclude list: every protected glob, and `unmanaged` host paths (relative to the config root). */
export async function writeRsyncExcludes(file: string, unmanaged: readonly string[]): Promise<string> {
  const lines = [...new Set(PROTECTED_PATHS.flatMap((entry) => entry.globs.map(rsyncPatternOf)))];
  // The rules match names literally with --exclude-from only when they hold no wildcard; these paths hold none but may hold `[`.
  for (const path of unmanaged) lines.push(`/${path.replace(/[[\]*?\\]/g, (c) => `\\${c}`)}`);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

export interface RsyncRun {
  ms: number;
  up: number;
  down: number;
}

export interface RsyncTarget {
  /** The work tree, checked out at the commit. */
  source: string;
  /** user@127.0.0.1 */
  login: string;
  hostDir: string;
  /** `ssh …` for rsync -e. */
  sshCommand: string;
  excludes: string;
  /** Between rsync and sshd, counting bytes. */
  proxy: { resetCounters(): void; bytesUp: number; bytesDown: number };
}

/** `rsync <flags>` of the work tree onto the host, over a new SSH connection (as a homeowner's rsync opens one). */
export async function rsyncToHost(target: RsyncTarget, flags: readonly string[]): Promise<RsyncRun> {
  const args = [...flags, `--exclude-from=${target.excludes}`, '-e', target.sshCommand, `${target.source}/`, `${target.login}:${target.hostDir}/`];
  target.proxy.resetCounters();
  const took = await time(() => run('rsync', args, { maxBuffer: 64 * 1024 * 1024 }));
  return { ms: took, up: target.proxy.bytesUp, down: target.proxy.bytesDown };
}

export const excludesFileIn = (dir: string) => join(dir, 'rsync-excludes');
