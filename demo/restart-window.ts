// A demo step (issue 18): a restart held for the restart window. The demo's target is given a window
// that is shut now (`shutRestartWindow`), so a configuration.yaml change — one Home Assistant must
// restart for — is planned, written, checked by Home Assistant and put back at once, and waits as
// `waiting_for_window` with the reason; "restart now" (the operator's API call) then deploys it.
// Reload-only changes (the demo's other pushes) are not held.
//
// Wiring (demo/run-demo.ts): in the edge's TARGETS entry add
//   restartWindows: [shutRestartWindow(DEMO_TIME_ZONE)], timeZone: DEMO_TIME_ZONE
// and after the UI edit loop (main deploys cleanly again):
//   const held = await runRestartWindowStep({ work, configRoot, push, api: call, waitUntil, step });
// then add `held.ok` to `ok` and `held.result` to the DEMO RESULT line.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const DEMO_TIME_ZONE = 'Europe/Amsterdam';

/** A one-hour window that opens six hours from now on the clock of `timeZone`: shut while the demo runs. */
export function shutRestartWindow(timeZone: string, now: number = Date.now()): string {
  const hhmm = (at: number) => {
    const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
    return `${parts.find((p) => p.type === 'hour')!.value}:${parts.find((p) => p.type === 'minute')!.value}`;
  };
  return `${hhmm(now + 6 * 3_600_000)}-${hhmm(now + 7 * 3_600_000)}`;
}

interface HeldDeployment {
  id: string;
  status: string;
  reason: string | null;
  summary: { activation?: string; restartHeld?: boolean } | null;
}

export interface RestartWindowStepContext {
  /** The demo's clone of the configuration repository. */
  work: string;
  /** The host's configuration folder. */
  configRoot: string;
  /** Writes the files, commits, pushes to main and sends the signed push; the deployment id. */
  push: (files: Record<string, string>, message: string) => Promise<string>;
  /** GET or POST on the edge's API as the demo's operator. */
  api: (path: string, init?: { method: 'POST'; body: unknown }) => Promise<{ status: number; body: Record<string, unknown> }>;
  waitUntil: (what: string, probe: () => Promise<boolean>, timeoutMs: number) => Promise<void>;
  step: (text: string) => void;
}

export interface RestartWindowStepResult {
  ok: boolean;
  /** The words the demo ends its result line with. */
  result: string;
}

/** Runs the step: a restart-class push waits for the window, and "restart now" deploys it. */
export async function runRestartWindowStep(context: RestartWindowStepContext): Promise<RestartWindowStepResult> {
  const { api, waitUntil, step } = context;
  const settled = async (id: string, statuses: string[]): Promise<HeldDeployment> => {
    let view: HeldDeployment | null = null;
    await waitUntil(`deployment ${id} to be ${statuses.join(' or ')}`, async () => {
      view = ((await api(`/deployments/home/logs?deploymentId=${id}`)).body.deployment ?? null) as HeldDeployment | null;
      return view !== null && statuses.includes(view.status);
    }, 180_000);
    return view!;
  };

  const window = (await api('/deployments/home/status')).body.restartWindow as { windows: string[]; timeZone: string; nextOpeningLocal: string | null } | null;
  step(`Push: a configuration.yaml change that needs a restart, with the restart window ${window ? `${window.windows.join(', ')} ${window.timeZone} shut (opens ${window.nextOpeningLocal})` : '(none configured!)'}`);
  const before = await readFile(join(context.configRoot, 'configuration.yaml'), 'utf8');
  const config = `${await readFile(join(context.work, 'configuration.yaml'), 'utf8')}\nrecorder:\n  purge_keep_days: 5\n`;
  const id = await context.push({ 'configuration.yaml': config }, 'Keep five days of history');
  const held = await settled(id, ['waiting_for_window', 'succeeded', 'failed', 'rolled_back']);
  const untouched = (await readFile(join(context.configRoot, 'configuration.yaml'), 'utf8')) === before;
  console.log(`  → ${held.status}: ${held.reason}`);
  console.log(`  configuration.yaml on the host is ${untouched ? 'as it was (checked, then put back)' : 'CHANGED (bug!)'}`);

  step('Restart now: the operator lets it restart outside the window');
  const asked = await api('/deployments/home/restart-now', { method: 'POST', body: { deploymentId: id } });
  console.log(`  POST /api/deployments/home/restart-now → HTTP ${asked.status}`);
  const done = await settled(id, ['succeeded', 'failed', 'rolled_back']);
  const landed = (await readFile(join(context.configRoot, 'configuration.yaml'), 'utf8')) === config;
  console.log(`  → ${done.status} (${done.summary?.activation ?? 'no activation'}); configuration.yaml on the host is ${landed ? 'the new one' : 'NOT the new one (bug!)'}`);

  const ok = held.status === 'waiting_for_window' && untouched && asked.status === 202 && done.status === 'succeeded' && landed;
  return { ok, result: `restart held ${held.status}, restart now ${done.status}` };
}
