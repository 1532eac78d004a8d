// A demo step for release tags (issue 18): on a target whose trigger is `{ type: "tag", pattern:
// "v*" }`, the owner tags a commit v1.0.0 (annotated) and pushes the tag: GitHub's signed push
// webhook follows and it deploys. Then v0.9.0, on an older commit: lower than the one deployed, it
// is recorded as ignored, with the reason, in the delivery ledger and the audit trail. Then an
// operator deploys v0.9.0 anyway (`POST …/deploy {"tag": "v0.9.0"}`), which the relay checks on its
// own remote like any tag, and it deploys.
//
// The demo's `home` target deploys on push, and a target has one trigger: this step needs a target
// that deploys tags (e.g. `releases`, same repository, `trigger: { type: "tag", pattern: "v*" }`).
// Given `relay`, the step starts that target's relay itself (its own config folder, a copy of the
// sample configuration, the same git remote and Home Assistant) and stops it at the end; without,
// a relay for the target must be connected already. Only 127.0.0.1 is talked to.
import { cp, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sign } from '@octokit/webhooks-methods';
import { resolveRelayConfig } from '../relay/config.ts';
import { startRelay } from '../relay/daemon.ts';
import { consoleLogger } from '../relay/log.ts';
import { createPipeline } from '../relay/pipeline/deploy-pipeline.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface ReleaseTagsContext {
  edgeUrl: string;
  webhookSecret: string;
  /** The repository's full name as TARGETS has it (GitHub's `repository.full_name`). */
  repo: string;
  /** A target with `trigger: { type: "tag", pattern: "v*" }` and a relay connected for it. */
  target: string;
  /** A clone of the repository whose `origin` is the relay's `git.remote`, on main. */
  work: string;
  git: (cwd: string, ...args: string[]) => Promise<string>;
  /** GET or POST on the edge's API as an operator. */
  api: (path: string, init?: { method: 'POST'; body: unknown }) => Promise<{ status: number; body: Record<string, unknown> }>;
  waitUntil: (what: string, probe: () => Promise<boolean>, timeoutMs: number) => Promise<void>;
  step: (text: string) => void;
  /**
   * Start the target's relay here (and stop it at the end): a folder of its own under `dir`, the
   * relay token the edge has for the target, the repository's git remote, Home Assistant's API.
   * Absent: a relay for the target is connected already.
   */
  relay?: { dir: string; token: string; remote: string; homeAssistant: { url: string; token: string } };
}

export interface ReleaseTagsResult {
  ok: boolean;
  /** The line the demo ends its result with. */
  result: string;
}

interface Deployment {
  id: string;
  status: string;
  ref: string;
  sha: string;
  reason: string | null;
}

const FINAL = ['succeeded', 'failed', 'rolled_back', 'superseded', 'cancelled'];

/**
 * push v1.0.0 → deployed; push v0.9.0 (older commit) → ignored with the reason; an operator's
 * deploy {tag: v0.9.0} → deployed. Returns whether each went as it should.
 */
export async function runReleaseTagsStep(ctx: ReleaseTagsContext): Promise<ReleaseTagsResult> {
  if (!ctx.relay) return runSteps(ctx);
  ctx.step(`The relay for ${ctx.target}, a target that deploys tags v*`);
  const { dir, token, remote, homeAssistant } = ctx.relay;
  const configRoot = join(dir, 'config');
  const backupDir = join(dir, 'backup');
  await cp(join(ROOT, 'demo/sample-config'), configRoot, { recursive: true });
  await mkdir(backupDir, { recursive: true });
  const relayConfig = {
    relayId: `demo-relay-${ctx.target}`,
    stateDir: join(dir, 'relay-state'),
    edge: { url: ctx.edgeUrl, target: ctx.target, token, heartbeatSeconds: 30, maxBackoffSeconds: 5 },
    git: { remote, branch: 'main' },
    host: { transport: 'local', configRoot, backupDir },
    homeAssistant: { url: homeAssistant.url, token: homeAssistant.token, verifyTimeoutSeconds: 60 },
  };
  const loaded = await resolveRelayConfig(relayConfig, join(dir, 'relay.yaml'), {});
  const logger = consoleLogger(`relay ${ctx.target}`);
  const pipeline = await createPipeline(loaded, logger);
  const relay = await startRelay(loaded, pipeline, logger);
  try {
    await ctx.waitUntil(`the relay for ${ctx.target} to connect`, async () => relay.connection.current === 'ready', 30_000);
    return await runSteps(ctx);
  } finally {
    await relay.stop();
    await pipeline.close();
  }
}

