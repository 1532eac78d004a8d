// A deploy's upload is piped into the host command as it is made, never held in memory whole. Both
// transports take a stream as stdin: the bytes arrive intact, a producer that fails fails the run
// (a cut-off archive must not pass for a whole one), and a command that stops reading ends the producer.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost } from '../../relay/transport/local-host.ts';
import { connectSshHost } from '../../relay/transport/ssh-host.ts';
import type { TargetHost } from '../../relay/transport/target-host.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';

let sshd: Sshd;
let ssh: TargetHost;

beforeAll(async () => {
  sshd = await startSshd();
  ssh = await connectSshHost({ host: sshd.host, port: sshd.port, username: sshd.username, privateKeyPath: sshd.privateKeyPath, hostKeyFingerprint: sshd.hostKeyFingerprint });
});

afterAll(async () => {
  await ssh?.close();
  await sshd?.stop();
});

/** `count` chunks of 256 KiB, made one at a time as the reader asks; fails after `failAfter` chunks. */
function producer(count: number, failAfter = Infinity): { stream: Readable; sent: Buffer[] } {
  const sent: Buffer[] = [];
  let made = 0;
  const stream = new Readable({
    read() {
      if (made >= failAfter) {
        this.destroy(new Error('tar could not read www/floorplan.png'));
        return;
      }
      if (made >= count) {
        this.push(null);
        return;
      }
      made += 1;
      const chunk = randomBytes(256 * 1024);
      sent.push(chunk);
      this.push(chunk);
    },
  });
  return { stream, sent };
}

describe.each([
  { transport: 'local', host: (): TargetHost => new LocalHost() },
  { transport: 'ssh', host: () => ssh },
])('a streamed stdin over the $transport transport', ({ host }) => {
  it('arrives byte for byte', async () => {
    const { stream, sent } = producer(40);
    const result = await host().run('sha256sum | cut -c1-64', { stdin: stream });
    expect(result.code).toBe(0);
    expect(result.stdout.toString('utf8').trim()).toBe(createHash('sha256').update(Buffer.concat(sent)).digest('hex'));
  });

  it('fails the run with the producer\'s error when the producer fails halfway', async () => {
    const { stream } = producer(40, 8);
    await expect(host().run('cat > /dev/null', { stdin: stream })).rejects.toThrow(/tar could not read www\/floorplan\.png/);
  });

  it('ends the producer when the command exits without reading it all', async () => {
    const { stream } = producer(400);
    await expect(host().run('exit 7', { stdin: stream })).resolves.toMatchObject({ code: 7 });
    expect(stream.destroyed).toBe(true);
  });
});
