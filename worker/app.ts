// The Worker's HTTP surface, composed from one router per concern.
import { Hono } from 'hono';
import { api } from './api/router.ts';
import type { AppContext } from './http/access.ts';
import { logRefusal } from './http/access-audit.ts';
import { configurationProblems, reportConfigurationOnce } from './http/configuration-problems.ts';
import { ApiError, errorBody, respondWithError } from './http/errors.ts';
import { countRefusal } from './http/rate-limit.ts';
import { metrics } from './metrics/router.ts';
import { relay } from './relay/router.ts';
import { ui } from './ui/router.tsx';
import { webhooks } from './webhooks/router.ts';

export const app = new Hono<AppContext>();

app.route('/webhooks', webhooks);
app.route('/api', api);
app.route('/relay', relay);
app.route('/metrics', metrics);
// Workers have no start-up hook: the first request of each isolate logs what is misconfigured
// (`wrangler tail`, Workers Logs), and /healthz says it to whoever checks the deploy (the local
// edge prints it when it starts). `ok` is about serving: webhooks and relays work regardless.
app.use('*', async (c, next) => {
  reportConfigurationOnce(c.env);
  await next();
});
app.get('/healthz', (c) => c.json({ ok: true, problems: configurationProblems(c.env) }));
// The status page last: its paths (`/`, `/sign-in`, `/targets/…`) are the ones the others leave.
app.route('/', ui);

app.notFound((c) => c.json(errorBody('not_found', `Nothing at ${c.req.method} ${new URL(c.req.url).pathname}.`), 404));
app.onError(async (error, c) => {
  // A refused token or role on the API (and on /metrics) goes to the access log. The relay endpoint and the status
  // page log their own refusals there, and the webhook endpoint has the delivery ledger.
  const path = new URL(c.req.url).pathname;
  if (path === '/api' || path.startsWith('/api/') || path === '/metrics') {
    // A refused token counts against its address; past the limit the answer is 429, and not logged.
    if (error instanceof ApiError && error.status === 401) {
      try {
        await countRefusal(c.env, c.req.raw, 'api');
      } catch (throttled) {
        return respondWithError(c, throttled);
      }
    }
    logRefusal(c, error, 'api');
  }
  return respondWithError(c, error);
});