async function runSteps(ctx: ReleaseTagsContext): Promise<ReleaseTagsResult> {
  const { work, git, target } = ctx;
  const finished = async (id: string): Promise<Deployment> => {
    let view: Deployment | null = null;
    await ctx.waitUntil(`deployment ${id} to finish`, async () => {
      view = ((await ctx.api(`/deployments/${target}/logs?deploymentId=${id}`)).body.deployment ?? null) as Deployment | null;
      return view !== null && FINAL.includes(view.status);
    }, 180_000);
    return view!;
  };
  /** Tags HEAD~n (annotated), pushes the tag, and sends GitHub's signed push of it: `after` is the tag object, `head_commit` the commit. */
  const pushTag = async (tag: string, commitish: string): Promise<{ status: number; reason: string; deploymentId: string | null }> => {
    const commit = await git(work, 'rev-parse', `${commitish}^{commit}`);
    await git(work, 'tag', '-a', tag, '-m', `Release ${tag}`, commit);
    await git(work, 'push', '--quiet', 'origin', `refs/tags/${tag}`);
    const tagObject = await git(work, 'rev-parse', `refs/tags/${tag}`);
    const message = await git(work, 'log', '-1', '--format=%s', commit);
    const body = JSON.stringify({
      ref: `refs/tags/${tag}`,
      before: '0'.repeat(40),
      after: tagObject,
      created: true,
      deleted: false,
      repository: { full_name: ctx.repo },
      pusher: { name: 'demo' },
      head_commit: { id: commit, message, author: { name: 'Demo Homeowner' } },
    });
    const response = await fetch(`${ctx.edgeUrl}/webhooks/github`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': crypto.randomUUID(), 'X-Hub-Signature-256': await sign(ctx.webhookSecret, body) },
      body,
    });
    const answer = (await response.json()) as { status?: string; reason?: string; deployments?: { deploymentId: string }[] };
    console.log(`  signed push of tag ${tag} (${commit.slice(0, 7)} "${message}") → HTTP ${response.status} ${answer.status}: ${answer.reason ?? ''}`);
    return { status: response.status, reason: answer.reason ?? '', deploymentId: answer.deployments?.[0]?.deploymentId ?? null };
  };

  ctx.step(`Release tags: ${target} deploys tags v*; tag main's head v1.0.0 and push the tag`);
  // Two commits, so v0.9.0 can name the older one.
  await git(work, 'commit', '--quiet', '--allow-empty', '-m', 'Release candidate for 0.9');
  await git(work, 'commit', '--quiet', '--allow-empty', '-m', 'Release 1.0');
  await git(work, 'push', '--quiet', 'origin', 'HEAD:main');
  const v1 = await pushTag('v1.0.0', 'HEAD');
  const first = v1.deploymentId ? await finished(v1.deploymentId) : null;
  console.log(`  → ${first ? `${first.id} ${first.status} (${first.ref})` : 'nothing queued'}`);

  ctx.step('Push tag v0.9.0 on the older commit: lower than v1.0.0, so it is ignored, with the reason');
  const v09 = await pushTag('v0.9.0', 'HEAD~1');
  const ignored = v09.status === 202 && v09.deploymentId === null && /lower than v1\.0\.0/.test(v09.reason);

  ctx.step('An operator deploys v0.9.0 anyway: POST /api/deployments/…/deploy {"tag": "v0.9.0"}');
  const asked = await ctx.api(`/deployments/${target}/deploy`, { method: 'POST', body: { tag: 'v0.9.0' } });
  const byHand = asked.status === 202 ? await finished((asked.body.deployment as Deployment).id) : null;
  console.log(`  → HTTP ${asked.status}${byHand ? `: ${byHand.id} ${byHand.status} (${byHand.ref})` : ` ${JSON.stringify(asked.body)}`}`);

  const ok = first?.status === 'succeeded' && first.ref === 'refs/tags/v1.0.0' && ignored && byHand?.status === 'succeeded' && byHand.ref === 'refs/tags/v0.9.0';
  return {
    ok,
    result: `tag v1.0.0 ${first?.status ?? 'not queued'}, tag v0.9.0 ${ignored ? 'ignored (lower)' : 'NOT ignored'}, deploy {tag: v0.9.0} ${byHand?.status ?? `HTTP ${asked.status}`}`,
  };
}
