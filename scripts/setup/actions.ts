// What `npm run setup` does to the world, in one place: every command it runs and every file it
// writes goes through here. With --dry-run nothing is run or written: each command and file is
// printed instead. A file whose bytes are already what setup would write is left alone (and said
// so), which is what makes a second run change nothing.
import { execFile, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Bytes for the command's standard input (a secret goes here, never on the command line). */
  input?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run even in a dry run: a read-only command whose answer the next questions depend on. */
  readOnly?: boolean;
  /** A non-zero exit is an answer, not a failure. */
  allowFailure?: boolean;
}

export type FileOutcome = 'unchanged' | 'written' | 'would write';

/** One line of what setup did, for the summary and the test that runs it twice. */
export interface SetupChange {
  kind: 'file' | 'command' | 'remote';
  what: string;
}

export class SetupActions {
  readonly changes: SetupChange[] = [];

  constructor(
    readonly dryRun: boolean,
    private readonly print: (line: string) => void,
  ) {}

  say(line: string): void {
    this.print(line);
  }

  /** Runs a command (printing it); in a dry run only prints it, unless it only reads. */
  async run(command: string, args: string[], options: RunOptions = {}): Promise<CommandResult> {
    const shown = `$ ${[command, ...args].map(showArgument).join(' ')}${options.input !== undefined ? ' < (secret on stdin)' : ''}`;
    if (this.dryRun && !options.readOnly) {
      this.print(`would run ${shown}`);
      return { code: 0, stdout: '', stderr: '' };
    }
    this.print(`  ${shown}`);
    if (!options.readOnly) this.changes.push({ kind: 'command', what: [command, ...args].join(' ') });
    const result = await new Promise<CommandResult>((resolve, reject) => {
      const child = execFile(command, args, { cwd: options.cwd, env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 1) : 0;
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error(`${command} is not installed`));
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
      if (options.input !== undefined) child.stdin?.end(options.input);
      else child.stdin?.end();
    });
    if (result.code !== 0 && !options.allowFailure) {
      throw new Error(`${command} ${args.slice(0, 3).join(' ')} exited ${result.code}: ${(result.stderr || result.stdout).trim().slice(-2000)}`);
    }
    return result;
  }

  /** Writes a file unless it already holds exactly these bytes (mode applied on write). */
  async writeFile(path: string, content: string, mode = 0o644): Promise<FileOutcome> {
    const current = await readFile(path, 'utf8').catch(() => null);
    if (current === content) {
      this.print(`  unchanged ${path}`);
      return 'unchanged';
    }
    if (this.dryRun) {
      this.print(`would write ${path} (mode ${mode.toString(8)}):\n${indent(redactForDisplay(path, content))}`);
      return 'would write';
    }
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(path, content, { mode });
    this.print(`  ${current === null ? 'created' : 'updated'} ${path}`);
    this.changes.push({ kind: 'file', what: path });
    return 'written';
  }

  /** A change made through an API (a GitHub webhook created or updated). */
  remote(what: string): void {
    this.changes.push({ kind: 'remote', what });
  }

  /** Starts a long-running process that outlives setup (the local edge and relay); returns its pid. */
  spawnDetached(command: string, args: string[], logFile: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
    return import('node:fs').then(({ openSync, closeSync }) => {
      const shown = `$ ${[command, ...args].map(showArgument).join(' ')} >${logFile} 2>&1 &`;
      if (this.dryRun) {
        this.print(`would run ${shown}`);
        return 0;
      }
      this.print(`  ${shown}`);
      this.changes.push({ kind: 'command', what: [command, ...args].join(' ') });
      const log = openSync(logFile, 'a', 0o600);
      const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, detached: true, stdio: ['ignore', log, log] });
      closeSync(log);
      child.unref();
      return child.pid ?? 0;
    });
  }
}

function showArgument(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function indent(text: string): string {
  return text.replace(/^/gm, '    ');
}

/** A dry run shows every file, but not the secrets in it: they are generated anew on the real run anyway. */
function redactForDisplay(path: string, content: string): string {
  if (/-token$/.test(path)) return '<secret>';
  if (/(\.dev\.vars|secrets\.json)$/.test(path)) return content.replace(/^(\s*[A-Za-z_"][^=:\n]*[=:]\s*).+$/gm, '$1<secret>');
  return content;
}
