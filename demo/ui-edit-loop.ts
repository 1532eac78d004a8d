// The demo's last step (issue 17): a UI edit comes back to git without a single manual copy.
// An automation is saved through the Home Assistant stand-in's automation editor, as its UI does;
// the relay's drift watch reports it to the edge; a capture pushes it as a branch and the edge opens
// a pull request at the GitHub stand-in; the branch is merged into main as GitHub's merge button
// would, the signed push webhook follows, and the deploy finds host and commit equal: nothing
// rewritten, no drift left.
//
// Before that, the bad commit the demo pushed (and the edge rolled back) is reverted, as a person
// would: the pull request is then merged into a main that deploys.
import type { GithubStandIn } from '../test/support/github-standin.ts';
import { saveAutomationInTheUi } from '../test/support/home-assistant-ui-editor.ts';

export interface DemoDeployment {
  id: string;
  status: string;
  reason: string | null;
  summary: { activation?: string; filesChanged?: string[]; drift?: string[]; backupId?: string | null } | null;
}

interface DriftFile {
  path: string;
  change: string;
  diff: string | null;
}

interface CaptureView {
  id: string;
  status: string;
  reason: string | null;
  branch: string | null;
  files: { path: string; change: string }[];
  pullRequestUrl: string | null;
}

export interface UiEditLoopContext {
  /** The demo's clone of the configuration repository (its `origin` is the bare repository). */
  work: string;
  git: (cwd: string, ...args: string[]) => Promise<string>;
  homeAssistant: { url: string; token: string };
  github: GithubStandIn;
  /** GET or POST on the edge's API as the demo's operator. */
  api: (path: string, init?: { method: 'POST'; body: unknown }) => Promise<{ status: number; body: Record<string, unknown> }>;
  /** Sends GitHub's signed push webhook for a commit already on main; the deployment id. */
  deliverPush: (sha: string, message: string) => Promise<string>;
  finished: (id: string) => Promise<DemoDeployment>;
  waitUntil: (what: string, probe: () => Promise<boolean>, timeoutMs: number) => Promise<void>;
  step: (text: string) => void;
}

export interface UiEditLoopResult {
  ok: boolean;
  /** The line the demo ends its result with. */
  result: string;
}

/** The automation the sample configuration ships, as someone re-saves it in Home Assistant's UI. */
const UI_EDIT = {
  alias: 'Porch light 15 minutes before sunset',
  description: 'Changed in the Home Assistant UI',
  trigger: [{ platform: 'sun', event: 'sunset', offset: '-00:15:00' }],
  action: [{ service: 'light.turn_on', target: { entity_id: 'light.porch' } }],
};
const UI_EDIT_ID = 'porch_light_at_sunset';

const indent = (text: string, lines: number) =>
  text
    .split('\n')
    .slice(0, lines)
    .map((line) => `      ${line}`)
    .join('\n');

