// The edge: the D1 ledger and its migrations, the target in the Worker's configuration, the
// secrets (hashed where the edge accepts a hash), the deploy, and /healthz. With --local the same
// steps against `wrangler dev`: local D1, a .dev.vars file beside the config instead of
// `wrangler secret bulk`, and the edge left running on 127.0.0.1.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { envFileLine } from '../../demo/local-edge.ts';
import type { SetupActions } from './actions.ts';
import { ensureService } from './local-services.ts';
import type { SetupSecrets } from './secrets-store.ts';
import { configuredDatabaseId, REPOSITORY_ROOT, writeWorkerConfig, type TargetEntry } from './wrangler-config.ts';

const WRANGLER = createRequire(import.meta.url).resolve('wrangler/bin/wrangler.js');
const OFFLINE_ENV = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', FORCE_COLOR: '0' };
const DATABASE_NAME = 'lanyard-ledger';

export interface EdgePlan {
  local: boolean;
  stateDir: string;
  configPath: string;
  publicUrl: string;
  port: number;
  target: TargetEntry;
  relayTokenSecret: string;
  secrets: SetupSecrets;
  /** Redeploy (and restart a local edge) even when nothing changed. */
  update: boolean;
}

function wrangler(actions: SetupActions, args: string[], options: { input?: string; readOnly?: boolean; allowFailure?: boolean } = {}) {
  return actions.run(process.execPath, [WRANGLER, ...args], { cwd: REPOSITORY_ROOT, env: OFFLINE_ENV, ...options });
}

/** The Worker secrets: the relay token and admin token as sha256 (the edge accepts their hashes), the rest as they are. */
export function edgeSecrets(plan: Pick<EdgePlan, 'secrets' | 'relayTokenSecret'>): Record<string, string> {
  const sha = (v: string) => createHash('sha256').update(v).digest('hex');
  return {
    WEBHOOK_SECRET: plan.secrets.webhookSecret,
    [plan.relayTokenSecret]: `sha256:${sha(plan.secrets.relayToken)}`,
    API_TOKENS: JSON.stringify([{ name: 'setup-admin', role: 'admin', sha256: plan.secrets.adminTokenSha256 }]),
    SESSION_SECRET: plan.secrets.sessionSecret,
  };
}

async function databaseId(actions: SetupActions, plan: EdgePlan): Promise<string | null> {
  const configured = await configuredDatabaseId(plan.configPath);
  if (configured || plan.local) return configured;
  // A dry run asks Cloudflare nothing: it only prints.
  const listed = await wrangler(actions, ['d1', 'list', '--json'], { readOnly: !actions.dryRun, allowFailure: true });
  const existing = listed.code === 0 && listed.stdout ? (JSON.parse(listed.stdout) as Array<{ name: string; uuid: string }>).find((d) => d.name === DATABASE_NAME) : undefined;
  if (existing) return existing.uuid;
  const created = await wrangler(actions, ['d1', 'create', DATABASE_NAME]);
  if (actions.dryRun) return '<id printed by d1 create>';
  const id = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.exec(created.stdout)?.[0];
  if (!id) throw new Error(`wrangler d1 create printed no database id: ${created.stdout}`);
  return id;
}

async function applyMigrations(actions: SetupActions, plan: EdgePlan): Promise<void> {
  const where = plan.local ? ['--local', '--persist-to', join(plan.stateDir, 'edge-state')] : ['--remote'];
  const pending = await wrangler(actions, ['d1', 'migrations', 'list', 'LEDGER', ...where, '-c', plan.configPath], { readOnly: !actions.dryRun, allowFailure: true });
  if (pending.code === 0 && /No migrations to apply/i.test(pending.stdout)) {
    actions.say('  the ledger\'s migrations are all applied');
    return;
  }
  await wrangler(actions, ['d1', 'migrations', 'apply', 'LEDGER', ...where, '-c', plan.configPath]);
}

function unusedLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function digestOf(paths: string[], extra: string): Promise<string> {
  const hash = createHash('sha256').update(extra);
  for (const path of paths) hash.update(await readFile(path).catch(() => Buffer.alloc(0)));
  return hash.digest('hex');
}

