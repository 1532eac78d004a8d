// Both transports run the same scripts with the same results; SSH refuses a host key it was not
// told to trust, and says why a connection failed. Against a real OpenSSH sshd on 127.0.0.1.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost } from '../../relay/transport/local-host.ts';
import { connectSshHost, type SshTargetOptions } from '../../relay/transport/ssh-host.ts';
import type { TargetHost } from '../../relay/transport/target-host.ts';
import { freePort } from '../support/ports.ts';
import { fingerprintOfKeyFile, generateKey, startSshd, type Sshd } from '../support/sshd.ts';

let sshd: Sshd;
let sshdWithoutSftp: Sshd;
let ssh: TargetHost;
let sshWithoutSftp: TargetHost;
let scratch: string;

function loginTo(server: Sshd, overrides: Partial<SshTargetOptions> = {}): SshTargetOptions {
  return {
    host: server.host,
    port: server.port,
    username: server.username,
    privateKeyPath: server.privateKeyPath,
    hostKeyFingerprint: server.hostKeyFingerprint,
    ...overrides,
  };
}

beforeAll(async () => {
  [sshd, sshdWithoutSftp] = await Promise.all([startSshd(), startSshd({ sftp: false })]);
  [ssh, sshWithoutSftp] = await Promise.all([connectSshHost(loginTo(sshd)), connectSshHost(loginTo(sshdWithoutSftp))]);
  scratch = await mkdtemp(join(tmpdir(), 'lanyard-transport-'));
});

afterAll(async () => {
  await ssh?.close();
  await sshWithoutSftp?.close();
  await sshd?.stop();
  await sshdWithoutSftp?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe.each([
  { transport: 'local', host: (): TargetHost => new LocalHost(), home: () => scratch },
  { transport: 'ssh', host: () => ssh, home: () => sshd.homeDir },
  // Home Assistant's SSH add-ons ship with SFTP off; files then travel through `cat`.
  { transport: 'ssh without SFTP', host: () => sshWithoutSftp, home: () => sshdWithoutSftp.homeDir },
])('the $transport transport', ({ transport, host, home }) => {
  it('runs a script and returns its output, exit code and errors', async () => {
    const result = await host().run('echo out; echo err >&2; exit 3');
    expect(result).toEqual({ code: 3, stdout: Buffer.from('out\n'), stderr: 'err\n' });
  });

  it('returns a failing exit code instead of throwing', async () => {
    await expect(host().run('false')).resolves.toMatchObject({ code: 1 });
    await expect(host().run('exit 42')).resolves.toMatchObject({ code: 42 });
  });

  it('reports a script killed by a signal as 128 + the signal number, like a shell', async () => {
    await expect(host().run('kill -TERM $$')).resolves.toMatchObject({ code: 143 });
  });

  it('passes binary data through stdin and stdout unchanged', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    const result = await host().run('cat', { stdin: data });
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBe(data.length);
    expect(result.stdout.equals(data)).toBe(true);
  });

  it('finishes a script that ignores a large stdin', async () => {
    await expect(host().run('exit 0', { stdin: randomBytes(4 * 1024 * 1024) })).resolves.toMatchObject({ code: 0 });
  });

  it('keeps multi-byte characters in stderr intact across chunks', async () => {
    // 30,000 three-byte characters: 90 KB that arrive in chunks cut mid-character.
    const result = await host().run(`i=0; while [ $i -lt 30000 ]; do printf '€'; i=$((i+1)); done >&2`);
    expect(result.stderr).toBe('€'.repeat(30_000));
  });

  it('runs in the working folder it is given', async () => {
    const result = await host().run('pwd', { cwd: home() });
    expect(result.stdout.toString().trim()).toBe(await realpath(home()));
  });

  it('reports a missing working folder as a failed run with the shell\'s reason', async () => {
    const result = await host().run('echo never', { cwd: join(home(), 'no-such-folder') });
    expect(result.code).not.toBe(0);
    expect(result.stdout.length).toBe(0);
    expect(result.stderr).toContain('no-such-folder');
  });

  it('uploads and downloads a file byte for byte', async () => {
    const data = randomBytes(1024 * 1024 + 17);
    const local = join(scratch, `${transport}-up.bin`);
    const back = join(scratch, `${transport}-back.bin`);
    await writeFile(local, data);
    await host().upload(local, join(home(), 'uploaded.bin'));
    await host().download(join(home(), 'uploaded.bin'), back);
    expect((await readFile(back)).equals(data)).toBe(true);
    const onHost = await host().run(`cat ${join(home(), 'uploaded.bin')}`);
    expect(onHost.stdout.equals(data)).toBe(true);
  });

  it('refuses to upload into a folder that does not exist, naming the path', async () => {
    const local = join(scratch, `${transport}-small.txt`);
    await writeFile(local, 'hello\n');
    const target = join(home(), 'missing-folder', 'file.txt');
    const error = await host().upload(local, target).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'transfer_failed', message: expect.stringContaining(target) });
    await expect(host().run(`test -e ${join(home(), 'missing-folder')}`)).resolves.toMatchObject({ code: 1 });
  });

  it('fails to download a file that does not exist, naming the path', async () => {
    const source = join(home(), 'not-there.txt');
    await expect(host().download(source, join(scratch, 'never.txt'))).rejects.toMatchObject({
      code: 'transfer_failed',
      message: expect.stringContaining(source),
    });
  });
});

