// Both transports run the same scripts with the same results; SSH refuses a host key it was not
// told to trust. Against a real OpenSSH sshd on 127.0.0.1.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost } from '../../relay/transport/local-host.ts';
import { connectSshHost, SshError } from '../../relay/transport/ssh-host.ts';
import type { TargetHost } from '../../relay/transport/target-host.ts';
import { fingerprintOfKeyFile, generateKey, startSshd, type Sshd } from '../support/sshd.ts';
import { freePort } from '../support/ports.ts';

let sshd: Sshd;
let ssh: TargetHost;
let scratch: string;

beforeAll(async () => {
  sshd = await startSshd();
  ssh = await connectSshHost({ host: sshd.host, port: sshd.port, username: sshd.username, privateKeyPath: sshd.privateKeyPath, hostKeyFingerprint: sshd.hostKeyFingerprint });
  scratch = await mkdtemp(join(tmpdir(), 'lanyard-transport-'));
});

afterAll(async () => {
  await ssh?.close();
  await sshd?.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe.each([
  ['local', () => new LocalHost() as TargetHost, () => scratch],
  ['ssh', () => ssh, () => sshd.homeDir],
])('the %s transport', (_name, host, home) => {
  it('runs a script and returns its output, exit code and errors', async () => {
    const result = await host().run('echo out; echo err >&2; exit 3');
    expect(result).toEqual({ code: 3, stdout: Buffer.from('out\n'), stderr: 'err\n' });
  });

  it('passes binary data through stdin and stdout unchanged', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    const result = await host().run('cat', { stdin: data });
    expect(result.code).toBe(0);
    expect(result.stdout.equals(data)).toBe(true);
  });

  it('uploads and downloads a file byte for byte', async () => {
    const data = randomBytes(100_000);
    const local = join(scratch, `${_name}-up.bin`);
    const back = join(scratch, `${_name}-back.bin`);
    await writeFile(local, data);
    await host().upload(local, join(home(), 'uploaded.bin'));
    await host().download(join(home(), 'uploaded.bin'), back);
    expect((await readFile(back)).equals(data)).toBe(true);
  });
});

describe('ssh host key pinning', () => {
  it('refuses a host whose key is not the pinned one, and says how to check it', async () => {
    const other = join(scratch, 'other_key');
    await generateKey(other);
    const wrong = await fingerprintOfKeyFile(`${other}.pub`);
    const attempt = connectSshHost({ host: sshd.host, port: sshd.port, username: sshd.username, privateKeyPath: sshd.privateKeyPath, hostKeyFingerprint: wrong });
    await expect(attempt).rejects.toMatchObject({ code: 'host_key_mismatch' });
    await expect(attempt).rejects.toThrow(new RegExp(`host key is ${sshd.hostKeyFingerprint.replace(/[+/]/g, '\\$&')}.*ssh-keyscan`));
  });

  it('reports a key the server does not accept as auth_failed', async () => {
    const stranger = join(scratch, 'stranger_key');
    await generateKey(stranger);
    await expect(
      connectSshHost({ host: sshd.host, port: sshd.port, username: sshd.username, privateKeyPath: stranger, hostKeyFingerprint: sshd.hostKeyFingerprint }),
    ).rejects.toMatchObject({ code: 'auth_failed' });
  });

  it('reports a closed port as unreachable', async () => {
    const port = await freePort();
    const error = await connectSshHost({ host: '127.0.0.1', port, username: sshd.username, privateKeyPath: sshd.privateKeyPath, hostKeyFingerprint: sshd.hostKeyFingerprint }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SshError);
    expect(error).toMatchObject({ code: 'unreachable' });
  });
});