/** Stores the secrets: .dev.vars beside the config (local), or one `wrangler secret bulk` when they changed. */
async function storeSecrets(actions: SetupActions, plan: EdgePlan): Promise<void> {
  const secrets = edgeSecrets(plan);
  if (plan.local) {
    await actions.writeFile(join(dirname(plan.configPath), '.dev.vars'), Object.entries(secrets).map(([k, v]) => envFileLine(k, v)).join(''), 0o600);
    return;
  }
  // Cloudflare never shows a secret back: a digest of what was uploaded tells whether to upload again.
  const json = JSON.stringify(secrets);
  const digestPath = join(plan.stateDir, 'edge-secrets.sha256');
  const digest = `${createHash('sha256').update(json).digest('hex')}\n`;
  if ((await readFile(digestPath, 'utf8').catch(() => null)) === digest) {
    actions.say(`  the Worker's secrets are already set (${Object.keys(secrets).join(', ')})`);
    return;
  }
  await wrangler(actions, ['secret', 'bulk', '-c', plan.configPath], { input: json });
  await actions.writeFile(digestPath, digest, 0o600);
}

async function deploy(actions: SetupActions, plan: EdgePlan): Promise<void> {
  const devVars = join(dirname(plan.configPath), '.dev.vars');
  if (plan.local) {
    const digest = await digestOf([plan.configPath, devVars], `port ${plan.port}`);
    await ensureService(actions, plan.stateDir, 'edge', digest, plan.update, async () =>
      actions.spawnDetached(
        process.execPath,
        [WRANGLER, 'dev', '-c', plan.configPath, '--ip', '127.0.0.1', '--port', String(plan.port), '--persist-to', join(plan.stateDir, 'edge-state'), '--show-interactive-dev-session=false', '--inspector-ip', '127.0.0.1', '--inspector-port', String(await unusedLoopbackPort())],
        join(plan.stateDir, 'edge.log'),
        { cwd: REPOSITORY_ROOT, env: OFFLINE_ENV },
      ),
    );
    return;
  }
  // A deploy of the same sources and config is skipped; --update always deploys.
  const head = await actions.run('git', ['rev-parse', 'HEAD'], { cwd: REPOSITORY_ROOT, readOnly: true, allowFailure: true });
  const digest = `${await digestOf([plan.configPath], head.stdout)}\n`;
  const digestPath = join(plan.stateDir, 'edge-deployed.sha256');
  if (!plan.update && (await readFile(digestPath, 'utf8').catch(() => null)) === digest) {
    actions.say('  the Worker is deployed from these sources and this config');
    return;
  }
  await wrangler(actions, ['deploy', '-c', plan.configPath]);
  await actions.writeFile(digestPath, digest, 0o600);
}

/** Waits for GET /healthz, and returns the problems the edge names. */
export async function checkHealth(actions: SetupActions, publicUrl: string, timeoutMs = 90_000): Promise<string[]> {
  if (actions.dryRun) {
    actions.say(`would check ${publicUrl}/healthz`);
    return [];
  }
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${publicUrl}/healthz`, { signal: AbortSignal.timeout(5000) });
      if (response.ok) {
        const body = (await response.json()) as { problems?: Array<{ message: string }> };
        return (body.problems ?? []).map((p) => p.message);
      }
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${publicUrl}/healthz did not answer within ${timeoutMs / 1000} s (${last})`);
}

export async function setUpEdge(actions: SetupActions, plan: EdgePlan): Promise<void> {
  actions.say('\nEdge');
  const id = await databaseId(actions, plan);
  await writeWorkerConfig(actions, plan.configPath, { publicUrl: plan.publicUrl, databaseId: id, target: plan.target });
  await applyMigrations(actions, plan);
  await storeSecrets(actions, plan);
  await deploy(actions, plan);
  const problems = await checkHealth(actions, plan.publicUrl);
  if (!actions.dryRun) actions.say(problems.length ? `  /healthz names problems:\n${problems.map((p) => `    - ${p}`).join('\n')}` : `  ${plan.publicUrl}/healthz: ok, no problems`);
}
