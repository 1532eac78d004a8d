// The demo's freeze step (issue 18): the house is frozen for the holidays; a push made meanwhile is
// recorded and queued but nothing is deployed; the house's own sensor says frozen, by whom and why;
// unfreezing deploys the queued commit. Takes the same helpers as the UI edit loop (ui-edit-loop.ts).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { UiEditLoopContext, UiEditLoopResult } from './ui-edit-loop.ts';

export type FreezeDemoContext = Pick<UiEditLoopContext, 'work' | 'git' | 'homeAssistant' | 'api' | 'deliverPush' | 'finished' | 'waitUntil' | 'step'>;

const REASON = 'Family visiting for the holidays';
const SENSOR = 'sensor.lanyard_home';

interface Freeze {
  by: string;
  reason: string;
  at: number;
  until: number | null;
}

/** The sensor's attributes as Home Assistant has them (`GET /api/states/<entity>`), or null. */
async function sensorAttributes(ha: UiEditLoopContext['homeAssistant']): Promise<Record<string, unknown> | null> {
  const response = await fetch(`${ha.url}/api/states/${SENSOR}`, { headers: { Authorization: `Bearer ${ha.token}` } });
  if (!response.ok) return null;
  return ((await response.json()) as { attributes?: Record<string, unknown> }).attributes ?? null;
}

export async function runFreezeDemo(ctx: FreezeDemoContext): Promise<UiEditLoopResult> {
  const { work, git, api } = ctx;

  ctx.step('Freeze home for the holidays (POST /api/deployments/home/freeze)');
  const until = new Date(Date.now() + 3 * 86_400_000).toISOString();
  const frozen = await api('/deployments/home/freeze', { method: 'POST', body: { reason: REASON, until } });
  if (frozen.status !== 200) throw new Error(`the edge refused the freeze: HTTP ${frozen.status} ${JSON.stringify(frozen.body)}`);
  const freeze = frozen.body.freeze as Freeze;
  console.log(`  frozen until ${new Date(freeze.until!).toISOString()} by ${freeze.by} because ${freeze.reason}`);
  let attributes: Record<string, unknown> | null = null;
  await ctx.waitUntil('the house\'s sensor to say frozen', async () => {
    attributes = await sensorAttributes(ctx.homeAssistant);
    return attributes?.frozen === true;
  }, 30_000);
  const a = attributes as Record<string, unknown> | null;
  console.log(`  ${SENSOR}: frozen=${String(a?.frozen)} frozen_until=${String(a?.frozen_until)} frozen_by=${String(a?.frozen_by)} frozen_reason="${String(a?.frozen_reason)}"`);

  ctx.step('Push while frozen: recorded and queued, nothing dispatched');
  const scripts = `${(await git(work, 'show', 'HEAD:scripts.yaml')).trimEnd()}\nholiday_lights:\n  alias: Holiday lights\n  sequence: []\n`;
  await writeFile(join(work, 'scripts.yaml'), scripts);
  await git(work, 'commit', '--quiet', '-am', 'Holiday lights script');
  await git(work, 'push', '--quiet', 'origin', 'HEAD:main');
  const heldId = await ctx.deliverPush(await git(work, 'rev-parse', 'HEAD'), 'Holiday lights script');
  const status = (await api('/deployments/home/status')).body as { current: { id: string } | null; queued: { id: string; status: string }[] };
  const held = status.queued.find((d) => d.id === heldId);
  console.log(`  ${heldId}: ${held ? 'queued' : 'NOT QUEUED (bug!)'}; running now: ${status.current ? status.current.id : 'nothing'}`);

  ctx.step('Unfreeze (POST /api/deployments/home/unfreeze): the newest queued deployment goes');
  const lifted = await api('/deployments/home/unfreeze', { method: 'POST', body: {} });
  if (lifted.status !== 200) throw new Error(`the edge refused to unfreeze: HTTP ${lifted.status} ${JSON.stringify(lifted.body)}`);
  console.log(`  dispatched: ${String(lifted.body.dispatched)}`);
  const deployed = await ctx.finished(heldId);
  console.log(`  → ${deployed.status}: files changed: ${deployed.summary?.filesChanged?.join(', ') || 'none'}`);
  await ctx.waitUntil('the house\'s sensor to say not frozen', async () => (await sensorAttributes(ctx.homeAssistant))?.frozen === false, 30_000).catch(() => undefined);
  const after = await sensorAttributes(ctx.homeAssistant);
  console.log(`  ${SENSOR}: frozen=${String(after?.frozen)}`);

  const ok = Boolean(held) && !status.current && lifted.body.dispatched === heldId && deployed.status === 'succeeded' && after?.frozen === false;
  return { ok, result: `freeze held ${held ? 'the push' : 'nothing'}, unfreeze deployed it ${deployed.status}` };
}