export async function runUiEditLoop(ctx: UiEditLoopContext): Promise<UiEditLoopResult> {
  const { work, git, api } = ctx;

  ctx.step('Revert the bad commit, as a person would after the rollback (the host already has that tree)');
  await git(work, 'revert', '--no-edit', 'HEAD');
  await git(work, 'push', '--quiet', 'origin', 'HEAD:main');
  const revert = await ctx.finished(await ctx.deliverPush(await git(work, 'rev-parse', 'HEAD'), await git(work, 'log', '-1', '--format=%s')));
  console.log(`  → ${revert.status}: files changed: ${revert.summary?.filesChanged?.join(', ') || 'none'}`);

  ctx.step('A UI edit comes back to git: an automation saved in Home Assistant\'s UI editor');
  const saved = await saveAutomationInTheUi(ctx.homeAssistant, UI_EDIT_ID, UI_EDIT);
  console.log(`  POST /api/config/automation/config/${UI_EDIT_ID} → HTTP ${saved.status} (HA rewrites automations.yaml its own way)`);
  if (!saved.ok) throw new Error(`the Home Assistant stand-in refused the UI edit: ${await saved.text()}`);

  ctx.step('The relay\'s drift watch reports it; the edge shows (GET /api/deployments/home/drift)');
  let drifted: DriftFile[] = [];
  await ctx.waitUntil('the edge to show the UI edit as drift', async () => {
    const { body } = await api('/deployments/home/drift');
    drifted = ((body.drift as { files?: DriftFile[] } | null)?.files ?? []) as DriftFile[];
    return drifted.some((f) => f.path === 'automations.yaml');
  }, 60_000);
  for (const file of drifted) {
    console.log(`  ${file.change}: ${file.path}`);
    const changed = (file.diff ?? '').split('\n').filter((line) => /^[-+][^-+]/.test(line));
    if (changed.length) console.log(indent(changed.join('\n'), 6));
  }

  ctx.step('Capture the edit into a pull request (POST /api/deployments/home/capture)');
  const asked = await api('/deployments/home/capture', { method: 'POST', body: {} });
  const captureId = (asked.body.capture as CaptureView | undefined)?.id;
  if (asked.status !== 202 || !captureId) throw new Error(`the edge refused the capture: HTTP ${asked.status} ${JSON.stringify(asked.body)}`);
  let capture: CaptureView | undefined;
  await ctx.waitUntil('the capture to be pushed and its pull request opened', async () => {
    const { body } = await api('/deployments/home/captures');
    capture = (body.captures as CaptureView[]).find((c) => c.id === captureId);
    return capture !== undefined && !['queued', 'sent'].includes(capture.status) && (capture.status !== 'pushed' || capture.pullRequestUrl !== null);
  }, 60_000);
  if (capture?.status !== 'pushed' || !capture.branch) throw new Error(`the capture did not push: ${capture?.status} ${capture?.reason ?? ''}`);
  const pull = ctx.github.openPullFor(capture.branch);
  if (!pull) throw new Error(`GitHub (the stand-in) has no pull request for ${capture.branch}`);
  console.log(`  ${capture.id} ${capture.status}: ${capture.files.map((f) => `${f.change} ${f.path}`).join(', ')}`);
  console.log(`  branch ${capture.branch}`);
  console.log(`  pull request #${pull.number} ${capture.pullRequestUrl} (${pull.head} → ${pull.base}): "${pull.title}"`);
  console.log(indent(pull.body.split('\n').filter((line) => line.trim()).join('\n'), 4));

  ctx.step(`Merge pull request #${pull.number} into main, as GitHub's merge button would, and the push webhook follows`);
  await git(work, 'fetch', '--quiet', 'origin', capture.branch);
  await git(work, 'merge', '--quiet', '--no-ff', '-m', `Merge pull request #${pull.number} from ${pull.owner}/${pull.head}`, 'FETCH_HEAD');
  await git(work, 'push', '--quiet', 'origin', 'HEAD:main');
  ctx.github.closePull(pull.number);
  const merged = await ctx.finished(await ctx.deliverPush(await git(work, 'rev-parse', 'HEAD'), await git(work, 'log', '-1', '--format=%s')));
  const filesChanged = merged.summary?.filesChanged ?? [];
  const driftAtDeploy = merged.summary?.drift ?? [];
  console.log(`  → ${merged.status}: files changed: ${filesChanged.join(', ') || 'none'}, drift: ${driftAtDeploy.join(', ') || 'none'}`);

  const cleared = await ctx.waitUntil('the edge to show no drift', async () => {
    const { body } = await api('/deployments/home/drift');
    return ((body.drift as { files?: DriftFile[] } | null)?.files ?? []).length === 0;
  }, 30_000).then(() => true, () => false);
  const left = ((await api('/deployments/home/drift')).body.drift as { files?: DriftFile[] } | null)?.files ?? [];
  console.log(`  drift on the edge: ${cleared && left.length === 0 ? 'none' : left.map((f) => `${f.change} ${f.path}`).join(', ')}`);

  const ok = revert.status === 'succeeded' && merged.status === 'succeeded' && filesChanged.length === 0 && driftAtDeploy.length === 0 && cleared;
  return { ok, result: `UI edit merged ${merged.status}, files changed ${filesChanged.length}, drift ${cleared ? 'cleared' : 'left'}` };
}
