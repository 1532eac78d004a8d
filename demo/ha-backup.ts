// A demo step (issue 18): Home Assistant's own backup before a restart. A change Home Assistant reads
// only at start-up is pushed; the relay asks Home Assistant (the stand-in, as HA OS with its
// Supervisor) for a partial backup named after the deployment, waits for it, and only then takes its
// own backup and writes; the deployment records the slug and the status page links it. Then the
// Supervisor is made to fail the next backup (a full disk): that deploy stops before anything is
// written, the host's configuration.yaml untouched.
//
// Wiring (demo/run-demo.ts, after the UI edit loop, when main deploys again): the relay config gets
// `homeAssistant.backup: { enabled: true, timeoutSeconds: 60 }`, the target in TARGETS gets
// `environmentUrl: ha.url` (the page's link then points at the stand-in), and
//   const haBackup = await runHaBackupDemo({ work, git, configRoot, ha, deliverPush, finished, step });
// whose `ok` joins the demo's and whose `result` joins its DEMO RESULT line.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HomeAssistantStandIn } from '../test/support/home-assistant-standin.ts';
import type { DemoDeployment } from './ui-edit-loop.ts';

export interface HaBackupDemoContext {
  /** The demo's clone of the configuration repository (its `origin` is the bare repository). */
  work: string;
  git: (cwd: string, ...args: string[]) => Promise<string>;
  /** The config folder on the demo's host. */
  configRoot: string;
  ha: HomeAssistantStandIn;
  /** Sends GitHub's signed push webhook for a commit already on main; the deployment id. */
  deliverPush: (sha: string, message: string) => Promise<string>;
  finished: (id: string) => Promise<DemoDeployment>;
  step: (text: string) => void;
}

export interface HaBackupDemoResult {
  ok: boolean;
  /** The line the demo ends its result with. */
  result: string;
}

export async function runHaBackupDemo(ctx: HaBackupDemoContext): Promise<HaBackupDemoResult> {
  const baseConfig = await readFile(join(ctx.work, 'configuration.yaml'), 'utf8');
  const pushRecorder = async (days: number, message: string): Promise<DemoDeployment> => {
    await writeFile(join(ctx.work, 'configuration.yaml'), `${baseConfig}\nrecorder:\n  purge_keep_days: ${days}\n`);
    await ctx.git(ctx.work, 'commit', '--quiet', '-am', message);
    await ctx.git(ctx.work, 'push', '--quiet', 'origin', 'HEAD:main');
    return ctx.finished(await ctx.deliverPush(await ctx.git(ctx.work, 'rev-parse', 'HEAD'), message));
  };

  ctx.step('Push: a change Home Assistant reads only at start-up; it backs itself up first');
  const taken = await pushRecorder(14, 'Keep two weeks of history');
  const slug = (taken.summary as { homeAssistantBackup?: { slug: string; name: string } } | null)?.homeAssistantBackup;
  console.log(`  → ${taken.status}: Home Assistant backup ${slug ? `${slug.slug} "${slug.name}"` : 'none'}, then Lanyard's ${taken.summary?.backupId}`);
  console.log(`  Home Assistant's Backups page lists: ${ctx.ha.supervisor.backups.map((b) => `${b.slug} "${b.name}"`).join(', ') || 'nothing'}`);

  ctx.step('Push: the same, while Home Assistant cannot make a backup (its disk is full)');
  const before = await readFile(join(ctx.configRoot, 'configuration.yaml'), 'utf8');
  ctx.ha.supervisor.failJob();
  let stopped: DemoDeployment;
  try {
    stopped = await pushRecorder(30, 'Keep a month of history');
  } finally {
    ctx.ha.supervisor.reset();
  }
  const untouched = (await readFile(join(ctx.configRoot, 'configuration.yaml'), 'utf8')) === before;
  console.log(`  → ${stopped.status}: ${stopped.reason}`);
  console.log(`  configuration.yaml on the host is ${untouched ? 'as it was' : 'CHANGED (bug!)'}`);

  const ok = taken.status === 'succeeded' && Boolean(slug) && stopped.status === 'failed' && untouched;
  return { ok, result: `HA backup ${slug ? slug.slug : 'missing'} before a restart, a failed one stopped the deploy ${untouched ? 'with nothing written' : 'AFTER WRITING'}` };
}
