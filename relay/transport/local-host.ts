// The local transport: the relay runs on the Home Assistant host itself (a container or add-on
// with /config mounted). Scripts run with the host's own `sh`, exactly as the ssh transport runs
// them on the far side.
import { spawn } from 'node:child_process';
import { copyFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { Readable } from 'node:stream';
import { CodedError } from '../coded-error.ts';
import { shellQuote, type RunOptions, type RunResult, type TargetHost } from './target-host.ts';

export type LocalHostErrorCode = 'spawn_failed' | 'transfer_failed';

export class LocalHostError extends CodedError<LocalHostErrorCode> {}

export class LocalHost implements TargetHost {
  readonly description = 'local';
  /** The relay's own machine: there is no connection to lose. */
  readonly connected = true;

  run(script: string, options: RunOptions = {}): Promise<RunResult> {
    // `cd` inside sh rather than spawn's cwd: a missing folder is then an exit code with sh's own
    // message, as over ssh, instead of an ENOENT that reads as if sh itself were missing.
    const args = options.cwd ? ['-c', `cd ${shellQuote(options.cwd)} && exec sh -c ${shellQuote(script)}`] : ['-c', script];
    return new Promise((resolve, reject) => {
      const child = spawn('sh', args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const input = options.stdin;
      let inputFailure: Error | null = null;
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', (error) => {
        reject(new LocalHostError('spawn_failed', `could not start sh on this machine (${error.message}): the local transport needs a POSIX sh on PATH`));
      });
      child.on('close', (code, signal) => {
        // A script that exited without reading all of a streamed stdin: stop the producer too.
        if (input instanceof Readable && !input.readableEnded) input.destroy();
        if (inputFailure) {
          reject(inputFailure);
          return;
        }
        // 128 + signal number, as a shell reports it, and as the ssh transport does.
        const exit = code ?? 128 + (signal ? constants.signals[signal] : 0);
        resolve({ code: exit, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') });
      });
      // A script that exits before reading all of stdin is not an error of ours.
      child.stdin.on('error', () => undefined);
      if (input instanceof Readable) {
        // The producer failed: kill the script rather than let it take a cut-off stream for a whole one.
        input.on('error', (error: Error) => {
          inputFailure ??= error;
          input.unpipe(child.stdin);
          child.kill('SIGKILL');
        });
        input.pipe(child.stdin);
      } else child.stdin.end(input ?? '');
    });
  }

  async upload(localPath: string, remotePath: string): Promise<void> {
    await transfer(`upload ${localPath} to ${remotePath}`, () => copyFile(localPath, remotePath));
  }

  async download(remotePath: string, localPath: string): Promise<void> {
    await transfer(`download ${remotePath} to ${localPath}`, () => copyFile(remotePath, localPath));
  }

  async close(): Promise<void> {
    // Nothing to release.
  }
}

async function transfer(what: string, copy: () => Promise<void>): Promise<void> {
  try {
    await copy();
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new LocalHostError('transfer_failed', `could not ${what} on the local host (${reason}): check that the folder exists and the relay may write there`);
  }
}
