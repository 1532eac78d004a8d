// The GitHub webhook: with a token used for this run only (never written anywhere), creates the
// repository's webhook, or updates the one that already points at this edge, with the right URL,
// content type, secret and events; then waits for GitHub's `ping` to show in the edge's delivery
// ledger. Without a token it prints the four fields to fill in by hand.
import { readFile } from 'node:fs/promises';
import type { SetupActions } from './actions.ts';

export interface GithubPlan {
  apiUrl: string;
  token: string | undefined;
  repo: string;
  publicUrl: string;
  webhookSecret: string;
  events: string[];
  /** The admin token in clear, on the run that made it: lets setup read the ledger for the ping. */
  adminToken: string | null;
  /** Where setup notes the hook it made or checked (id and URL, nothing secret), for runs without a token. */
  recordPath: string;
}

interface Hook {
  id: number;
  active: boolean;
  events: string[];
  config: { url?: string; content_type?: string; insecure_ssl?: string };
}

export function eventsFor(trigger: string): string[] {
  if (trigger === 'workflow_run') return ['push', 'workflow_run'];
  if (trigger === 'dispatch') return ['push', 'repository_dispatch'];
  return ['push'];
}

async function github(plan: GithubPlan, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${plan.apiUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${plan.token}`,
      Accept: 'application/vnd.github+json',
      'X-GitHub-Api-Version': '2022-11-28',
      'User-Agent': 'lanyard-setup',
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  if (!response.ok) {
    const hint = response.status === 404 || response.status === 403 ? ' (the token needs "Webhooks: Read and write" on this repository)' : '';
    throw new Error(`GitHub answered ${method} ${path} with HTTP ${response.status}${hint}: ${text.slice(0, 300)}`);
  }
  return text ? JSON.parse(text) : null;
}

async function waitForPing(actions: SetupActions, plan: GithubPlan, hookId: number): Promise<void> {
  if (!plan.adminToken) {
    actions.say('  GitHub sends a ping now; see it with GET /api/deliveries (or the status page)');
    return;
  }
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${plan.publicUrl}/api/deliveries?limit=20`, { headers: { Authorization: `Bearer ${plan.adminToken}` } }).catch(() => null);
    if (response?.ok) {
      const { deliveries } = (await response.json()) as { deliveries: Array<{ event: string | null; verified: boolean; reason: string | null }> };
      const ping = deliveries.find((d) => d.event === 'ping');
      if (ping) {
        if (!ping.verified) throw new Error(`GitHub's ping reached the edge but its signature was refused: ${ping.reason ?? ''}`);
        actions.say(`  GitHub's ping arrived, signature valid (hook ${hookId})`);
        return;
      }
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`GitHub's ping did not reach ${plan.publicUrl}/webhooks/github within 60 s: see the hook's "Recent Deliveries" on GitHub`);
}

export async function setUpWebhook(actions: SetupActions, plan: GithubPlan): Promise<void> {
  actions.say('\nGitHub webhook');
  const url = `${plan.publicUrl}/webhooks/github`;
  const config = { url, content_type: 'json', insecure_ssl: '0', secret: plan.webhookSecret };
  const recorded = JSON.parse((await readFile(plan.recordPath, 'utf8').catch(() => null)) ?? 'null') as { id: number; url: string } | null;
  if (!plan.token && recorded?.url === url) {
    actions.say(`  the webhook (id ${recorded.id}) was set up by an earlier run; left as it is (--github-token checks it again)`);
    return;
  }
  if (!plan.token) {
    actions.say(
      `  no --github-token: add it by hand in ${plan.repo} → Settings → Webhooks → Add webhook:\n` +
        `    Payload URL ${url}\n    Content type application/json\n    Secret (the webhookSecret in the setup folder's secrets.json)\n    Events ${plan.events.join(', ')}`,
    );
    return;
  }
  if (actions.dryRun) {
    actions.say(`would GET ${plan.apiUrl}/repos/${plan.repo}/hooks, then create or update the hook for ${url} (events ${plan.events.join(', ')}, content type json, the webhook secret)`);
    return;
  }
  const hooks = (await github(plan, 'GET', `/repos/${plan.repo}/hooks`)) as Hook[];
  const ours = hooks.find((h) => h.config.url === url);
  if (!ours) {
    const created = (await github(plan, 'POST', `/repos/${plan.repo}/hooks`, { name: 'web', active: true, events: plan.events, config })) as Hook;
    actions.say(`  created the webhook (id ${created.id}) for ${url}`);
    actions.remote(`GitHub webhook ${created.id} created`);
    await actions.writeFile(plan.recordPath, `${JSON.stringify({ id: created.id, url })}\n`, 0o600);
    await waitForPing(actions, plan, created.id);
    return;
  }
  const same = ours.active && ours.config.content_type === 'json' && ours.config.insecure_ssl === '0' && [...ours.events].sort().join() === [...plan.events].sort().join();
  await actions.writeFile(plan.recordPath, `${JSON.stringify({ id: ours.id, url })}\n`, 0o600);
  if (same) {
    actions.say(`  the webhook (id ${ours.id}) already points here with these events`);
    return;
  }
  await github(plan, 'PATCH', `/repos/${plan.repo}/hooks/${ours.id}`, { active: true, events: plan.events, config });
  actions.say(`  updated the webhook (id ${ours.id})`);
  actions.remote(`GitHub webhook ${ours.id} updated`);
}
