// The relay's WebSocket as the hub holds it: one live relay per target (the newest connection
// wins), what is kept on the socket itself (when it connected, from where, its hello), so it
// survives hibernation, and the hello it owes within the hello timeout.
import type { TargetStatus } from '../../shared/api.ts';
import type { HubMessage } from '../../shared/protocol.ts';
import { CLOSE_CODES } from '../../shared/protocol.ts';
import type { Hub } from './hub.ts';

/** What the hub keeps on each relay socket; survives hibernation. */
export interface RelayAttachment {
  connectedAt: number;
  source: string | null;
  hello: { relayId: string; version: string; capabilities: string[]; at: number } | null;
}

/** Takes a new relay connection; the caller has accepted `server` with the relay tag. */
export function attachRelay(hub: Hub, server: WebSocket, source: string | null, now: number): void {
  const attachment: RelayAttachment = { connectedAt: now, source, hello: null };
  server.serializeAttachment(attachment);
  hub.audit.record({ at: now, actor: 'relay', action: 'relay.connected', detail: {}, source: attachment.source });
}

/**
 * One live relay per target: the newest connection wins. A relay that restarted must not be locked
 * out by its own half-open old connection, which can linger for minutes.
 */
export function replaceRelays(hub: Hub): void {
  for (const old of hub.sockets('relay')) {
    old.close(CLOSE_CODES.replaced, 'replaced by a newer relay connection');
  }
}

export function attachmentOf(ws: WebSocket): RelayAttachment | null {
  return ws.deserializeAttachment() as RelayAttachment | null;
}

/** The relay socket that said hello, other than `except` (a socket being closed). */
export function liveRelay(hub: Hub, except?: WebSocket): WebSocket | null {
  for (const ws of hub.sockets('relay')) {
    if (ws === except || ws.readyState !== WebSocket.OPEN) continue;
    if (attachmentOf(ws)?.hello) return ws;
  }
  return null;
}

export function sendTo(ws: WebSocket, message: HubMessage): void {
  try {
    ws.send(JSON.stringify(message));
  } catch (error) {
    console.warn(`could not send ${message.type} to relay: ${String(error)}`);
  }
}

/** The relay as the status shows it. */
export function relayView(hub: Hub): TargetStatus['relay'] {
  const live = liveRelay(hub);
  const attachment = live ? attachmentOf(live) : null;
  const lastSeen = hub.meta.get('relay_last_seen');
  const disconnectedAt = hub.meta.get('relay_disconnected_at');
  const lastHello = readLastHello(hub);
  return {
    connected: live !== null,
    relayId: attachment?.hello?.relayId ?? null,
    version: attachment?.hello?.version ?? null,
    since: attachment?.hello?.at ?? (disconnectedAt ? Number(disconnectedAt) : null),
    lastSeenAt: lastSeen ? Number(lastSeen) : null,
    everConnected: lastHello !== null,
    homeAssistant: lastHello?.homeAssistant ?? null,
  };
}

/** What the last relay said in hello, kept in meta (onHello): null when no relay ever said hello. */
function readLastHello(hub: Hub): { homeAssistant?: { ok: boolean; detail: string } | null } | null {
  const raw = hub.meta.get('relay');
  if (!raw) return null;
  try {
    return JSON.parse(raw) as { homeAssistant?: { ok: boolean; detail: string } | null };
  } catch {
    return null;
  }
}

/**
 * When the earliest open connection that has not said hello runs out of time (in the past: it
 * has); null when none waits. A socket already closed for it (closing, not yet gone) waits no more.
 */
export function nextHelloDeadline(hub: Hub): number | null {
  let earliest: number | null = null;
  for (const ws of hub.sockets('relay')) {
    if (ws.readyState !== WebSocket.OPEN) continue;
    const attachment = attachmentOf(ws);
    if (!attachment || attachment.hello) continue;
    const deadline = attachment.connectedAt + hub.timings.helloTimeoutMs;
    if (earliest === null || deadline < earliest) earliest = deadline;
  }
  return earliest;
}

/** Closes every connection that did not say hello in time. */
export function closeSilentRelays(hub: Hub, now: number): void {
  for (const ws of hub.sockets('relay')) {
    const attachment = attachmentOf(ws);
    if (!attachment || attachment.hello) continue;
    if (attachment.connectedAt + hub.timings.helloTimeoutMs <= now) ws.close(CLOSE_CODES.helloTimeout, 'no hello received in time');
  }
}
