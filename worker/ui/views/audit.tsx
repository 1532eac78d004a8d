/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// `/targets/:name/audit`: a target's audit trail for admins, newest first, a page at a time, of
// every action or of one. Paged by the entry's id, so a burst of new entries never shifts what the
// next page shows. Details are the hub's own words, cut; everything is a child, which hono/jsx escapes.
import type { AuditPage, AuditRecord } from '../../../shared/api.ts';
import { AuditAction } from '../../../shared/api.ts';
import { clipText } from '../../http/quote-input.ts';
import { Layout, type Viewer } from './layout.tsx';
import { Time } from './parts.tsx';

/** Longest detail shown in a row; the API has it whole. */
const DETAIL_CHARS = 400;

export function AuditTrailPage(props: {
  target: string;
  trail: AuditPage;
  action: AuditAction | null;
  before: number | null;
  viewer: Viewer;
  nonce: string;
  now: number;
}) {
  const base = `/targets/${props.target}/audit`;
  const filter = props.action ? `action=${encodeURIComponent(props.action)}` : '';
  const newest = filter ? `${base}?${filter}` : base;
  const older = props.trail.next === null ? null : `${base}?before=${props.trail.next}${filter ? `&${filter}` : ''}`;
  return (
    <Layout title={`${props.target} audit trail`} nonce={props.nonce} viewer={props.viewer}>
      <h1>
        {props.target} <span class="muted small">audit trail</span>
      </h1>
      <section class="card" id="audit">
        <form method="get" action={base} data-audit-filter>
          <label for="audit-action">Action</label>{' '}
          <select id="audit-action" name="action">
            <option value="" selected={props.action === null}>
              every action
            </option>
            {AuditAction.options.map((a) => (
              <option value={a} selected={props.action === a}>
                {a}
              </option>
            ))}
          </select>{' '}
          <button type="submit">Show</button>
        </form>
        {props.trail.entries.length ? (
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th>When</th>
                  <th>Action</th>
                  <th>Who</th>
                  <th>What</th>
                  <th>From</th>
                </tr>
              </thead>
              <tbody>
                {props.trail.entries.map((e) => (
                  <AuditRow entry={e} now={props.now} />
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p class="muted" data-no-entries>
            {props.before !== null ? 'No older entries.' : props.action ? `No ${props.action} entries.` : 'No entries yet.'}
          </p>
        )}
        <p class="small" data-paging>
          {props.before !== null ? <a href={newest}>Newest</a> : null}
          {props.before !== null && older ? ' · ' : null}
          {older ? (
            <a href={older} data-older>
              Older
            </a>
          ) : null}
        </p>
        <p class="muted small">
          Only the hub writes here, for what it did: refused tokens are in the access log (<code>GET /api/access-log</code>), unsigned webhooks in the delivery ledger.
        </p>
      </section>
      <p class="small">
        <a href={`/targets/${props.target}`}>Back to {props.target}</a>
      </p>
    </Layout>
  );
}

function AuditRow(props: { entry: AuditRecord; now: number }) {
  const e = props.entry;
  return (
    <tr data-audit-id={e.id} data-action={e.action}>
      <td class="when" data-label="When">
        <Time at={e.at} now={props.now} />
      </td>
      <td data-label="Action">
        <code>{e.action}</code>
      </td>
      <td data-label="Who">{e.actor}</td>
      <td class="message small" data-label="What">
        {clipText(JSON.stringify(e.detail), DETAIL_CHARS)}
      </td>
      <td data-label="From">{e.source ?? <span class="muted">—</span>}</td>
    </tr>
  );
}