describe('the ssh transport connecting', () => {
  it('connects when the host presents the pinned key, and names where it is connected', async () => {
    const host = await connectSshHost(loginTo(sshd));
    try {
      expect(host.description).toBe(`ssh ${sshd.username}@127.0.0.1:${sshd.port}`);
      const result = await host.run('id -un');
      expect(result.stdout.toString().trim()).toBe(sshd.username);
    } finally {
      await host.close();
    }
  });

  it('refuses a host whose key is not the pinned one before logging in, and says how to get the right one', async () => {
    const other = join(scratch, 'other_host_key');
    await generateKey(other);
    const wrong = await fingerprintOfKeyFile(`${other}.pub`);
    const logBefore = sshd.log().length;

    const error = await connectSshHost(loginTo(sshd, { hostKeyFingerprint: wrong })).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'host_key_mismatch' });
    const message = (error as Error).message;
    expect(message).toContain(`its host key is ${sshd.hostKeyFingerprint} (ED25519)`);
    expect(message).toContain(`pinned fingerprint is ${wrong}`);
    expect(message).toContain(`pin the (ED25519) fingerprint printed by: ssh-keyscan -p ${sshd.port} 127.0.0.1 | ssh-keygen -lf -`);
    // The relay hung up during key exchange: sshd never saw a user name, a key or a command.
    await new Promise((r) => setTimeout(r, 100));
    const logged = sshd.log().slice(logBefore);
    expect(logged).toMatch(/\[preauth\]/);
    expect(logged).not.toMatch(/publickey|Invalid user|Starting session/);
  });

  it('reports a key the server does not accept as auth_failed', async () => {
    const stranger = join(scratch, 'stranger_key');
    await generateKey(stranger);
    await expect(connectSshHost(loginTo(sshd, { privateKeyPath: stranger }))).rejects.toMatchObject({
      code: 'auth_failed',
      message: expect.stringContaining('authorized_keys'),
    });
  });

  it('reports an unknown user as auth_failed', async () => {
    await expect(connectSshHost(loginTo(sshd, { username: 'nobody-by-this-name' }))).rejects.toMatchObject({ code: 'auth_failed' });
  });

  it('reports a key file it cannot read as bad_private_key, without connecting', async () => {
    const missing = join(scratch, 'no-such-key');
    await expect(connectSshHost(loginTo(sshd, { privateKeyPath: missing }))).rejects.toMatchObject({
      code: 'bad_private_key',
      message: expect.stringContaining(missing),
    });
  });

  it('rejects a malformed fingerprint as invalid_options, naming the field', async () => {
    await expect(connectSshHost(loginTo(sshd, { hostKeyFingerprint: `${sshd.hostKeyFingerprint}=` }))).rejects.toMatchObject({
      code: 'invalid_options',
      message: expect.stringContaining('hostKeyFingerprint'),
    });
  });

  it('reports a closed port as unreachable', async () => {
    const port = await freePort();
    await expect(connectSshHost(loginTo(sshd, { port }))).rejects.toMatchObject({ code: 'unreachable' });
  });

  it('reports a server that never answers the handshake as timeout', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      await expect(connectSshHost(loginTo(sshd, { port, readyTimeoutMs: 300 }))).rejects.toMatchObject({ code: 'timeout' });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('reports a connection that drops during a command as connection_lost, and every later command too', async () => {
    const host = await connectSshHost(loginTo(sshd));
    try {
      // The script's parent is this connection's sshd process: killing it cuts the connection.
      await expect(host.run('kill -KILL $PPID; sleep 5')).rejects.toMatchObject({ code: 'connection_lost' });
      await expect(host.run('echo again')).rejects.toMatchObject({ code: 'connection_lost' });
    } finally {
      await host.close();
    }
  });
});
