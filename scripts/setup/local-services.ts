// With --local, setup leaves the edge (`wrangler dev`) and the relay running after it exits, as a
// deploy and a systemd service would in production. Each is recorded in a pid file with a digest of
// what it was started with: a second run with the same settings finds it running and leaves it;
// changed settings (or --update) restart it. `npm run setup -- --local --stop` stops both: setup
// only ever stops the process groups it started, by the pid it recorded.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SetupActions } from './actions.ts';

interface PidRecord {
  pid: number;
  digest: string;
}

export function pidFile(stateDir: string, name: string): string {
  return join(stateDir, `${name}.pid.json`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function runningService(stateDir: string, name: string): Promise<PidRecord | null> {
  const text = await readFile(pidFile(stateDir, name), 'utf8').catch(() => null);
  if (!text) return null;
  const record = JSON.parse(text) as PidRecord;
  return alive(record.pid) ? record : null;
}

/** Stops a service setup started (its whole process group), and forgets it. */
export async function stopService(actions: SetupActions, stateDir: string, name: string): Promise<void> {
  const running = await runningService(stateDir, name);
  if (running) {
    if (actions.dryRun) {
      actions.say(`would stop ${name} (pid ${running.pid})`);
      return;
    }
    actions.say(`  stopping ${name} (pid ${running.pid})`);
    try {
      process.kill(-running.pid, 'SIGTERM');
    } catch {
      process.kill(running.pid, 'SIGTERM');
    }
    for (let i = 0; i < 100 && alive(running.pid); i += 1) await new Promise((r) => setTimeout(r, 100));
    if (alive(running.pid)) process.kill(-running.pid, 'SIGKILL');
  }
  if (!actions.dryRun) await rm(pidFile(stateDir, name), { force: true });
}

/**
 * Leaves the service running when it runs with this digest; otherwise (re)starts it. Resolves true
 * when it started it now.
 */
export async function ensureService(
  actions: SetupActions,
  stateDir: string,
  name: string,
  digest: string,
  restart: boolean,
  start: () => Promise<number>,
): Promise<boolean> {
  const running = await runningService(stateDir, name);
  if (running && running.digest === digest && !restart) {
    actions.say(`  ${name} already running (pid ${running.pid}), with these settings`);
    return false;
  }
  await stopService(actions, stateDir, name);
  const pid = await start();
  if (!actions.dryRun) await actions.writeFile(pidFile(stateDir, name), `${JSON.stringify({ pid, digest })}\n`, 0o600);
  return true;
}
