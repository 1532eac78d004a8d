// Builds a webhook request as GitHub sends it: the JSON body, its HMAC signature and headers.
import { sign } from '@octokit/webhooks-methods';

export interface DeliveryOptions {
  event: string;
  payload: unknown;
  secret?: string | null;
  deliveryId?: string;
  signature?: string | null;
  contentType?: string;
  rawBody?: string;
}

export async function webhookRequestInit(o: DeliveryOptions): Promise<RequestInit & { headers: Record<string, string> }> {
  const body = o.rawBody ?? JSON.stringify(o.payload);
  const headers: Record<string, string> = {
    'Content-Type': o.contentType ?? 'application/json',
    'User-Agent': 'GitHub-Hookshot/7d3c5e1',
    'X-GitHub-Event': o.event,
    'X-GitHub-Delivery': o.deliveryId ?? crypto.randomUUID(),
    'X-GitHub-Hook-ID': '109948940',
  };
  const signature = o.signature !== undefined ? o.signature : o.secret === null ? null : await sign(o.secret ?? 'test-webhook-secret', body);
  if (signature !== null) headers['X-Hub-Signature-256'] = signature;
  return { method: 'POST', headers, body };
}
