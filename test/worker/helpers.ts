// Small helpers for the workerd tests: call the Worker as GitHub and as API clients would.
import { exports } from 'cloudflare:workers';
import { webhookRequestInit, type DeliveryOptions } from '../support/webhook-delivery.ts';

export const BASE = 'https://lanyard.example';

export const TOKENS = { viewer: 'viewer-token-lanyard-test', operator: 'operator-token-lanyard-test', admin: 'admin-token-lanyard-test' } as const;

export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return (exports as unknown as { default: Fetcher }).default.fetch(new Request(`${BASE}${path}`, init));
}

export async function deliver(options: DeliveryOptions): Promise<{ status: number; body: Record<string, any> }> {
  const response = await call('/webhooks/github', await webhookRequestInit(options));
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

export async function apiCall(
  path: string,
  role: keyof typeof TOKENS | null,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, any> }> {
  const headers: Record<string, string> = {};
  if (role) headers.Authorization = `Bearer ${TOKENS[role]}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await call(`/api${path}`, {
    method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'),
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** The ledger is written after the answer (waitUntil); wait until the row for a delivery is there. */
export async function ledgerEntry(deliveryId: string): Promise<Record<string, any>> {
  for (let i = 0; i < 50; i += 1) {
    const { body } = await apiCall(`/deliveries?deliveryId=${deliveryId}`, 'viewer');
    if (body.deliveries.length) return body.deliveries[0];
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no ledger entry for delivery ${deliveryId}`);
}
