// The git CLI as the relay's git source runs it: argv arrays (never a shell) in an environment
// built from scratch: no system or global git config, no ~/.netrc, no GIT_* variables of the
// caller, no prompts. The token travels in the environment (GIT_CONFIG_*), not in argv where every
// local user could read it with `ps`, and it is never written to disk or into an error message.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { shellQuote } from '../transport/target-host.ts';
import { GitError } from './git-error.ts';

export interface GitCliOptions {
  /** Any git URL: https://…, git@host:owner/repo.git, ssh://…, or a local path. */
  remote: string;
  cacheDir: string;
  /** For http(s) remotes: sent as `Authorization: Basic base64("x-access-token:" + token)`. */
  token?: string;
  /** For ssh remotes: the deploy key. */
  deployKeyPath?: string;
}

export const FETCH_TIMEOUT_MS = 300_000;

// What the relay's environment may still say about the network: proxies and CA bundles are the
// machine's business, not git config, and a relay behind a proxy needs them.
const PASSED_THROUGH = ['PATH', 'TMPDIR', 'SYSTEMROOT', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy', 'SSL_CERT_FILE', 'SSL_CERT_DIR'];

// Fetches into one cache must not overlap (two fetches race for the same ref lock). Keyed by
// folder, not by instance: the daemon and `relay doctor` each build their own GitSource.
const cacheLocks = new Map<string, Promise<unknown>>();

export function withCacheLock<T>(cacheDir: string, work: () => Promise<T>): Promise<T> {
  const key = resolve(cacheDir);
  const previous = cacheLocks.get(key) ?? Promise.resolve();
  const next = previous.then(work, work);
  const tail = next.catch(() => undefined);
  cacheLocks.set(key, tail);
  void tail.then(() => {
    if (cacheLocks.get(key) === tail) cacheLocks.delete(key);
  });
  return next;
}

/** git's own words for a failed run: its stderr, or what stopped it. */
export function errorText(error: unknown): string {
  const e = error as { stderr?: string | Buffer; message?: string; killed?: boolean; signal?: string | null };
  if (e.killed || e.signal === 'SIGTERM') return `no answer within ${FETCH_TIMEOUT_MS / 60_000} minutes`;
  const stderr = e.stderr === undefined ? '' : e.stderr.toString().trim();
  return stderr || e.message || String(error);
}

interface RunResult {
  stdout: Buffer;
  stderr: string;
}

export class GitCli {
  constructor(private readonly options: GitCliOptions) {}

  get cacheDir(): string {
    return this.options.cacheDir;
  }

  private get remoteIsHttp(): boolean {
    return /^https?:\/\//i.test(this.options.remote);
  }

  env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const name of PASSED_THROUGH) if (process.env[name] !== undefined) env[name] = process.env[name];
    Object.assign(env, {
      // HOME is the cache: no ~/.gitconfig, ~/.config/git or ~/.netrc of the homeowner applies.
      // (ssh looks up ~/.ssh through the password database, so known_hosts still works.)
      HOME: this.options.cacheDir,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      // ext:: and other helpers could run arbitrary commands; the remote is one of these.
      GIT_ALLOW_PROTOCOL: 'file:git:http:https:ssh',
      GIT_LITERAL_PATHSPECS: '1',
      GIT_NO_REPLACE_OBJECTS: '1',
      // A stalled download fails instead of holding the deploy until the timeout.
      GIT_HTTP_LOW_SPEED_LIMIT: '1000',
      GIT_HTTP_LOW_SPEED_TIME: '60',
      LC_ALL: 'C',
    });
    const config: [string, string][] = [
      // Auto-gc after a fetch would otherwise detach and keep writing to the cache afterwards.
      ['gc.autoDetach', 'false'],
      ['credential.helper', ''],
      // The relay shares a small box with Home Assistant. git maps a pack in windows of 1 GiB
      // and keeps up to 96 MiB of delta bases by default: reading a 400 MB house held 320 MiB of
      // it resident in one git process (BENCHMARKS.md). Smaller windows and caches bound that,
      // for a little more mapping work.
      ['core.packedGitWindowSize', '16m'],
      ['core.packedGitLimit', '64m'],
      ['core.deltaBaseCacheLimit', '16m'],
      ['pack.windowMemory', '32m'],
      ['pack.deltaCacheSize', '16m'],
    ];
    if (this.options.token && this.remoteIsHttp) {
      const basic = Buffer.from(`x-access-token:${this.options.token}`).toString('base64');
      config.push(['http.extraHeader', `Authorization: Basic ${basic}`]);
    }
    env.GIT_CONFIG_COUNT = String(config.length);
    config.forEach(([key, value], i) => {
      env[`GIT_CONFIG_KEY_${i}`] = key;
      env[`GIT_CONFIG_VALUE_${i}`] = value;
    });
    // BatchMode: a missing key or unknown host fails at once rather than waiting for a password.
    const ssh = ['ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=30'];
    if (this.options.deployKeyPath) {
      ssh.push('-i', shellQuote(this.options.deployKeyPath), '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=yes');
    } else if (process.env.SSH_AUTH_SOCK) {
      env.SSH_AUTH_SOCK = process.env.SSH_AUTH_SOCK;
    }
    env.GIT_SSH_COMMAND = ssh.join(' ');
    return env;
  }

  /** Removes the token (plain and as sent in the header) and any password in a URL. */
  redact(text: string): string {
    let out = text;
    const token = this.options.token;
    if (token) {
      out = out.replaceAll(token, '***');
      out = out.replaceAll(Buffer.from(`x-access-token:${token}`).toString('base64'), '***');
      out = out.replaceAll(encodeURIComponent(token), '***');
    }
    return out.replace(/\/\/[^/@\s]+@/g, '//***@');
  }

  run(args: string[], timeout = 0): Promise<RunResult> {
    return new Promise((resolvePromise, reject) => {
      execFile('git', args, { env: this.env(), encoding: 'buffer', maxBuffer: 1024 * 1024 * 1024, timeout }, (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stderr: stderr.toString('utf8') }));
        else resolvePromise({ stdout, stderr: stderr.toString('utf8') });
      });
    });
  }

  /** git in the cache; failures become `git_failed` with git's own words. */
  async git(args: string[]): Promise<Buffer> {
    try {
      return (await this.run(['-C', this.options.cacheDir, ...args])).stdout;
    } catch (error) {
      throw new GitError('git_failed', this.redact(`git ${args[0]} failed in the relay's cache ${this.options.cacheDir}: ${errorText(error)}`));
    }
  }

  /** Exit status 0 → true, 1 → false; anything else is a failure of git itself. */
  async test(args: string[]): Promise<boolean> {
    try {
      await this.run(['-C', this.options.cacheDir, ...args]);
      return true;
    } catch (error) {
      if ((error as { code?: unknown }).code === 1 || (error as { code?: unknown }).code === 128) return false;
      throw new GitError('git_failed', this.redact(`git ${args[0]} failed in the relay's cache: ${errorText(error)}`));
    }
  }

  /** git with `input` on its stdin and its stdout as text. */
  runWithInput(args: string[], input: string, env: NodeJS.ProcessEnv): Promise<string> {
    return new Promise((resolvePromise, reject) => {
      const child = execFile('git', args, { env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stderr }));
        else resolvePromise(stdout);
      });
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input);
    });
  }
}
