// A cheap profile of the commands the relay runs on the host, for the benchmarks that run the
// pipeline in their own process: SshHost.run is wrapped (in this process only; the relay's code is
// unchanged) to note each command's first line and how long it took from the call to its result.
// Commands fed a script on stdin (`exec sh -s`) are named by that script's first lines.
import { SshHost } from '../../relay/transport/ssh-host.ts';
import type { RunOptions } from '../../relay/transport/target-host.ts';
import { ms } from './stats.ts';

export interface RemoteCommand {
  label: string;
  /** performance.now() when it was called. */
  at: number;
  ms: number;
  /** Bytes of stdout that came back. */
  out: number;
}

let recording: RemoteCommand[] | null = null;
let installed = false;

function labelOf(script: string, stdin: unknown): string {
  const text = script.trim().startsWith('exec sh -s') && (typeof stdin === 'string' || Buffer.isBuffer(stdin)) ? `sh -s: ${String(stdin).slice(0, 400)}` : script;
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !/^(set -e|cd |export )/.test(l));
  return (lines.join(' ; ') || text).replace(/'[^']{24,}'/g, "'…'").replace(/\s+/g, ' ').slice(0, 90);
}

/** Starts noting every command the relay runs over SSH in this process. */
export function installRemoteProfile(): void {
  if (installed) return;
  installed = true;
  const original = SshHost.prototype.run;
  SshHost.prototype.run = async function profiledRun(this: SshHost, script: string, options: RunOptions = {}) {
    const started = performance.now();
    const result = await original.call(this, script, options);
    recording?.push({ label: labelOf(script, options.stdin), at: started, ms: performance.now() - started, out: result.stdout.length });
    return result;
  };
}

/** The commands run from now until the returned function is called. */
export function recordRemoteCommands(): () => RemoteCommand[] {
  const mine: RemoteCommand[] = [];
  recording = mine;
  return () => {
    if (recording === mine) recording = null;
    return mine;
  };
}

/** The `top` slowest commands, one line each. */
export function slowestCommands(commands: readonly RemoteCommand[], top = 5): string[] {
  return [...commands]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top)
    .map((c) => `${ms(c.ms).padStart(9)}  ${c.out > 0 ? `${(c.out / 1024).toFixed(0)} KiB out  ` : ''}${c.label}`);
}
