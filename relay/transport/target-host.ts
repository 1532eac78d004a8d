// The one interface the pipeline uses to touch the Home Assistant host. Two transports implement
// it: `local` (the relay runs on the host, e.g. as an add-on) and `ssh` (node-ssh with a pinned host
// key). Everything the pipeline does on the host is a command run with `run` or a file moved with
// `upload`/`download`, so both transports run the very same shell scripts and give the same
// guarantees. The scripts stick to POSIX sh and busybox-compatible tools (find, sha256sum, tar,
// stat, mv, rm, awk), which Home Assistant OS's SSH add-on has.
import type { Readable } from 'node:stream';

export interface RunOptions {
  /**
   * Written to the command's standard input, then closed. A stream is piped with back-pressure, so
   * an upload of any size never sits in the relay's memory whole; a stream that fails makes the run
   * fail with its error, and a command that exits before reading it all ends the stream.
   */
  stdin?: Buffer | string | Readable;
  /** Working directory on the host. A missing one is a failed run (non-zero code, sh's reason in stderr). */
  cwd?: string;
}

export interface RunResult {
  /** The exit status; a script killed by a signal reports 128 + the signal number, as a shell does. */
  code: number;
  /** Raw bytes: binary-safe, so tar archives pass through unchanged. */
  stdout: Buffer;
  stderr: string;
}

export interface TargetHost {
  /** "ssh hass@127.0.0.1:2222" or "local": said in logs and errors. */
  readonly description: string;
  /** False once the connection is gone for good (dropped, or closed): open a new one instead. */
  readonly connected: boolean;
  /**
   * Runs a POSIX sh script on the host (`sh -c script`). Never throws on a non-zero exit; returns it.
   * Throws a coded error only when the script could not run or its result is unknown (the
   * connection dropped): then nothing about the host's state may be assumed.
   */
  run(script: string, options?: RunOptions): Promise<RunResult>;
  /** Writes a local file to a path on the host (parent folder must exist). Fails with code `transfer_failed`. */
  upload(localPath: string, remotePath: string): Promise<void>;
  /** Copies a file from the host to a local path. Fails with code `transfer_failed`. */
  download(remotePath: string, localPath: string): Promise<void>;
  close(): Promise<void>;
}

/** Quotes one argument for POSIX sh. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
