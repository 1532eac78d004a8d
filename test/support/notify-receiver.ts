// A receiver for outward notifications on 127.0.0.1: stands in for a Slack incoming webhook and for
// a user's own webhook endpoint. Records every request with its raw body and headers, exactly as
// received (a signature is over those bytes), and answers 500 on demand.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, listenOnLoopback } from './ports.ts';

export interface ReceivedNotification {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  body: unknown;
  status: number;
  at: Date;
}

export async function startNotifyReceiver(): Promise<NotifyReceiver> {
  const receiver = new NotifyReceiver();
  await receiver.listen();
  return receiver;
}

export class NotifyReceiver {
  readonly received: ReceivedNotification[] = [];
  private server: Server | undefined;
  private failing = 0;

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    return `http://127.0.0.1:${address?.port ?? 0}`;
  }

  async listen(): Promise<void> {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: unknown = null;
      try {
        body = JSON.parse(rawBody);
      } catch {
        // recorded as is
      }
      const status = this.failing > 0 ? 500 : 200;
      if (this.failing > 0) this.failing -= 1;
      this.received.push({ path: req.url ?? '/', headers: req.headers, rawBody, body, status, at: new Date() });
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(status === 200 ? 'ok' : 'internal error');
    });
    await listenOnLoopback(this.server);
  }

  /** The next `count` requests answer 500. */
  fail(count: number): void {
    this.failing += count;
  }

  /** What arrived at one path (e.g. `/slack`), answered 200. */
  deliveredTo(path: string): ReceivedNotification[] {
    return this.received.filter((r) => r.path === path && r.status === 200);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeServer(server);
  }
}
