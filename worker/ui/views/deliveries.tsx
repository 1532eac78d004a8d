/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The target page's "Webhook deliveries": the newest deliveries of the target's repository from
// the ledger, each with what GitHub sent (event, ref, commit), what the edge made of it (the
// verdict and the reason in words) and the deployment it queued for this target, so "why didn't my
// push deploy?" is answered where the homeowner looks. Open by itself when the newest delivery
// deployed nothing. Everything from a delivery is a child or an attribute, which hono/jsx escapes.
import type { DeliveryRecord, DeliveryVerdict } from '../../ledger/deliveries.ts';
import { eventLabel, shortRef, shortSha } from '../format.ts';
import type { TargetDeliveries } from '../ledger-data.ts';
import { Badge, ShaLink, Time } from './parts.tsx';

const SHA = /^[0-9a-f]{40}$/;
/** Verdicts that need no explaining: the delivery did what it should. */
const FINE: readonly DeliveryVerdict[] = ['enqueued', 'duplicate', 'ok'];

export function DeliveriesPanel(props: { target: string; deliveries: TargetDeliveries; now: number }) {
  const { repo, aboutTargetOnly, read } = props.deliveries;
  if (!read.ok) {
    return (
      <section class="card" id="deliveries" data-ledger="unavailable">
        <h2>Webhook deliveries</h2>
        <p class="muted">The delivery ledger could not be read just now; the page will show it again once it can.</p>
      </section>
    );
  }
  const rows = read.value;
  const newest = rows[0];
  return (
    <section class="card" id="deliveries" data-ledger="read">
      <h2>Webhook deliveries</h2>
      {newest ? (
        <details id="deliveries-list" open={!FINE.includes(newest.verdict)}>
          <summary>
            {rows.length === 1 ? 'The last delivery' : `The last ${rows.length} deliveries`} of {repo}
            {aboutTargetOnly ? ` for ${props.target}` : ''}; the newest <Badge state={newest.verdict} /> <Time at={newest.receivedAt} now={props.now} />
          </summary>
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th>Received</th>
                  <th>Event</th>
                  <th>Ref</th>
                  <th>Commit</th>
                  <th>Verdict</th>
                  <th>Deployment</th>
                  <th>Why</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((d) => (
                  <DeliveryRow delivery={d} target={props.target} repo={repo} now={props.now} />
                ))}
              </tbody>
            </table>
          </div>
        </details>
      ) : (
        <p class="muted" data-no-deliveries>
          {aboutTargetOnly
            ? `No delivery about ${props.target} has reached the edge yet.`
            : `No delivery of ${repo} has reached the edge yet. GitHub sends one on every push once the repository's webhook points at /webhooks/github of this edge, with content type application/json and the secret WEBHOOK_SECRET.`}
        </p>
      )}
      {aboutTargetOnly ? null : (
        <p class="muted small">
          A delivery refused for its signature names no repository (nothing unsigned is read), so it is not listed here: the overview warns about those.
        </p>
      )}
    </section>
  );
}

function DeliveryRow(props: { delivery: DeliveryRecord; target: string; repo: string; now: number }) {
  const d = props.delivery;
  const mine = d.deployments.filter((x) => x.target === props.target);
  return (
    <tr data-delivery={d.deliveryId ?? undefined} data-verdict={d.verdict}>
      <td class="when" data-label="Received">
        <Time at={d.receivedAt} now={props.now} />
      </td>
      <td data-label="Event">{eventLabel(d.event, d.action)}</td>
      <td class="ref" data-label="Ref">
        {d.ref ? <code>{shortRef(d.ref)}</code> : <span class="muted">—</span>}
      </td>
      <td data-label="Commit">
        {d.sha === null ? <span class="muted">—</span> : SHA.test(d.sha) ? <ShaLink repo={props.repo} sha={d.sha} /> : <code>{shortSha(d.sha)}</code>}
      </td>
      <td data-label="Verdict">
        <Badge state={d.verdict} />
      </td>
      <td class="deployment" data-label="Deployment">
        {mine.length ? (
          mine.map((m) => (
            <div data-created={String(m.created)}>
              <a href={`/targets/${props.target}?deployment=${encodeURIComponent(m.deploymentId)}`}>
                <code>{m.deploymentId}</code>
              </a>
              {m.created ? null : <span class="muted small"> (queued when it was first delivered)</span>}
            </div>
          ))
        ) : (
          <span class="muted">—</span>
        )}
      </td>
      <td class="reason message small" data-label="Why" data-reason>
        {d.reason}
      </td>
    </tr>
  );
}
