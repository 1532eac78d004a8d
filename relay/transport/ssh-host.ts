// The ssh transport: node-ssh (ssh2) to the Home Assistant host, with the host key pinned by its
// SHA-256 fingerprint. An unknown or changed key refuses to connect before anything is sent. One
// connection serves every command of a job; stdin and stdout are raw bytes, so tar archives
// stream through them.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { NodeSSH } from 'node-ssh';
import { z } from 'zod';
import { CodedError } from '../coded-error.ts';
import { shellQuote, type RunOptions, type RunResult, type TargetHost } from './target-host.ts';

export const SshTargetOptions = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  username: z.string().min(1),
  privateKeyPath: z.string().optional(),
  privateKey: z.string().optional(),
  passphrase: z.string().optional(),
  agent: z.string().optional(),
  hostKeyFingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/),
  readyTimeoutMs: z.number().int().positive().default(20_000),
});
export type SshTargetOptions = z.input<typeof SshTargetOptions>;

export type SshErrorCode = 'host_key_mismatch' | 'auth_failed' | 'unreachable' | 'timeout' | 'ssh_failed';

export class SshError extends CodedError<SshErrorCode> {}

/** `SHA256:<base64, no padding>` of a raw public key blob, as `ssh-keygen -lf` prints it. */
export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

function sameFingerprint(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export class SshHost implements TargetHost {
  readonly description: string;

  constructor(
    private readonly ssh: NodeSSH,
    options: { host: string; port: number; username: string },
  ) {
    this.description = `ssh ${options.username}@${options.host}:${options.port}`;
  }

  run(script: string, options: RunOptions = {}): Promise<RunResult> {
    const connection = this.ssh.connection;
    if (!connection) return Promise.reject(new SshError('ssh_failed', `${this.description}: not connected`));
    const command = `${options.cwd ? `cd ${shellQuote(options.cwd)} && ` : ''}sh -c ${shellQuote(script)}`;
    return new Promise((resolve, reject) => {
      connection.exec(command, (error, channel) => {
        if (error) return reject(new SshError('ssh_failed', `${this.description}: could not run a command: ${error.message}`));
        const out: Buffer[] = [];
        let stderr = '';
        let code: number | null = null;
        channel.on('data', (chunk: Buffer) => out.push(chunk));
        channel.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
        channel.on('exit', (exitCode: number | null, signal?: string) => {
          code = exitCode ?? (signal ? 128 : 1);
        });
        channel.on('close', () => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr }));
        channel.on('error', (e: Error) => reject(new SshError('ssh_failed', `${this.description}: ${e.message}`)));
        channel.end(options.stdin ?? '');
      });
    });
  }

  async upload(localPath: string, remotePath: string): Promise<void> {
    await this.ssh.putFile(localPath, remotePath);
  }

  async download(remotePath: string, localPath: string): Promise<void> {
    await this.ssh.getFile(localPath, remotePath);
  }

  async close(): Promise<void> {
    this.ssh.dispose();
  }
}

export async function connectSshHost(input: SshTargetOptions): Promise<SshHost> {
  const options = SshTargetOptions.parse(input);
  const where = `${options.username}@${options.host}:${options.port}`;
  const ssh = new NodeSSH();
  let presented: string | null = null;
  const privateKey = options.privateKey ?? (options.privateKeyPath ? await readFile(options.privateKeyPath, 'utf8') : undefined);
  const agent = privateKey ? undefined : (options.agent ?? process.env.SSH_AUTH_SOCK);
  try {
    await ssh.connect({
      host: options.host,
      port: options.port,
      username: options.username,
      readyTimeout: options.readyTimeoutMs,
      ...(privateKey ? { privateKey } : {}),
      ...(options.passphrase ? { passphrase: options.passphrase } : {}),
      ...(agent ? { agent } : {}),
      hostVerifier: (key: Buffer) => {
        presented = fingerprintOf(key);
        return sameFingerprint(presented, options.hostKeyFingerprint);
      },
    });
  } catch (error) {
    ssh.dispose();
    const text = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: string; level?: string }).code;
    if (presented && !sameFingerprint(presented, options.hostKeyFingerprint)) {
      throw new SshError(
        'host_key_mismatch',
        `refusing to connect to ${where}: its host key is ${presented}, but the pinned one is ${options.hostKeyFingerprint}. ` +
          `If the host was reinstalled, check the new key and pin it: ssh-keyscan -p ${options.port} ${options.host} | ssh-keygen -lf -`,
      );
    }
    if ((error as { level?: string }).level === 'client-authentication' || /authentication/i.test(text)) {
      throw new SshError('auth_failed', `${where} refused the relay's key: add the relay's public key to ${options.username}'s authorized_keys`);
    }
    if (/timed out/i.test(text)) throw new SshError('timeout', `${where} did not answer the SSH handshake within ${options.readyTimeoutMs} ms`);
    if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND' || code === 'ECONNRESET') {
      throw new SshError('unreachable', `${where} is not reachable (${code}): is sshd running and the port right?`);
    }
    throw new SshError('ssh_failed', `SSH to ${where} failed: ${text}`);
  }
  return new SshHost(ssh, options);
}
