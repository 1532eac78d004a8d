// A TCP proxy on 127.0.0.1 in front of another local port (sshd, mostly): it counts the bytes each
// way, can slow the link to a given rate (so a kill lands mid-upload on a fast machine), and can
// drop every connection at once (a network blink) — all without touching the real server.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';

export interface TcpProxy {
  readonly port: number;
  /** Bytes from clients to the upstream server, over every connection so far. */
  readonly bytesUp: number;
  /** Bytes from the upstream server back to clients. */
  readonly bytesDown: number;
  /** Zeroes both counters, e.g. between a warm-up and the measured run. */
  resetCounters(): void;
  /** Limits each direction of every connection to this many bytes per second; null lifts it. */
  throttle(bytesPerSecond: number | null): void;
  /** Destroys every open connection; the listener stays, so clients can connect again. */
  dropAll(): number;
  close(): Promise<void>;
}

class Counter extends Transform {
  constructor(
    private readonly count: (n: number) => void,
    private readonly rate: () => number | null,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.count(chunk.length);
    const limit = this.rate();
    if (!limit) {
      done(null, chunk);
      return;
    }
    // Pass the chunk on in slices, each after the time it would take at `limit` bytes per second.
    const slice = Math.max(1024, Math.floor(limit / 20));
    let offset = 0;
    const next = () => {
      if (offset >= chunk.length) {
        done();
        return;
      }
      const piece = chunk.subarray(offset, offset + slice);
      offset += piece.length;
      this.push(piece);
      setTimeout(next, (piece.length / limit) * 1000);
    };
    next();
  }
}

export async function startTcpProxy(upstreamPort: number): Promise<TcpProxy> {
  let bytesUp = 0;
  let bytesDown = 0;
  let rate: number | null = null;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    open.add(client);
    open.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(new Counter((n) => (bytesUp += n), () => rate)).pipe(upstream);
    upstream.pipe(new Counter((n) => (bytesDown += n), () => rate)).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    get bytesUp() {
      return bytesUp;
    },
    get bytesDown() {
      return bytesDown;
    },
    resetCounters() {
      bytesUp = 0;
      bytesDown = 0;
    },
    throttle(bytesPerSecond) {
      rate = bytesPerSecond;
    },
    dropAll() {
      const sockets = [...open];
      for (const socket of sockets) socket.destroy();
      open.clear();
      return sockets.length / 2;
    },
    close() {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
