// The generic JSON webhook: the notification as JSON, signed the way GitHub signs its webhooks
// (`sha256=` + hex HMAC-SHA256 of the raw body), so any receiver that verifies GitHub's
// X-Hub-Signature-256 can verify this too. Replays are stopped by the `timestamp` inside the signed
// body (the `X-Lanyard-Timestamp` header is a copy) and by `deliveryId`; see docs/outward.md for how a
// receiver checks all three. The body is built at each attempt, so a retry carries a fresh timestamp.
import { attempt, type Attempt } from './attempt.ts';
import { USER_AGENT } from './github.ts';
import type { OutwardEvent } from './notification.ts';

export async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await crypto.subtle.sign('HMAC', key, encoder.encode(message));
  return Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, '0')).join('');
}

export interface SignedWebhook {
  body: string;
  headers: Record<string, string>;
}

export async function signedWebhook(secret: string, event: OutwardEvent, now: number): Promise<SignedWebhook> {
  const timestamp = Math.floor(now / 1000);
  const body = JSON.stringify({ ...event, timestamp });
  return {
    body,
    headers: {
      'Content-Type': 'application/json',
      'User-Agent': USER_AGENT,
      'X-Lanyard-Event': event.event,
      'X-Lanyard-Delivery': event.deliveryId,
      'X-Lanyard-Timestamp': String(timestamp),
      'X-Lanyard-Signature': `sha256=${await hmacSha256Hex(secret, body)}`,
    },
  };
}

export async function postWebhook(url: string, secret: string, event: OutwardEvent, now: number): Promise<Attempt> {
  const signed = await signedWebhook(secret, event, now);
  return attempt(url, { method: 'POST', headers: signed.headers, body: signed.body });
}
