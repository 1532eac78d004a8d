// The ssh transport: node-ssh (ssh2) to the Home Assistant host, with the host key pinned by its
// SHA-256 fingerprint. An unknown or changed key refuses to connect before the relay has even said
// who it is. One connection serves every command of a job; stdin and stdout are raw bytes, so tar
// archives stream through them.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { Readable } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import ssh2, { type Client, type ClientChannel, type SFTPWrapper } from 'ssh2';
import { z } from 'zod';
import { CodedError } from '../coded-error.ts';
import { shellQuote, type RunOptions, type RunResult, type TargetHost } from './target-host.ts';

export const SshTargetOptions = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  username: z.string().min(1),
  privateKeyPath: z.string().min(1).optional(),
  /** The key itself (OpenSSH or PEM text), for keys kept in a secret store rather than a file. */
  privateKey: z.string().min(1).optional(),
  passphrase: z.string().optional(),
  /** ssh-agent socket; used when no key is given, defaulting to $SSH_AUTH_SOCK. */
  agent: z.string().min(1).optional(),
  hostKeyFingerprint: z
    .string()
    .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'expected SHA256:<43 base64 characters>, as `ssh-keyscan HOST | ssh-keygen -lf -` prints it'),
  readyTimeoutMs: z.number().int().positive().default(20_000),
});
export type SshTargetOptions = z.input<typeof SshTargetOptions>;

export type SshErrorCode =
  | 'invalid_options'
  | 'bad_private_key'
  | 'host_key_mismatch'
  | 'auth_failed'
  | 'unreachable'
  | 'timeout'
  | 'connection_lost'
  | 'transfer_failed'
  | 'ssh_failed';

export class SshError extends CodedError<SshErrorCode> {}

/** `SHA256:<base64, no padding>` of a raw public key blob, as `ssh-keygen -lf` prints it. */
export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The algorithm name a public key blob starts with (`ssh-ed25519`, `ssh-rsa`, ...). */
function keyTypeOf(key: Buffer): string {
  const length = key.length >= 4 ? key.readUInt32BE(0) : 0;
  return length > 0 && length <= 64 && key.length >= 4 + length ? key.subarray(4, 4 + length).toString('latin1') : 'unknown';
}

/** How `ssh-keygen -lf` labels a key type at the end of its line: ssh-ed25519 → ED25519. */
function keygenLabel(type: string): string {
  if (type.startsWith('ssh-ed25519')) return 'ED25519';
  if (type.startsWith('ecdsa-sha2-')) return 'ECDSA';
  if (type.startsWith('ssh-rsa')) return 'RSA';
  return type;
}

// Keepalives notice a host that vanished (unplugged, rebooted) within a minute, instead of a
// command hanging until TCP gives up many minutes later.
const KEEPALIVE_INTERVAL_MS = 15_000;
const KEEPALIVE_COUNT_MAX = 4;

export class SshHost implements TargetHost {
  readonly description: string;
  private lost: string | null = null;
  // undefined: not asked yet; null: the server offers no SFTP, so files go through `cat`.
  private sftp: Promise<SFTPWrapper | null> | undefined;

  constructor(
    private readonly ssh: NodeSSH,
    private readonly connection: Client,
    options: { host: string; port: number; username: string },
  ) {
    this.description = `ssh ${options.username}@${options.host}:${options.port}`;
    // Each command is a few small packets (open, exec, data, EOF); with Nagle's algorithm every one
    // of them waited out the server's delayed ACK, about 40 ms per command instead of 4.
    connection.setNoDelay(true);
    // node-ssh stops listening for errors once connected; an 'error' event nobody listens to
    // (a reset, a keepalive timeout) would crash the relay.
    connection.on('error', (error: Error) => {
      this.lost ??= error.message;
    });
    connection.on('close', () => {
      this.lost ??= 'the connection closed';
    });
  }

  get connected(): boolean {
    return this.lost === null;
  }

