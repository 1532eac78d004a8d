// The relay's outbound WebSocket to the edge: connect, say hello, heartbeat well under
// Cloudflare's ~100 s idle limit, detect a dead connection, and reconnect with capped, jittered
// exponential backoff. Logs each state change in one line. Every frame the edge sends is parsed
// with the protocol's schemas before anything else sees it; one that does not fit is answered with
// an `error` and goes no further.
import WebSocket from 'ws';
import type { HubMessage, InFlightJob, RelayMessage } from '../../shared/protocol.ts';
import { CLOSE_CODES, HubMessage as HubMessageSchema, MAX_ERROR_CHARS, MAX_RELAY_FRAME_BYTES, PING_TEXT, PROTOCOL_VERSION, parseFrame } from '../../shared/protocol.ts';
import type { Logger } from '../log.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'ready' | 'waiting' | 'stopped';

export interface EdgeConnectionOptions {
  edgeUrl: string;
  target: string;
  token: string;
  relayId: string;
  version: string;
  capabilities: string[];
  heartbeatMs: number;
  backoff: BackoffPolicy;
  /** After another relay took over the target (close 4000), wait this long before trying again. */
  replacedHoldOffMs: number;
  logger: Logger;
  /** Asked at every (re)connection: the job the journal says is in flight. */
  inFlight: () => Promise<InFlightJob | null>;
  onMessage: (message: HubMessage) => void;
  /** Called once the edge has welcomed this connection. */
  onReady: () => void;
  /** What the relay's start-up check of Home Assistant found, said in `hello` (null: not checked yet). */
  homeAssistantCheck?: () => { ok: boolean; detail: string } | null;
}

export function relayConnectUrl(edgeUrl: string, target: string): string {
  const url = new URL('/relay/connect', edgeUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('target', target);
  return url.toString();
}

export class EdgeConnection {
  private socket: WebSocket | null = null;
  private state: ConnectionState = 'idle';
  private attempt = 0;
  private heartbeat: NodeJS.Timeout | null = null;
  private reconnect: NodeJS.Timeout | null = null;
  private lastHeard = 0;

  constructor(private readonly options: EdgeConnectionOptions) {}

  get current(): ConnectionState {
    return this.state;
  }

  start(): void {
    if (this.state !== 'idle' && this.state !== 'stopped') return;
    this.connect();
  }

  stop(): void {
    this.setState('stopped', 'stopping');
    this.clearTimers();
    this.socket?.close(1000, 'relay stopping');
    this.socket = null;
  }

  /** Sends if connected; returns false otherwise (the journal and outbox keep what matters). */
  send(message: RelayMessage): boolean {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  private setState(state: ConnectionState, detail: string): void {
    if (this.state === state && state !== 'waiting') return;
    this.state = state;
    this.options.logger.info(`edge ${state}: ${detail}`);
  }

  private clearTimers(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.reconnect) clearTimeout(this.reconnect);
    this.heartbeat = null;
    this.reconnect = null;
  }

  private connect(): void {
    const url = relayConnectUrl(this.options.edgeUrl, this.options.target);
    this.setState('connecting', url);
    const socket = new WebSocket(url, {
      headers: { Authorization: `Bearer ${this.options.token}`, 'User-Agent': `lanyard-relay/${this.options.version}` },
      handshakeTimeout: 15_000,
      // No hub message comes near the hub's own frame limit; a bigger one is no message, and is not held in memory.
      maxPayload: MAX_RELAY_FRAME_BYTES,
    });
    this.socket = socket;

    socket.on('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.on('end', () => {
        const hint = status === 401 ? ' (check edge.token: the edge does not accept it for this target)' : '';
        this.options.logger.error(`edge refused the connection: HTTP ${status}${hint} ${body.slice(0, 300)}`);
        socket.terminate();
      });
    });

    socket.on('open', async () => {
      this.lastHeard = Date.now();
      this.setState('connected', 'saying hello');
      const inFlight = await this.options.inFlight();
      const homeAssistant = this.options.homeAssistantCheck?.() ?? null;
      this.send({ type: 'hello', v: PROTOCOL_VERSION, relayId: this.options.relayId, version: this.options.version, capabilities: this.options.capabilities, inFlight, homeAssistant });
      this.heartbeat = setInterval(() => this.beat(socket), this.options.heartbeatMs);
    });

    socket.on('message', (data: WebSocket.RawData) => {
      this.lastHeard = Date.now();
      const parsed = parseFrame(HubMessageSchema, data as Buffer);
      if (!parsed.ok) {
        this.options.logger.warn(`edge sent an invalid message: ${parsed.error.slice(0, 1000)}`);
        this.send({ type: 'error', code: 'invalid_message', message: `invalid message: ${parsed.error}`.slice(0, MAX_ERROR_CHARS) });
        return;
      }
      if (parsed.message.type === 'welcome') {
        if (parsed.message.target !== this.options.target) {
          this.options.logger.error(`the edge welcomed this relay as target "${parsed.message.target}", but it serves "${this.options.target}": its jobs for another target will be refused`);
        }
        this.attempt = 0;
        this.setState('ready', `target ${parsed.message.target}, lease ${parsed.message.leaseMs} ms${parsed.message.edgeVersion ? `, edge ${parsed.message.edgeVersion}` : ''}`);
        if (parsed.message.edgeVersion && parsed.message.edgeVersion !== this.options.version) {
          this.options.logger.warn(`the edge runs Lanyard ${parsed.message.edgeVersion} and this relay ${this.options.version}: update the older one (README, "Updating")`);
        }
        this.options.onReady();
      }
      this.options.onMessage(parsed.message);
    });

    socket.on('close', (code: number, reason: Buffer) => {
      if (this.heartbeat) clearInterval(this.heartbeat);
      this.heartbeat = null;
      if (this.socket === socket) this.socket = null;
      if (this.state === 'stopped') return;
      const why = `${code}${reason.length ? ` ${reason.toString('utf8')}` : ''}`;
      if (code === CLOSE_CODES.versionUnsupported) {
        this.setState('stopped', `closed ${why}: upgrade the relay`);
        return;
      }
      if (code === CLOSE_CODES.replaced) {
        // Two relays with one token would take the target from each other forever; back off long
        // and say so, so a person notices the second relay.
        this.options.logger.error(`another relay connected for target ${this.options.target} and replaced this one; is a second relay running with the same token?`);
        this.setState('waiting', `closed ${why}; trying again in ${Math.round(this.options.replacedHoldOffMs / 1000)} s`);
        this.reconnect = setTimeout(() => this.connect(), this.options.replacedHoldOffMs);
        return;
      }
      const delay = backoffDelay(this.attempt, this.options.backoff);
      this.attempt += 1;
      this.setState('waiting', `closed ${why}; reconnecting in ${(delay / 1000).toFixed(1)} s`);
      this.reconnect = setTimeout(() => this.connect(), delay);
    });

    socket.on('error', (error: Error) => {
      this.options.logger.warn(`edge connection error: ${error.message}`);
    });
  }

  /** The ws heartbeat/terminate pattern: silence for two beats means the connection is dead. */
  private beat(socket: WebSocket): void {
    if (Date.now() - this.lastHeard > this.options.heartbeatMs * 2) {
      this.options.logger.warn('edge silent for two heartbeats; dropping the connection');
      socket.terminate();
      return;
    }
    if (socket.readyState === WebSocket.OPEN) socket.send(PING_TEXT);
  }
}
