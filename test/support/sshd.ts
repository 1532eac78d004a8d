// A real OpenSSH sshd on 127.0.0.1 for the tests: its own fresh host key, a client key pair, a
// dedicated test user (`lanyard-test` when the tests run as root, else the current user), and a
// folder that user owns for a config root and backups. Needs the Debian packages openssh-server
// and openssh-client; as root it creates the test user with useradd/usermod (package passwd).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { appendFile, chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd';
export const TEST_USER = 'lanyard-test';

export interface Sshd {
  host: '127.0.0.1';
  port: number;
  username: string;
  privateKeyPath: string;
  hostKeyFingerprint: string;
  /** A folder the test user owns, for config roots and backups. */
  homeDir: string;
  /** What sshd logged so far (LogLevel VERBOSE): logins, key offers, disconnects. */
  log(): string;
  /**
   * Kills every open session (sshd's per-connection processes) and keeps listening: to the relay it
   * is a host that rebooted or a network that blinked. Resolves with how many were killed.
   */
  dropConnections(): Promise<number>;
  /**
   * A host that reboots: every session dropped, nothing listening for `downMs` (`whileDown` runs at
   * the start of it), then sshd again on the same port with the same keys.
   */
  reboot(downMs: number, whileDown?: () => void): Promise<void>;
  /** Appends a line to the test user's authorized_keys, as its owner would on the host. */
  authorizeKey(line: string): Promise<void>;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Serve the SFTP subsystem (default true). Home Assistant's SSH add-ons ship with it off. */
  sftp?: boolean;
}

export async function fingerprintOfKeyFile(publicKeyPath: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-lf', publicKeyPath]);
  const match = /(SHA256:[A-Za-z0-9+/]{43})/.exec(stdout);
  if (!match) throw new Error(`no fingerprint in: ${stdout}`);
  return match[1]!;
}

export async function generateKey(path: string): Promise<void> {
  try {
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lanyard-test', '-f', path]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('ssh-keygen is missing: apt-get install openssh-client');
    throw error;
  }
}

// Several test files start their sshd at the same moment, and concurrent useradds leave a home
// folder owned by a uid that lost the race; flock (util-linux, always on Debian) serializes them.
// useradd leaves the account locked ('!' in shadow), and OpenSSH refuses a locked account even for
// key logins when PAM is off; '*' means "no password" without locking.
const CREATE_TEST_USER = `
  getent passwd ${TEST_USER} >/dev/null || useradd --system --create-home --shell /bin/sh ${TEST_USER} || exit
  case "$(getent shadow ${TEST_USER} | cut -d: -f2)" in '!'*) usermod -p '*' ${TEST_USER} ;; esac
`;

async function ensureUser(): Promise<{ username: string; homeDir: string }> {
  if (process.getuid?.() !== 0) return { username: userInfo().username, homeDir: tmpdir() };
  await run('flock', [join(tmpdir(), 'lanyard-test-user.lock'), 'sh', '-c', CREATE_TEST_USER]).catch((error: Error & { stderr?: string }) => {
    throw new Error(`could not create the test user ${TEST_USER}: ${error.stderr?.trim() || error.message}`);
  });
  const { stdout } = await run('getent', ['passwd', TEST_USER]);
  return { username: TEST_USER, homeDir: stdout.trim().split(':')[5]! };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const { username, homeDir } = await ensureUser();
  // Readable by all: sshd reads authorized_keys as the test user, not as root.
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
      ...(options.sftp === false ? [] : ['Subsystem sftp internal-sftp']),
      'LogLevel VERBOSE',
    ].join('\n') + '\n',
  );
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  let log = '';
  const cleanUp = async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(workDir, { recursive: true, force: true });
  };
  let server: RunningSshd;
  try {
    server = await launch(config, port, (text) => (log += text));
  } catch (error) {
    await cleanUp();
    throw error;
  }

  return {
    host: '127.0.0.1',
    port,
    username,
    privateKeyPath: clientKey,
    hostKeyFingerprint: await fingerprintOfKeyFile(`${hostKey}.pub`),
    homeDir: workDir,
    log: () => log,
    dropConnections: () => dropSessions(server),
    async reboot(downMs: number, whileDown?: () => void) {
      // Frozen first, so no connection slips in between dropping the sessions and stopping.
      server.child.kill('SIGSTOP');
      await dropSessions(server);
      server.child.kill('SIGTERM');
      server.child.kill('SIGCONT');
      await server.stop();
      whileDown?.();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      server = await launch(config, port, (text) => (log += text));
    },
    async authorizeKey(line: string) {
      await appendFile(authorized, `${line.trim()}\n`);
    },
    async stop() {
      await server.stop();
      await cleanUp();
    },
  };
}

interface RunningSshd {
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Kills sshd's per-connection processes; the listener stays. Resolves with how many there were. */
async function dropSessions(server: RunningSshd): Promise<number> {
  const sessions = server.child.pid === undefined ? [] : await childrenOf(server.child.pid);
  for (const pid of sessions) process.kill(pid, 'SIGKILL');
  return sessions.length;
}

/** Starts sshd in the foreground and resolves once it accepts connections on 127.0.0.1:port. */
async function launch(config: string, port: number, onLog: (text: string) => void): Promise<RunningSshd> {
  const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    log += text;
    onLog(text);
  });
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'ENOENT' ? `${SSHD} is missing: apt-get install openssh-server` : `sshd could not start: ${error.message}`),
    );
    child.once('exit', (code, signal) => resolve(`sshd exited (${code ?? signal}): ${log.trim()}`));
  });

  // Stop polling the moment sshd dies: its log says why (a bad config line, the port taken).
  const problem = await Promise.race([
    exited,
    (async () => {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        if (child.exitCode !== null || child.signalCode !== null) return null;
        if (await accepts(port)) return undefined;
        await new Promise((r) => setTimeout(r, 25));
      }
      return `sshd did not listen on 127.0.0.1:${port} within 15 s: ${log.trim()}`;
    })(),
  ]);
  if (problem !== undefined) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw new Error(problem ?? (await exited));
  }
  return {
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** Processes whose parent is `parent`, read from /proc (no procps needed). */
async function childrenOf(parent: number): Promise<number[]> {
  const children: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => null);
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
    const ppid = stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : NaN;
    if (ppid === parent) children.push(Number(name));
  }
  return children;
}
