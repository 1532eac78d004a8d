/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The overview's word on GitHub's webhook, for a signed-in reader only: a warning when deliveries
// were refused for their signature lately (the most common setup mistake is a wrong secret, and
// then no push deploys), and when the last delivery reached the edge at all. A reader who is not
// signed in never gets this: the ledger is about every target, not only the public ones. What it
// reads can be steered by no anonymous client (ledger/webhook-health.ts), and it shows no text
// that came with a request.
import type { WebhookHealth } from '../../ledger/webhook-health.ts';
import { eventLabel } from '../format.ts';
import type { LedgerRead } from '../ledger-data.ts';
import { Badge, Time } from './parts.tsx';

export function WebhookHealthNote(props: { health: LedgerRead<WebhookHealth>; now: number }) {
  if (!props.health.ok) {
    return (
      <p class="muted small" id="webhook-health" data-ledger="unavailable">
        The delivery ledger could not be read just now, so this page cannot say whether GitHub's webhook reaches the edge.
      </p>
    );
  }
  const { last, refused, verifiedAt } = props.health.value;
  return (
    <div id="webhook-health" data-ledger="read">
      {refused.count > 0 && refused.lastAt !== null ? <RefusedSignatures count={refused.count} lastAt={refused.lastAt} reason={refused.lastReason} verifiedAt={verifiedAt} now={props.now} /> : null}
      <p class="muted small" data-last-delivery={last?.verdict ?? 'none'}>
        {last ? (
          <>
            Last webhook delivery: <Time at={last.receivedAt} now={props.now} />, {eventLabel(last.event, last.action)}, <Badge state={last.verdict} />
          </>
        ) : (
          'No webhook delivery from GitHub has reached the edge yet. In the repository\'s settings on GitHub, add a webhook to /webhooks/github of this edge, with content type application/json and the secret WEBHOOK_SECRET.'
        )}
      </p>
    </div>
  );
}

function RefusedSignatures(props: { count: number; lastAt: number; reason: string | null; verifiedAt: number | null; now: number }) {
  // A valid delivery after the last refusal: the secret was probably put right since.
  const since = props.verifiedAt !== null && props.verifiedAt > props.lastAt ? props.verifiedAt : null;
  const many = props.count !== 1;
  return (
    <div class={since === null ? 'error' : 'notice'} data-webhook-warning={props.count}>
      <strong>
        {many
          ? `${props.count} webhook deliveries that look like GitHub's were refused for their signature in the last 24 h.`
          : '1 webhook delivery that looks like GitHub\'s was refused for its signature in the last 24 h.'}
      </strong>{' '}
      The last one, at <Time at={props.lastAt} now={props.now} />
      {props.reason ? (
        <>
          : <span class="message" data-refusal>{props.reason}</span>.
        </>
      ) : (
        '.'
      )}{' '}
      Check that the secret of the repository's webhook on GitHub (Settings → Webhooks) equals the edge's WEBHOOK_SECRET: a delivery it refuses deploys nothing.
      {since !== null ? (
        <div data-verified-since>
          A delivery with a valid signature arrived after it, at <Time at={since} now={props.now} />, so the secret may be right again.
        </div>
      ) : null}
    </div>
  );
}
