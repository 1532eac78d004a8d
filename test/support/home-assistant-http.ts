// The HTTP plumbing of the Home Assistant stand-in: a server that keeps its port across restarts,
// bodies read whole, answers in HA's shapes.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export function listenOn(port: number, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  // After a restart the port must be the same one the client knows; if the kernel has not let go of
  // it yet, try again for a while rather than moving to another port.
  const deadline = Date.now() + 5_000;
  return new Promise((resolvePromise, reject) => {
    const attempt = () => {
      const server = createServer(handler);
      server.keepAliveTimeout = 1_000;
      server.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE' && port !== 0 && Date.now() < deadline) setTimeout(attempt, 25);
        else reject(error);
      });
      server.listen(port, '127.0.0.1', () => resolvePromise(server));
    };
    attempt();
  });
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolvePromise(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, done?: () => void): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body), done);
}

export function sendText(res: ServerResponse, status: number, body: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(body);
}

export function matches(pattern: RegExp | undefined, path: string): boolean {
  if (!pattern) return false;
  pattern.lastIndex = 0;
  return pattern.test(path);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function contextId(): string {
  return crypto.randomUUID().replaceAll('-', '').slice(0, 26).toUpperCase();
}
