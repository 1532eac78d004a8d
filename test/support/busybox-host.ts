// A host whose shell and tools are busybox's only, as on Home Assistant OS's SSH add-on: every
// script runs in `busybox sh` with a PATH holding nothing but busybox's applets, optionally as
// another user (runuser, which also gives that user its supplementary groups). Needs the Debian
// package busybox; as another user, root.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunOptions, RunResult, TargetHost } from '../../relay/transport/target-host.ts';

const run = promisify(execFile);
/** util-linux's runuser: in /usr/sbin, which a non-login PATH may lack. */
export const RUNUSER = existsSync('/usr/sbin/runuser') ? '/usr/sbin/runuser' : 'runuser';

export interface BusyboxHost extends TargetHost {
  /** The folder of applet links that is the scripts' whole PATH. */
  readonly bin: string;
}

export async function startBusyboxHost(options: { user?: string } = {}): Promise<BusyboxHost> {
  let applets: string[];
  try {
    applets = (await run('busybox', ['--list'])).stdout.split('\n').filter(Boolean);
  } catch {
    throw new Error('busybox is missing: apt-get install busybox');
  }
  const bin = await mkdtemp(join(tmpdir(), 'lanyard-busybox-'));
  // mkdtemp makes it 0700: the other user must reach its applets.
  await chmod(bin, 0o755);
  const busybox = (await run('sh', ['-c', 'command -v busybox'])).stdout.trim();
  for (const applet of applets) await symlink(busybox, join(bin, applet));
  const env = { PATH: bin, LC_ALL: 'C' };
  const command = (script: string): [string, string[]] =>
    options.user ? [RUNUSER, ['-u', options.user, '--', join(bin, 'env'), `PATH=${bin}`, 'LC_ALL=C', join(bin, 'sh'), '-c', script]] : [join(bin, 'sh'), ['-c', script]];

  return {
    bin,
    description: `busybox${options.user ? ` as ${options.user}` : ''}`,
    connected: true,
    run(script: string, runOptions: RunOptions = {}): Promise<RunResult> {
      if (runOptions.stdin !== undefined && typeof runOptions.stdin !== 'string' && !Buffer.isBuffer(runOptions.stdin)) {
        throw new Error('the busybox host takes stdin as a string or a buffer only');
      }
      const [file, args] = command(runOptions.cwd ? `cd '${runOptions.cwd}' && ${script}` : script);
      return new Promise((resolve, reject) => {
        const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
        const out: Buffer[] = [];
        let err = '';
        child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
        child.on('error', reject);
        child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 + 9 : 1), stdout: Buffer.concat(out), stderr: err }));
        child.stdin.on('error', () => undefined);
        child.stdin.end(runOptions.stdin ?? '');
      });
    },
    async upload() {
      throw new Error('the busybox host does not transfer files');
    },
    async download() {
      throw new Error('the busybox host does not transfer files');
    },
    async close() {
      await rm(bin, { recursive: true, force: true });
    },
  };
}
