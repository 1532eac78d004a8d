// The relay's side of malformed traffic: a peer that sends garbage gets an error message back and
// the connection (and the relay) stays up. The peer here is a bare WebSocket server on 127.0.0.1,
// since the real edge never sends such frames.
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { EdgeConnection } from '../../relay/channel/edge-connection.ts';
import type { HubMessage } from '../../shared/protocol.ts';

const servers: WebSocketServer[] = [];
const connections: EdgeConnection[] = [];
afterEach(async () => {
  connections.splice(0).forEach((c) => c.stop());
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function peer(): Promise<{ server: WebSocketServer; url: string; socket: Promise<WebSocket> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(server);
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return { server, url: `http://127.0.0.1:${port}`, socket: once(server, 'connection').then(([ws]) => ws as WebSocket) };
}

function connection(url: string, received: HubMessage[], lines: string[], heartbeatMs = 100): EdgeConnection {
  const c = new EdgeConnection({
    edgeUrl: url,
    target: 'home',
    token: 'relay-token',
    relayId: 'relay-under-test',
    version: '0.0.0',
    capabilities: ['deploy'],
    heartbeatMs,
    backoff: { initialMs: 50, maxMs: 100 },
    replacedHoldOffMs: 60_000,
    logger: { info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) },
    inFlight: async () => null,
    onMessage: (m) => received.push(m),
    onReady: () => undefined,
  });
  connections.push(c);
  c.start();
  return c;
}

function nextMessage(ws: WebSocket): Promise<Record<string, unknown>> {
  return once(ws, 'message').then(([data]) => JSON.parse(String(data)) as Record<string, unknown>);
}

describe('the relay receiving malformed messages', () => {
  it('answers garbage with an error message, ignores it, and keeps serving', async () => {
    const { url, socket } = await peer();
    const received: HubMessage[] = [];
    const lines: string[] = [];
    connection(url, received, lines, 60_000);
    const ws = await socket;
    expect(await nextMessage(ws)).toMatchObject({ type: 'hello', relayId: 'relay-under-test', inFlight: null });

    ws.send('{{{ not json');
    expect(await nextMessage(ws)).toEqual({ type: 'error', code: 'invalid_message', message: 'invalid message: frame is not JSON' });
    ws.send(JSON.stringify({ type: 'job', jobId: 'dep_1', attempt: 1, kind: 'format-disk' }));
    const error = await nextMessage(ws);
    expect(error).toMatchObject({ type: 'error', code: 'invalid_message' });
    expect(String(error.message)).toMatch(/kind/);
    expect(received).toEqual([]);
    expect(lines.some((l) => /edge sent an invalid message/.test(l))).toBe(true);

    ws.send(JSON.stringify({ type: 'welcome', v: 1, target: 'home', leaseMs: 90_000, ackTimeoutMs: 15_000 }));
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toEqual([{ type: 'welcome', v: 1, target: 'home', leaseMs: 90_000, ackTimeoutMs: 15_000 }]);
  });

  it('sends the relay token as a bearer header and heartbeats with the text the hub auto-answers', async () => {
    const { server, url, socket } = await peer();
    const headers = once(server, 'connection').then(([, request]) => (request as { headers: Record<string, string> }).headers);
    const c = new EdgeConnection({
      edgeUrl: url,
      target: 'home',
      token: 'relay-token',
      relayId: 'r',
      version: '0',
      capabilities: [],
      heartbeatMs: 100,
      backoff: { initialMs: 50, maxMs: 100 },
      replacedHoldOffMs: 60_000,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      inFlight: async () => null,
      onMessage: () => undefined,
      onReady: () => undefined,
    });
    connections.push(c);
    c.start();
    expect((await headers).authorization).toBe('Bearer relay-token');
    const ws = await socket;
    const frames: string[] = [];
    ws.on('message', (d) => {
      frames.push(String(d));
      if (String(d) === '{"type":"ping"}') ws.send('{"type":"pong"}');
    });
    await new Promise((r) => setTimeout(r, 450));
    expect(frames.filter((f) => f === '{"type":"ping"}').length).toBeGreaterThanOrEqual(3);
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  it('drops a connection that stays silent for two heartbeats (a dead link), then reconnects', async () => {
    const { server, url, socket } = await peer();
    const lines: string[] = [];
    connection(url, [], lines);
    const first = await socket;
    const reconnected = once(server, 'connection');
    // Swallow everything, answer nothing: like a half-open TCP connection.
    await once(first, 'close');
    await reconnected;
    expect(lines.some((l) => /silent for two heartbeats/.test(l))).toBe(true);
  });
});
