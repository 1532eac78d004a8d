// Everything the pipeline does to files on the Home Assistant host runs as POSIX sh scripts through
// a TargetHost, so the ssh and local transports execute the very same commands, each operation one
// round trip. This file holds the small operations (Lanyard's own files, free space) and the way a
// script's failure is told (runChecked, HostError); hashing the live tree is live-tree.ts, the
// backup backup-archive.ts, staging and moving files into place move-into-place.ts.
//
// The scripts use only tools busybox has (find, sha256sum, stat, readlink, tar, gzip, tee, mkfifo,
// mv, rm, date, dirname), so they run on Home Assistant OS's SSH add-on as well as on a Debian host.
import type { Readable } from 'node:stream';
import { CodedError } from '../coded-error.ts';
import { shellQuote, type TargetHost } from '../transport/target-host.ts';

export class HostError extends CodedError {}

/** Runs one script on the host; a failure (or a dropped connection) becomes a HostError naming `what`. */
export async function runChecked(host: TargetHost, what: string, script: string, stdin?: Buffer | string | Readable): Promise<Buffer> {
  // A script that carries no data on stdin is itself sent on stdin: a deploy of thousands of files
  // writes a script far longer than a command line may be.
  let result;
  try {
    result = stdin === undefined ? await host.run('exec sh -s', { stdin: script }) : await host.run(script, { stdin });
  } catch (error) {
    // A dropped connection says what it interrupted, keeping its code (the rollback retries on it).
    if (error instanceof CodedError) throw new HostError(error.code, `${what} was interrupted: ${error.message}`);
    throw error;
  }
  if (result.code !== 0) {
    throw new HostError('host_command_failed', `${what} failed on ${host.description} (exit ${result.code}): ${result.stderr.trim().slice(0, 800) || 'no error output'}`);
  }
  return result.stdout;
}

/**
 * A regular file's bytes, or null when there is none. A link is never followed, and reads as none:
 * a deployed link may name a path that exists only inside Home Assistant's container (`/config/…`),
 * and on the host the same text can lead anywhere.
 */
export async function readHostFile(host: TargetHost, path: string): Promise<Buffer | null> {
  const result = await host.run(`if [ -f ${shellQuote(path)} ] && [ ! -L ${shellQuote(path)} ]; then cat ${shellQuote(path)}; else exit 44; fi`);
  if (result.code === 44) return null;
  if (result.code !== 0) throw new HostError('host_command_failed', `reading ${path} failed on ${host.description}: ${result.stderr.trim()}`);
  return result.stdout;
}

/**
 * Writes a small file atomically (temporary file, then rename). Lanyard's own files (manifests,
 * backup records) are the relay user's alone: 0600, and 0700 for a folder it has to make.
 */
export async function writeHostFile(host: TargetHost, path: string, content: string | Buffer): Promise<void> {
  const folder = path.slice(0, path.lastIndexOf('/')) || '/';
  await runChecked(host, `writing ${path}`, `set -e; umask 077; mkdir -p ${shellQuote(folder)}; cat > ${shellQuote(`${path}.tmp`)}; mv -f ${shellQuote(`${path}.tmp`)} ${shellQuote(path)}`, content);
}

export async function removeHostFiles(host: TargetHost, folder: string, names: string[]): Promise<void> {
  if (!names.length) return;
  await runChecked(host, 'pruning old backups', [`cd ${shellQuote(folder)}`, ...names.map((n) => `rm -f -- ${shellQuote(n)}`)].join('\n'));
}

/** Bytes free on the filesystem holding `folder`, for `relay doctor` and before a backup. */
export async function freeBytes(host: TargetHost, folder: string): Promise<number | null> {
  const result = await host.run(`df -Pk ${shellQuote(folder)} | tail -n 1`);
  const fields = result.stdout.toString('utf8').trim().split(/\s+/);
  const kb = Number(fields[3]);
  return Number.isFinite(kb) ? kb * 1024 : null;
}
