// The Worker's HTTP surface, composed from one router per concern.
import { Hono } from 'hono';
import { api } from './api/router.ts';
import type { Env } from './env.ts';
import { errorBody, respondWithError } from './http/errors.ts';
import { relay } from './relay/router.ts';
import { ui } from './ui/router.tsx';
import { webhooks } from './webhooks/router.ts';

export const app = new Hono<{ Bindings: Env }>();

app.route('/webhooks', webhooks);
app.route('/api', api);
app.route('/relay', relay);
app.get('/healthz', (c) => c.json({ ok: true }));
// The status page last: its paths (`/`, `/sign-in`, `/targets/…`) are the ones the others leave.
app.route('/', ui);

app.notFound((c) => c.json(errorBody('not_found', `Nothing at ${c.req.method} ${new URL(c.req.url).pathname}.`), 404));
app.onError((error, c) => respondWithError(c, error));
