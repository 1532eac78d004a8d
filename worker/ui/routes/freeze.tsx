/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Freeze and unfreeze on the status page (issue 18): a confirmation page that says exactly what
// the freeze does and until when (GET), then the act (POST), through `checkedPost` and
// `requireRole` like every action, and the same hub methods as the API.
import { Hono } from 'hono';
import { findTarget } from '../../config/targets.ts';
import { requireRole, type AppContext } from '../../http/access.ts';
import { ApiError } from '../../http/errors.ts';
import { requestSource } from '../../http/request-source.ts';
import { validate } from '../../http/validate.ts';
import { describeFreeze, freezeEnd, freezeRequestAt } from '../../hub/freeze.ts';
import { hubFor } from '../../hub/hub-for.ts';
import { unwrap } from '../../hub/hub-result.ts';
import { checkedPost, page, redirect } from '../page-context.tsx';
import { confirmPage, operatorVisit } from './confirm-page.tsx';
import { MessagePage } from '../views/forms.tsx';
import { FREEZE_LENGTHS } from '../views/freeze.tsx';

export const freezeActions = new Hono<AppContext>();

const HOUR_MS = 3_600_000;

/** The form's `until` (an exact time) or `for` (hours from now; empty: no end), as the API's `until`. */
function untilFrom(query: { until?: string; for?: string }, now: number): string | undefined {
  const exact = query.until?.trim();
  if (exact) return exact;
  const hours = query.for ?? '';
  if (!hours) return undefined;
  if (!FREEZE_LENGTHS.some((l) => l.hours === hours)) throw new ApiError(400, 'invalid_request', `form is invalid: for: one of ${FREEZE_LENGTHS.map((l) => l.hours || '""').join(', ')} hours`);
  return new Date(now + Number(hours) * HOUR_MS).toISOString();
}

freezeActions.get('/targets/:name/freeze', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const v = await operatorVisit(c, target);
  if (v instanceof Response) return v;
  const base = `/targets/${target.name}`;
  const now = Date.now();
  const until = untilFrom({ until: c.req.query('until'), for: c.req.query('for') }, now);
  const request = validate(freezeRequestAt(now), { reason: c.req.query('reason') ?? '', ...(until ? { until } : {}) }, 'form');
  const status = await hubFor(c.env, target.name).status(target.name);
  const end = freezeEnd({ until: request.until === undefined ? null : Date.parse(request.until) });
  return confirmPage(c, v, {
    title: `Freeze ${target.name}`,
    question: `Freeze deploys to ${target.name} ${end}?`,
    details: (
      <ul class="small">
        <li>Because: {request.reason}</li>
        {status.freeze ? <li>It replaces the freeze in force: {describeFreeze(status.freeze)}.</li> : null}
        <li>Pushes are still verified, recorded and queued (the latest wins); nothing is deployed until the freeze ends or someone unfreezes it. Then the newest queued deployment goes.</li>
        {status.current ? <li>The deployment running now finishes: a freeze stops what is next, not what runs.</li> : null}
        <li>An admin can still roll back while it holds (break glass, in the audit trail).</li>
      </ul>
    ),
    action: `${base}/freeze`,
    fields: { reason: request.reason, ...(request.until ? { until: request.until } : {}) },
    button: 'Freeze',
    danger: true,
    back: base,
  });
});

freezeActions.post('/targets/:name/freeze', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const { form } = await checkedPost(c);
  const who = requireRole(c, 'operator', target);
  const until = form.get('until');
  const request = validate(freezeRequestAt(Date.now()), { reason: form.get('reason') ?? '', ...(until ? { until } : {}) }, 'form');
  unwrap(await hubFor(c.env, target.name).freeze(target.name, request, { actor: who.name, source: requestSource(c.req.raw) }));
  return redirect(c, targetPage(target.name));
});

freezeActions.get('/targets/:name/unfreeze', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const v = await operatorVisit(c, target);
  if (v instanceof Response) return v;
  const status = await hubFor(c.env, target.name).status(target.name);
  if (!status.freeze) {
    return page(c, v.nonce, <MessagePage title="Not frozen" message={`${target.name} is not frozen.`} code="not_frozen" back={targetPage(target.name)} viewer={v.viewer} nonce={v.nonce} />, 409);
  }
  const next = status.queued[0] ?? null;
  return confirmPage(c, v, {
    title: `Unfreeze ${target.name}`,
    question: `Unfreeze ${target.name}?`,
    details: (
      <ul class="small">
        <li>It is {describeFreeze(status.freeze)}.</li>
        <li>{next ? `The queue goes again: ${next.id} (${next.sha.slice(0, 7)}) is deployed next.` : 'Nothing is queued: the next push deploys as usual.'}</li>
      </ul>
    ),
    action: `${targetPage(target.name)}/unfreeze`,
    fields: {},
    button: 'Unfreeze',
    back: targetPage(target.name),
  });
});

freezeActions.post('/targets/:name/unfreeze', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  await checkedPost(c);
  const who = requireRole(c, 'operator', target);
  unwrap(await hubFor(c.env, target.name).unfreeze(target.name, { actor: who.name, source: requestSource(c.req.raw) }));
  return redirect(c, targetPage(target.name));
});

function targetPage(target: string): string {
  return `/targets/${target}`;
}
