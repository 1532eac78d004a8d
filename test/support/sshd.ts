// A real OpenSSH sshd on 127.0.0.1 for the tests: its own fresh host key, a client key pair, a
// dedicated test user (`lanyard-test` when the tests run as root, else the current user), and a
// folder that user owns for a config root and backups.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from './ports.ts';

const run = promisify(execFile);
export const TEST_USER = 'lanyard-test';

export interface Sshd {
  host: '127.0.0.1';
  port: number;
  username: string;
  privateKeyPath: string;
  hostKeyFingerprint: string;
  /** A folder the test user owns, for config roots and backups. */
  homeDir: string;
  stop(): Promise<void>;
}

export async function fingerprintOfKeyFile(publicKeyPath: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-lf', publicKeyPath]);
  const match = /(SHA256:[A-Za-z0-9+/]{43})/.exec(stdout);
  if (!match) throw new Error(`no fingerprint in: ${stdout}`);
  return match[1]!;
}

export async function generateKey(path: string): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lanyard-test', '-f', path]);
}

async function ensureUser(): Promise<{ username: string; homeDir: string }> {
  if (process.getuid?.() !== 0) return { username: userInfo().username, homeDir: userInfo().homedir };
  try {
    await run('id', [TEST_USER]);
  } catch {
    await run('useradd', ['--system', '--create-home', '--shell', '/bin/sh', TEST_USER]).catch(async (error: Error) => {
      // Another test file may have created it at the same moment.
      await run('id', [TEST_USER]).catch(() => {
        throw error;
      });
    });
  }
  // OpenSSH refuses a locked account ('!' in shadow, as useradd leaves it) even for key logins
  // when PAM is off; '*' means "no password" without locking.
  await run('usermod', ['-p', '*', TEST_USER]);
  const { stdout } = await run('getent', ['passwd', TEST_USER]);
  return { username: TEST_USER, homeDir: stdout.trim().split(':')[5]! };
}

export async function startSshd(): Promise<Sshd> {
  const { username, homeDir } = await ensureUser();
  const dir = await mkdtemp(join(tmpdir(), 'lanyard-sshd-'));
  await chmod(dir, 0o755);
  const hostKey = join(dir, 'host_ed25519');
  const clientKey = join(dir, 'client_ed25519');
  await generateKey(hostKey);
  await generateKey(clientKey);
  const authorized = join(dir, 'authorized_keys');
  await writeFile(authorized, await readFile(`${clientKey}.pub`), { mode: 0o644 });
  const workDir = await mkdtemp(join(homeDir, 'lanyard-'));
  if (process.getuid?.() === 0) await run('chown', [`${username}:`, workDir]);
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorized}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'UsePAM no',
      'StrictModes no',
      `AllowUsers ${username}`,
      'PermitRootLogin no',
      'Subsystem sftp internal-sftp',
      'LogLevel ERROR',
    ].join('\n') + '\n',
  );
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log += c.toString('utf8')));
  await waitFor(
    `sshd on 127.0.0.1:${port}`,
    () =>
      new Promise<boolean>((resolve) => {
        if (child.exitCode !== null) throw new Error(`sshd exited: ${log}`);
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => (socket.destroy(), resolve(true)));
        socket.once('error', () => resolve(false));
      }),
    15_000,
    50,
  );
  return {
    host: '127.0.0.1',
    port,
    username,
    privateKeyPath: clientKey,
    hostKeyFingerprint: await fingerprintOfKeyFile(`${hostKey}.pub`),
    homeDir: workDir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
