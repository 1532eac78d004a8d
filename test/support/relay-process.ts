// A real relay process (`tsx relay/cli.ts run`) for end-to-end tests: started from a config file,
// its log captured, and killable with SIGKILL at any moment to test the journal.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface RelayProcess {
  readonly log: string;
  /** Resolves when a log line matches. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

export function startRelayProcess(configPath: string, args: string[] = ['run'], extraEnv: Record<string, string> = {}): RelayProcess {
  // `node --import tsx` rather than the tsx CLI, which runs the program in a child process that a
  // SIGKILL of the parent would leave running.
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'relay/cli.ts', ...args, '--config', configPath], {
    cwd: ROOT,
    env: { ...process.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    log += chunk.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    get log() {
      return log;
    },
    exited,
    waitForLog(pattern, timeoutMs = 30_000) {
      return new Promise((resolvePromise, reject) => {
        const check = () => {
          const match = log.split('\n').find((line) => pattern.test(line));
          if (match) {
            cleanup();
            resolvePromise(match);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`relay log never matched ${pattern} within ${timeoutMs} ms; log:\n${log.slice(-4000)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
