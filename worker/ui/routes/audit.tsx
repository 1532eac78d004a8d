/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// `/targets/:name/audit?before=&action=`: the target's audit trail for a signed-in admin, through
// the hub method the REST API's `GET …/audit` uses, with the same query shape.
import { Hono } from 'hono';
import { AuditQuery } from '../../../shared/api.ts';
import { findTarget } from '../../config/targets.ts';
import { requireRole, type AppContext } from '../../http/access.ts';
import { validate } from '../../http/validate.ts';
import { hubFor } from '../../hub/hub-for.ts';
import { page, signInFirst, visit } from '../page-context.tsx';
import { AuditTrailPage } from '../views/audit.tsx';

export const audit = new Hono<AppContext>();

/** Rows a page shows. */
const PAGE_ENTRIES = 50;

audit.get('/targets/:name/audit', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const v = await visit(c);
  if (!v.session) return signInFirst(c);
  requireRole(c, 'admin', target);
  // An empty field is what the filter form sends for "every action".
  const query = validate(AuditQuery, { limit: PAGE_ENTRIES, before: c.req.query('before') || undefined, action: c.req.query('action') || undefined }, 'query');
  const trail = await hubFor(c.env, target.name).auditTrail(target.name, query);
  return page(
    c,
    v.nonce,
    <AuditTrailPage target={target.name} trail={trail} action={query.action ?? null} before={query.before ?? null} viewer={v.viewer} nonce={v.nonce} now={Date.now()} />,
  );
});
