// An HTTP front on 127.0.0.1 before the Home Assistant stand-in, for faults the stand-in cannot
// show by itself: an HA that stays `STARTING` (an integration that never finishes setting up) for
// as long as the test says, and an answer that is not Home Assistant's (a captive portal or a
// reverse proxy's error page with status 200). Everything else passes through unchanged; when the
// stand-in refuses a connection (it is restarting), the front drops its client's connection too,
// so the relay sees what it would see without the front.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer } from './ports.ts';

export interface HomeAssistantFront {
  readonly url: string;
  /** While true, `/api/config` says `state: STARTING` whatever the stand-in says. */
  stuckStarting: boolean;
  /** Requests whose path matches answer 200 with an HTML page instead of HA's JSON; null: none. */
  notHomeAssistant: RegExp | null;
  close(): Promise<void>;
}

const NOT_HOME_ASSISTANT = '<!doctype html><html><head><title>Sign in to the guest Wi-Fi</title></head><body>Accept the terms to continue.</body></html>';

export async function startHomeAssistantFront(upstreamUrl: string): Promise<HomeAssistantFront> {
  const upstream = new URL(upstreamUrl);
  const front = { stuckStarting: false, notHomeAssistant: null as RegExp | null };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = req.url ?? '/';
    if (front.notHomeAssistant?.test(path)) {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(NOT_HOME_ASSISTANT);
      return;
    }
    const rewrite = front.stuckStarting && path.split('?', 1)[0] === '/api/config';
    const forward = httpRequest(
      { host: '127.0.0.1', port: Number(upstream.port), method: req.method, path, headers: req.headers },
      (answer) => {
        if (!rewrite || answer.statusCode !== 200) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ ...body, state: 'STARTING' }));
        });
      },
    );
    // The stand-in is down (restarting) or hung up: so is the front, for this request.
    forward.on('error', () => res.destroy());
    // The relay gave up on it (a timeout): so does the front, as a closed socket would tell HA.
    res.on('close', () => {
      if (!res.writableFinished) forward.destroy();
    });
    req.pipe(forward);
  };

  const server: Server = createServer(handle);
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return Object.assign(front, {
    url: `http://127.0.0.1:${port}`,
    close: () => closeServer(server),
  });
}
