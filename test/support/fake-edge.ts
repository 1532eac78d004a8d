// A stand-in for the edge that a real relay process connects to, for tests that play a compromised
// edge: a `ws` server on 127.0.0.1 that takes the relay's connection the way the hub does (bearer
// token, `hello`, `welcome`, heartbeats answered) and then sends whatever frames the test wants,
// well-formed or not. It keeps every frame the relay sent back, parsed when it is JSON.
import type { IncomingMessage } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { PING_TEXT, PONG_TEXT, PROTOCOL_VERSION } from '../../shared/protocol.ts';

/** What the relay sent: the parsed message, or the raw text of a frame that is not JSON. */
export type RelayFrame = Record<string, unknown> & { type?: unknown };

export interface FakeEdge {
  /** The relay's `edge.url`. */
  readonly url: string;
  /** Every message the relay sent, in order (pings included), across its connections. */
  readonly received: RelayFrame[];
  /** Resolves once a relay is connected and welcomed (at once if one is). */
  connected(timeoutMs?: number): Promise<void>;
  /** Sends a frame as it is: text, or bytes as a binary frame. Throws when no relay is connected. */
  send(frame: string | Uint8Array): void;
  /** Resolves with the first message from index `from` on that `matches`. */
  waitFor(matches: (message: RelayFrame) => boolean, from?: number, timeoutMs?: number): Promise<RelayFrame>;
  /** Resolves once `condition` holds, checked again at every message. */
  waitUntil(what: string, condition: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface FakeEdgeOptions {
  /** The relay token the edge accepts; any other is refused with 401, as the hub does. */
  token: string;
  /** The target the edge says the relay serves in `welcome`. */
  target: string;
}

export async function startFakeEdge(options: FakeEdgeOptions): Promise<FakeEdge> {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (info: { req: IncomingMessage }) => info.req.headers.authorization === `Bearer ${options.token}`,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const received: RelayFrame[] = [];
  const listeners = new Set<() => void>();
  let current: WebSocket | null = null;
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };

  server.on('connection', (socket) => {
    socket.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      if (text === PING_TEXT) {
        socket.send(PONG_TEXT);
        return;
      }
      let message: RelayFrame;
      try {
        message = JSON.parse(text) as RelayFrame;
      } catch {
        message = { type: '(not json)', text };
      }
      received.push(message);
      if (message.type === 'hello') {
        current = socket;
        socket.send(JSON.stringify({ type: 'welcome', v: PROTOCOL_VERSION, target: options.target, leaseMs: 90_000, ackTimeoutMs: 15_000 }));
      }
      notify();
    });
    socket.on('close', () => {
      if (current === socket) current = null;
      notify();
    });
  });

  const until = <T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (value === undefined) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`the fake edge waited ${timeoutMs} ms in vain for ${what}; last messages: ${JSON.stringify(received.slice(-5)).slice(0, 2000)}`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });

  return {
    url: `http://127.0.0.1:${port}`,
    received,
    connected: (timeoutMs = 60_000) => until('a relay to connect', () => (current?.readyState === WebSocket.OPEN ? true : undefined), timeoutMs).then(() => undefined),
    send(frame) {
      if (!current || current.readyState !== WebSocket.OPEN) throw new Error('no relay is connected to the fake edge');
      current.send(frame, { binary: typeof frame !== 'string' });
    },
    waitFor: (matches, from = 0, timeoutMs = 60_000) => until('a matching message', () => received.slice(from).find(matches), timeoutMs),
    waitUntil: (what, condition, timeoutMs = 60_000) => until(what, () => (condition() ? true : undefined), timeoutMs).then(() => undefined),
    async close() {
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
