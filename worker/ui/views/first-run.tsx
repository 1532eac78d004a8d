/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The first-run checklist of a target that has not deployed yet: does GitHub's webhook reach the
// edge, is its signature valid, is the relay connected, does Home Assistant answer the relay (what
// the relay found when it started, said in its hello) — each with its state and the one fix. It
// goes away with the target's first deployment.
import type { TargetStatus } from '../../../shared/api.ts';
import type { TargetDeliveries } from '../ledger-data.ts';
import { Badge } from './parts.tsx';

type CheckState = 'ok' | 'failed' | 'waiting';

interface Check {
  id: string;
  title: string;
  state: CheckState;
  detail: string;
  fix: string;
}

const LABEL: Record<CheckState, string> = { ok: 'yes', failed: 'no', waiting: 'not yet' };

export function firstRunChecks(status: TargetStatus, deliveries: TargetDeliveries): Check[] {
  const seen = deliveries.read.ok ? deliveries.read.value : [];
  const verified = seen.find((d) => d.verified);
  const refused = deliveries.health?.ok ? deliveries.health.value.refused : null;
  const ha = status.relay.homeAssistant ?? null;
  return [
    {
      id: 'webhook',
      title: `GitHub's webhook reaches the edge for ${deliveries.repo}`,
      state: seen.length ? 'ok' : 'waiting',
      detail: seen.length ? `${seen.length === 1 ? 'a delivery' : `${seen.length} deliveries`} received (${seen[0]!.event ?? 'an event'} last)` : 'no delivery from this repository yet',
      fix: 'Run npm run setup with --github-token (it creates the webhook and waits for its ping), or in the repository: Settings → Webhooks → Add webhook, Payload URL <this address>/webhooks/github, content type application/json, the WEBHOOK_SECRET, event Pushes.',
    },
    {
      id: 'signature',
      title: 'Its signature is valid',
      state: verified ? 'ok' : refused && refused.count > 0 ? 'failed' : 'waiting',
      detail: verified ? 'signed with the edge\'s WEBHOOK_SECRET' : refused && refused.count > 0 ? `${refused.count} delivery(ies) refused for their signature in the last day: ${refused.lastReason ?? ''}` : 'no signed delivery yet',
      fix: 'The webhook\'s secret must be the edge\'s WEBHOOK_SECRET: run npm run setup again (it updates the webhook with the secret it keeps), or paste the secret into the webhook on GitHub and redeliver the ping.',
    },
    {
      id: 'relay',
      title: 'The relay is connected',
      state: status.relay.connected ? 'ok' : 'waiting',
      detail: status.relay.connected ? `${status.relay.relayId ?? 'a relay'}${status.relay.version ? ` v${status.relay.version}` : ''}` : status.relay.everConnected ? 'it connected before, and is not connected now' : 'no relay has connected to this target yet',
      fix: 'Start the relay: npm run setup starts it (or sudo systemctl start lanyard-relay, or start the add-on); npm run relay -- doctor --config relay.yaml names what stops it (edge URL, token, target).',
    },
    {
      id: 'home-assistant',
      title: 'Home Assistant answers the relay',
      state: ha ? (ha.ok ? 'ok' : 'failed') : 'waiting',
      detail: ha ? ha.detail : 'the relay says so when it connects',
      fix: 'Check homeAssistant.url and the long-lived access token (an administrator\'s) in relay.yaml; relay doctor names the problem.',
    },
  ];
}

export function FirstRunChecklist(props: { status: TargetStatus; deliveries: TargetDeliveries }) {
  const checks = firstRunChecks(props.status, props.deliveries);
  return (
    <section class="card" id="first-run" data-first-run>
      <h2>First run</h2>
      <p class="muted small">This target has not deployed yet. When all four say yes, push a change to its branch.</p>
      <ul class="files">
        {checks.map((check) => (
          <li data-check={check.id} data-state={check.state}>
            <Badge state={check.state === 'ok' ? 'succeeded' : check.state === 'failed' ? 'failed' : 'waiting'} text={LABEL[check.state]} /> <strong>{check.title}</strong>{' '}
            <span class="muted small">{check.detail}</span>
            {check.state === 'ok' ? null : <div class="small" data-fix>{check.fix}</div>}
          </li>
        ))}
      </ul>
    </section>
  );
}
