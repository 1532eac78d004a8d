// The demo's issue-18 part, after the UI edit loop: living with it. Each step is its own file; this
// one runs them in the order a house meets them, on the demo's one stack (the edge under wrangler
// dev, the relay, the Home Assistant stand-in, the GitHub stand-in):
//
//   freeze       a push during a freeze is kept, not deployed; unfreezing deploys it (freeze.ts)
//   window       a restart-class push is checked and put back, then waits for the restart window
//                the demo's target has shut; "restart now" deploys it (restart-window.ts)
//   HA backup    before that restart Home Assistant backed itself up; with its Supervisor failing,
//                the next restart-class deploy stops before anything is written (ha-backup.ts)
//   tags         a second target deploys tags v* in semantic-version order (release-tags.ts)
//
// Restart-class deploys wait for the window in every step after it: the HA backup step lets each
// one go with "restart now", as an operator outside the window would.
import { join } from 'node:path';
import type { HomeAssistantStandIn } from '../test/support/home-assistant-standin.ts';
import { runFreezeDemo } from './freeze.ts';
import { runHaBackupDemo } from './ha-backup.ts';
import { runReleaseTagsStep } from './release-tags.ts';
import { runRestartWindowStep } from './restart-window.ts';
import type { DemoDeployment, UiEditLoopContext } from './ui-edit-loop.ts';

export interface LivingWithItContext extends Omit<UiEditLoopContext, 'github'> {
  edgeUrl: string;
  webhookSecret: string;
  repo: string;
  /** The demo's bare repository: the relays' git remote. */
  remote: string;
  /** Where the second target's relay keeps its own folders. */
  dir: string;
  configRoot: string;
  ha: HomeAssistantStandIn;
  push: (files: Record<string, string>, message: string) => Promise<string>;
  /** The relay token the edge has for the `releases` target. */
  releasesRelayToken: string;
}

export interface LivingWithItResult {
  ok: boolean;
  /** One phrase per step, for the demo's result line. */
  results: string[];
}

const FINAL = ['succeeded', 'failed', 'rolled_back', 'superseded', 'cancelled'];

export async function runLivingWithIt(ctx: LivingWithItContext): Promise<LivingWithItResult> {
  const results: string[] = [];
  let ok = true;
  const note = (step: { ok: boolean; result: string }) => {
    ok &&= step.ok;
    results.push(step.result);
  };

  note(await runFreezeDemo(ctx));
  note(await runRestartWindowStep({ work: ctx.work, configRoot: ctx.configRoot, push: ctx.push, api: ctx.api, waitUntil: ctx.waitUntil, step: ctx.step }));
  note(await runHaBackupDemo({ work: ctx.work, git: ctx.git, configRoot: ctx.configRoot, ha: ctx.ha, deliverPush: ctx.deliverPush, finished: (id) => finishedThroughWindow(ctx, id), step: ctx.step }));
  await ctx.git(ctx.work, 'pull', '--quiet', '--ff-only', 'origin', 'main');
  note(
    await runReleaseTagsStep({
      edgeUrl: ctx.edgeUrl,
      webhookSecret: ctx.webhookSecret,
      repo: ctx.repo,
      target: 'releases',
      work: ctx.work,
      git: ctx.git,
      api: ctx.api,
      waitUntil: ctx.waitUntil,
      step: ctx.step,
      relay: { dir: join(ctx.dir, 'releases'), token: ctx.releasesRelayToken, remote: ctx.remote, homeAssistant: ctx.homeAssistant },
    }),
  );
  return { ok, results };
}

/** Waits for a deployment to end; one that waits for the restart window is let go with "restart now", and says so. */
async function finishedThroughWindow(ctx: LivingWithItContext, id: string): Promise<DemoDeployment> {
  let view: DemoDeployment | null = null;
  let released = false;
  await ctx.waitUntil(`deployment ${id} to finish`, async () => {
    view = ((await ctx.api(`/deployments/home/logs?deploymentId=${id}`)).body.deployment ?? null) as DemoDeployment | null;
    if (view?.status === 'waiting_for_window' && !released) {
      const asked = await ctx.api('/deployments/home/restart-now', { method: 'POST', body: { deploymentId: id } });
      console.log(`  waiting for the restart window; restart now → HTTP ${asked.status}`);
      released = true;
    }
    return view !== null && FINAL.includes(view.status);
  }, 180_000);
  return view!;
}
