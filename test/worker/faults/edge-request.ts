// The Worker as a client reaches it, for the faults properties: the answer returns after the
// waitUntil work (delivery ledger, access log) is done, so a case can read those rows at once.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { app } from '../../../worker/app.ts';
import type { Env } from '../../../worker/env.ts';
import { BASE } from '../helpers.ts';

export interface Answer {
  status: number;
  text: string;
  body: Record<string, any>;
}

export async function edge(path: string, init: RequestInit = {}): Promise<Answer> {
  const headers = new Headers(init.headers);
  headers.set('CF-Connecting-IP', '127.0.0.1');
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(`${BASE}${path}`, { ...init, headers }), env as unknown as Env, ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  let body: Record<string, any> = {};
  try {
    body = JSON.parse(text) as Record<string, any>;
  } catch {
    // An HTML page or exposition text (/metrics): the case reads the text.
  }
  return { status: response.status, text, body };
}