  run(script: string, options: RunOptions = {}): Promise<RunResult> {
    if (this.lost) return Promise.reject(this.lostError());
    // The login shell only starts `sh`, so a user whose shell is bash or zsh runs the very same
    // POSIX script as the local transport. `exec` makes a signal's death reach us as exit-signal.
    const command = `${options.cwd ? `cd ${shellQuote(options.cwd)} && ` : ''}exec sh -c ${shellQuote(script)}`;
    return new Promise((resolve, reject) => {
      // ssh2's exec rather than node-ssh's execCommand: execCommand decodes stdout to a string,
      // which would corrupt the tar archives that travel through it.
      this.connection.exec(command, (error: Error | undefined, channel: ClientChannel) => {
        if (error) {
          reject(this.lost ? this.lostError() : new SshError('ssh_failed', `${this.description} would not run a command: ${error.message}`));
          return;
        }
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let code: number | null = null;
        const input = options.stdin;
        let inputFailure: Error | null = null;
        channel.on('data', (chunk: Buffer) => stdout.push(chunk));
        channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        // ssh2 reports a signal as 'SIGTERM'; 128 + its number is what a shell (and LocalHost) says.
        channel.on('exit', (exitCode: number | null, signal?: string) => {
          code = exitCode ?? 128 + (constants.signals[signal as NodeJS.Signals] ?? 0);
        });
        // A command that exits without reading its stdin closes the channel under our writes.
        channel.on('error', () => undefined);
        channel.on('close', () => {
          // A command that exited without reading all of a streamed stdin: stop the producer too.
          if (input instanceof Readable && !input.readableEnded) input.destroy();
          if (inputFailure) reject(inputFailure);
          else if (code !== null) resolve({ code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') });
          else if (this.lost) reject(this.lostError());
          // Without an exit status, partial output must not pass for a finished command.
          else reject(new SshError('ssh_failed', `${this.description} ended a command without an exit status; the command may have been interrupted on the host`));
        });
        if (input instanceof Readable) {
          // The producer failed (tar could not read a file): the command must not take a cut-off
          // stream for a whole one, so the channel is closed without EOF and the run fails.
          input.on('error', (error: Error) => {
            inputFailure ??= error;
            input.unpipe(channel);
            channel.close();
          });
          input.pipe(channel);
        } else channel.end(input ?? '');
      });
    });
  }

  async upload(localPath: string, remotePath: string): Promise<void> {
    const sftp = await this.openSftp();
    try {
      if (sftp) await new Promise<void>((resolve, reject) => sftp.fastPut(localPath, remotePath, (e) => (e ? reject(e) : resolve())));
      else {
        const result = await this.run(`cat > ${shellQuote(remotePath)}`, { stdin: await readFile(localPath) });
        if (result.code !== 0) throw new Error(result.stderr.trim() || `exit code ${result.code}`);
      }
    } catch (error) {
      throw this.transferError(`upload ${localPath} to ${remotePath}`, error);
    }
  }

  async download(remotePath: string, localPath: string): Promise<void> {
    const sftp = await this.openSftp();
    try {
      if (sftp) await new Promise<void>((resolve, reject) => sftp.fastGet(remotePath, localPath, (e) => (e ? reject(e) : resolve())));
      else {
        const result = await this.run(`cat < ${shellQuote(remotePath)}`);
        if (result.code !== 0) throw new Error(result.stderr.trim() || `exit code ${result.code}`);
        await writeFile(localPath, result.stdout);
      }
    } catch (error) {
      throw this.transferError(`download ${remotePath} to ${localPath}`, error);
    }
  }

  async close(): Promise<void> {
    this.lost ??= 'the relay closed the connection';
    this.ssh.dispose();
  }

  // node-ssh's putFile/getFile are not used: putFile quietly creates missing parent folders,
  // which the local transport does not, and both would open a new SFTP session per file.
  private openSftp(): Promise<SFTPWrapper | null> {
    if (this.lost) return Promise.reject(this.lostError());
    this.sftp ??= this.ssh.requestSFTP().then(
      (sftp) => {
        sftp.on('error', () => undefined);
        sftp.on('close', () => (this.sftp = undefined));
        return sftp;
      },
      (error: Error) => {
        if (this.lost) {
          this.sftp = undefined;
          throw this.lostError();
        }
        // Home Assistant's SSH add-ons ship with SFTP switched off; `cat` over exec does the same job.
        if (/subsystem/i.test(error.message)) return null;
        this.sftp = undefined;
        throw new SshError('ssh_failed', `${this.description} would not open an SFTP session: ${error.message}`);
      },
    );
    return this.sftp;
  }

  private transferError(what: string, error: unknown): SshError {
    if (error instanceof SshError) return error;
    const reason = error instanceof Error ? error.message : String(error);
    return new SshError('transfer_failed', `could not ${what} on ${this.description}: ${reason}`);
  }

  private lostError(): SshError {
    return new SshError('connection_lost', `the SSH connection to ${this.description} is gone (${this.lost}); the job has to connect again`);
  }
}

export async function connectSshHost(input: SshTargetOptions): Promise<SshHost> {
  const parsed = SshTargetOptions.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'options'}: ${issue.message}`);
    throw new SshError('invalid_options', `the SSH target is misconfigured: ${problems.join('; ')}`);
  }
  const options = parsed.data;
  const where = `${options.username}@${options.host}:${options.port}`;
  const privateKey = await loadPrivateKey(options);
  // An explicit agent is offered beside a key; $SSH_AUTH_SOCK only stands in when no key is given.
  const agent = options.agent ?? (privateKey ? undefined : process.env.SSH_AUTH_SOCK);
  if (!privateKey && !agent) {
    throw new SshError('invalid_options', `no way to log in to ${where}: set privateKeyPath (or privateKey, or agent); SSH_AUTH_SOCK is not set either`);
  }

  const pinned = Buffer.from(options.hostKeyFingerprint.slice('SHA256:'.length), 'base64');
  let presented: { fingerprint: string; type: string } | null = null;
  let refused = false;
  const ssh = new NodeSSH();
  try {
    await ssh.connect({
      host: options.host,
      port: options.port,
      username: options.username,
      readyTimeout: options.readyTimeoutMs,
      keepaliveInterval: KEEPALIVE_INTERVAL_MS,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      ...(privateKey ? { privateKey } : {}),
      ...(privateKey && options.passphrase ? { passphrase: options.passphrase } : {}),
      ...(agent ? { agent } : {}),
      // No hostHash: ssh2 then hands over the raw key blob, which is what ssh-keygen fingerprints.
      hostVerifier: (key: Buffer) => {
        presented = { fingerprint: fingerprintOf(key), type: keyTypeOf(key) };
        const digest = createHash('sha256').update(key).digest();
        refused = !(digest.length === pinned.length && timingSafeEqual(digest, pinned));
        return !refused;
      },
    });
  } catch (error) {
    ssh.dispose();
    throw connectError(error, { where, options, refused, presented, agent });
  }
  return new SshHost(ssh, ssh.connection!, options);
}

async function loadPrivateKey(options: z.output<typeof SshTargetOptions>): Promise<string | undefined> {
  if (options.privateKey && options.privateKeyPath) {
    throw new SshError('invalid_options', 'give the SSH key either as privateKeyPath or as privateKey, not both');
  }
  let key = options.privateKey;
  if (options.privateKeyPath) {
    try {
      key = await readFile(options.privateKeyPath, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new SshError('bad_private_key', `cannot read the SSH key file ${options.privateKeyPath} (${reason}): check the path and that the relay's user may read it`);
    }
  }
  if (key === undefined) return undefined;
  // Checked here rather than left to ssh2, whose complaint would surface as a vague connect failure.
  const parsed = ssh2.utils.parseKey(key, options.passphrase);
  if (parsed instanceof Error) {
    const from = options.privateKeyPath ? `the SSH key file ${options.privateKeyPath}` : 'the SSH key';
    const hint = /passphrase|encrypted|decrypt/i.test(parsed.message) ? 'set passphrase to the key\'s passphrase' : 'it must be an OpenSSH or PEM private key';
    throw new SshError('bad_private_key', `${from} cannot be used (${parsed.message}): ${hint}`);
  }
  return key;
}

