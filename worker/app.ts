// The Worker's HTTP surface, composed from one router per concern.
import { Hono } from 'hono';
import { api } from './api/router.ts';
import type { AppContext } from './http/access.ts';
import { logRefusal } from './http/access-audit.ts';
import { errorBody, respondWithError } from './http/errors.ts';
import { relay } from './relay/router.ts';
import { ui } from './ui/router.tsx';
import { webhooks } from './webhooks/router.ts';

export const app = new Hono<AppContext>();

app.route('/webhooks', webhooks);
app.route('/api', api);
app.route('/relay', relay);
app.get('/healthz', (c) => c.json({ ok: true }));
// The status page last: its paths (`/`, `/sign-in`, `/targets/…`) are the ones the others leave.
app.route('/', ui);

app.notFound((c) => c.json(errorBody('not_found', `Nothing at ${c.req.method} ${new URL(c.req.url).pathname}.`), 404));
app.onError((error, c) => {
  // A refused token or role on the API goes to the access log. The relay endpoint and the status
  // page log their own refusals there, and the webhook endpoint has the delivery ledger.
  const path = new URL(c.req.url).pathname;
  if (path === '/api' || path.startsWith('/api/')) logRefusal(c, error, 'api');
  return respondWithError(c, error);
});
