// The workerd processes of one `wrangler dev` and the CPU time they have used, read from /proc.
// wrangler dev runs two: a proxy Worker bound to the port we talk to, and the runtime that runs
// Lanyard's Worker, its Durable Objects and local D1. Found through the process group of the
// wrangler started with our --persist-to folder, so another wrangler dev on the machine (tests
// running alongside) is never counted.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

export interface EdgeProcesses {
  /** workerd running Lanyard's Worker, its Durable Objects and D1. */
  runtime: number;
  /** workerd running wrangler's proxy in front of it (absent from production). */
  proxy: number | null;
}

interface ProcessInfo {
  pid: number;
  pgid: number;
  comm: string;
  args: string;
}

function processes(): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // comm is in parentheses and may contain spaces: the fields after it are fixed.
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
      found.push({ pid: Number(name), pgid: Number(fields[2]), comm: stat.slice(stat.indexOf('(') + 1, close), args });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

export function findEdgeProcesses(persistDir: string, port: number): EdgeProcesses {
  const all = processes();
  const wrangler = all.find((p) => p.args.includes('wrangler') && p.args.includes(` dev `) && p.args.includes(`--persist-to ${persistDir} `));
  if (!wrangler) throw new Error(`no wrangler dev with --persist-to ${persistDir}`);
  const workerds = all.filter((p) => p.pgid === wrangler.pgid && p.comm === 'workerd');
  const proxy = workerds.find((p) => p.args.includes(`entry=127.0.0.1:${port} `)) ?? null;
  const runtime = workerds.find((p) => p !== proxy);
  if (!runtime) throw new Error(`wrangler dev (${wrangler.pid}) runs no workerd besides its proxy`);
  return { runtime: runtime.pid, proxy: proxy?.pid ?? null };
}

/** User plus system CPU time the process has used so far, in milliseconds (clock-tick resolution). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After comm: state(0) ppid(1) ... utime(11) stime(12), in clock ticks.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}