function connectError(
  error: unknown,
  context: {
    where: string;
    options: z.output<typeof SshTargetOptions>;
    refused: boolean;
    presented: { fingerprint: string; type: string } | null;
    agent: string | undefined;
  },
): SshError {
  const { where, options, presented } = context;
  if (context.refused && presented) {
    // ssh-keyscan lists every key type the host has, and ssh2 may have negotiated another type
    // than the one the user pinned: naming the type says which line of its output to copy.
    const label = keygenLabel(presented.type);
    return new SshError(
      'host_key_mismatch',
      `refused to connect to ${where}: its host key is ${presented.fingerprint} (${label}), but the pinned fingerprint is ` +
        `${options.hostKeyFingerprint}. If the host was reinstalled or its SSH add-on was reset, confirm the key on the host itself, ` +
        `then pin the (${label}) fingerprint printed by: ssh-keyscan -p ${options.port} ${options.host} | ssh-keygen -lf -`,
    );
  }
  const text = error instanceof Error ? error.message : String(error);
  const { level, code } = error as { level?: string; code?: string };
  if (level === 'client-authentication') {
    const using = options.privateKeyPath ? `the key ${options.privateKeyPath}` : options.privateKey ? 'the configured key' : `the keys in the ssh-agent at ${context.agent}`;
    return new SshError('auth_failed', `${where} refused ${using}: check the username, and that the matching public key is in that user's authorized_keys`);
  }
  if (level === 'agent') return new SshError('auth_failed', `the ssh-agent at ${context.agent} could not sign the login to ${where} (${text}): is the agent running with the key loaded?`);
  if (level === 'client-timeout' || code === 'ETIMEDOUT') {
    return new SshError('timeout', `${where} did not complete the SSH handshake within ${options.readyTimeoutMs} ms: is the host up, and is that port its SSH server?`);
  }
  if (level === 'client-dns') return new SshError('unreachable', `the host name ${options.host} does not resolve (${code ?? text}): check host`);
  if (code === 'ECONNREFUSED') return new SshError('unreachable', `nothing accepts connections at ${options.host}:${options.port}: is the SSH server (or add-on) running, and is the port right?`);
  if (level === 'client-socket' || /No response from server|Connection lost before handshake/.test(text)) {
    return new SshError('unreachable', `${where} could not be reached or hung up before SSH was ready (${code ?? text}): check the host, the port and the network`);
  }
  return new SshError('ssh_failed', `SSH to ${where} failed: ${text}`);
}
