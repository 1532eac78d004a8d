// A TCP proxy on 127.0.0.1 in front of another local port (sshd, the edge): it counts the bytes
// each way, can slow the link to a given rate (so a kill lands mid-upload on a fast machine), can
// drop every connection at once (a network blink), and can cut the link for as long as a test
// wants (an outage that outlasts the edge's lease) — all without touching the real server.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';

export interface TcpProxy {
  readonly port: number;
  /** Bytes from clients to the upstream server, over every connection so far. */
  readonly bytesUp: number;
  /** Bytes from the upstream server back to clients. */
  readonly bytesDown: number;
  /** How many connections reached the upstream server so far. */
  readonly connections: number;
  /** Zeroes both counters, e.g. between a warm-up and the measured run. */
  resetCounters(): void;
  /** Limits each direction of every connection to this many bytes per second; null lifts it. */
  throttle(bytesPerSecond: number | null): void;
  /** Destroys every open connection; the listener stays, so clients can connect again. */
  dropAll(): number;
  /** Drops every open connection and resets new ones as they arrive, until restore(): a lost uplink. */
  cut(): void;
  /** Lets connections through again after cut(). */
  restore(): void;
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
  let down = false;
  let connections = 0;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (down) {
      client.resetAndDestroy();
      return;
    }
    connections += 1;
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
  /** Destroys every open connection (both ends); resolves how many client connections there were. */
  function dropAll(): number {
    const sockets = [...open];
    for (const socket of sockets) socket.destroy();
    open.clear();
    return sockets.length / 2;
  }
  return {
    port,
    get bytesUp() {
      return bytesUp;
    },
    get bytesDown() {
      return bytesDown;
    },
    get connections() {
      return connections;
    },
    resetCounters() {
      bytesUp = 0;
      bytesDown = 0;
    },
    throttle(bytesPerSecond) {
      rate = bytesPerSecond;
    },
    dropAll,
    cut() {
      down = true;
      dropAll();
    },
    restore() {
      down = false;
    },
    close() {
      dropAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
