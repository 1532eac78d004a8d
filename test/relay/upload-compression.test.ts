// Whether an upload is gzipped is measured, not guessed: gzip pays only on a link slower than the
// relay compresses. Over a real sshd, a link throttled to Wi-Fi-at-its-worst speed gets gzip; a
// relay on the host itself does not; whichever is chosen, the files arrive byte for byte with their modes.
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageArchive } from '../../relay/pipeline/move-into-place.ts';
import { packFiles } from '../../relay/pipeline/upload.ts';
import { chooseUploadCompression, decideCompression, MEASURE_ABOVE_BYTES } from '../../relay/pipeline/upload-compression.ts';
import { LocalHost } from '../../relay/transport/local-host.ts';
import { connectSshHost } from '../../relay/transport/ssh-host.ts';
import type { TargetHost } from '../../relay/transport/target-host.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

let sshd: Sshd;
let proxy: TcpProxy;
let scratch: string;
const connect = (port: number): Promise<TargetHost> =>
  connectSshHost({ host: sshd.host, port, username: sshd.username, privateKeyPath: sshd.privateKeyPath, hostKeyFingerprint: sshd.hostKeyFingerprint });
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  sshd = await startSshd();
  proxy = await startTcpProxy(sshd.port);
  scratch = await mkdtemp(join(tmpdir(), 'lanyard-upload-compression-'));
});

afterAll(async () => {
  await proxy?.close();
  await sshd?.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe('choosing whether to gzip an upload', () => {
  it('gzips when the link is less than half as fast as gzip, and says both rates', () => {
    expect(decideCompression({ linkBytesPerSecond: 2e6, gzipBytesPerSecond: 40e6 })).toEqual({ gzip: true, why: "gzip (the relay gzips at 40 MB/s, over twice the link's 2.0 MB/s)" });
    expect(decideCompression({ linkBytesPerSecond: 300e6, gzipBytesPerSecond: 40e6 })).toEqual({ gzip: false, why: 'uncompressed (the link carries 300 MB/s; gzip, at 40 MB/s, is not twice as fast)' });
    // Close: a loopback under load measured 50 MB/s against gzip's 60 and gzip doubled the deploy.
    expect(decideCompression({ linkBytesPerSecond: 50e6, gzipBytesPerSecond: 60e6 }).gzip).toBe(false);
  });

  it('keeps to the setting when the owner chose, and gzips a small upload without measuring', async () => {
    const host = await connect(sshd.port);
    try {
      expect((await chooseUploadCompression('gzip', host, 500e6)).gzip).toBe(true);
      expect((await chooseUploadCompression('none', host, 10)).gzip).toBe(false);
      expect(await chooseUploadCompression('auto', host, MEASURE_ABOVE_BYTES - 1)).toEqual({ gzip: true, why: 'gzip (a small upload)' });
    } finally {
      await host.close();
    }
  });

  it('sends uncompressed from a relay on the host itself, and gzipped over a slow link, measured once per connection', async () => {
    // A pipe on one machine carries a gigabyte a second: gzip could only slow it down.
    const local = await chooseUploadCompression('auto', new LocalHost(), 400e6);
    expect(local.gzip, local.why).toBe(false);
    expect(local.why).toMatch(/^uncompressed \(the link carries [\d.]+ MB\/s; gzip, at [\d.]+ MB\/s, is not twice as fast\)$/);

    // 1 MB/s: a Wi-Fi link at its worst, or a VPN to a holiday home.
    proxy.throttle(1_000_000);
    const slow = await connect(proxy.port);
    try {
      const choice = await chooseUploadCompression('auto', slow, 400e6);
      expect(choice.gzip, choice.why).toBe(true);
      expect(choice.why).toMatch(/^gzip \(the relay gzips at [\d.]+ MB\/s, over twice the link's [\d.]+ MB\/s\)$/);
      proxy.resetCounters();
      // The second upload over the same connection is not probed again.
      expect(await chooseUploadCompression('auto', slow, 400e6)).toEqual(choice);
      expect(proxy.bytesUp).toBeLessThan(64 * 1024);
    } finally {
      proxy.throttle(null);
      await slow.close();
    }
  });

  for (const gzip of [true, false]) {
    it(`lands the files byte for byte with their modes, ${gzip ? 'gzipped' : 'uncompressed'}`, async () => {
      const source = join(scratch, `source-${gzip}`);
      await mkdir(join(source, 'custom_components/spook'), { recursive: true });
      const files: Record<string, Buffer> = {
        'automations.yaml': Buffer.from('- alias: Hall light\n'.repeat(2000)),
        'custom_components/spook/__init__.py': Buffer.from('"""Spook."""\n'),
        'www/floorplan.png': randomBytes(300_000),
        'scripts/backup.sh': Buffer.from('#!/bin/sh\necho ok\n'),
      };
      for (const [path, bytes] of Object.entries(files)) {
        await mkdir(join(source, path, '..'), { recursive: true });
        await writeFile(join(source, path), bytes);
      }
      await chmod(join(source, 'scripts/backup.sh'), 0o755);
      const host = await connect(sshd.port);
      const staging = join(sshd.homeDir, `staging-${gzip}`);
      try {
        const upload = packFiles(source, Object.keys(files), { gzip });
        await stageArchive(host, staging, upload.archive, { gzip });
        const sent = await upload.finished;
        const raw = Object.values(files).reduce((n, b) => n + b.length, 0);
        if (gzip) expect(sent).toBeLessThan(raw);
        else expect(sent).toBeGreaterThan(raw);
      } finally {
        await host.close();
      }
      for (const [path, bytes] of Object.entries(files)) expect(sha(await readFile(join(staging, path))), path).toBe(sha(bytes));
      expect((await stat(join(staging, 'scripts/backup.sh'))).mode & 0o111).toBe(0o111);
    });
  }
});
