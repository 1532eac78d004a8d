// The resident memory of a process and everything it started (git, gzip, tar…), sampled from
// /proc: every sample reads each process's stat line (its parent and its resident pages), finds
// the descendants of the root pid, and sums their RSS. Summed RSS counts pages the processes share
// (node's and libc's code) once per process: an upper bound of what they hold together.
import { readdir, readFile } from 'node:fs/promises';

const PAGE = 4096;

interface ProcStat {
  pid: number;
  ppid: number;
  rss: number;
  name: string;
}

async function readStat(pid: number): Promise<ProcStat | null> {
  const line = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (!line) return null;
  // The name is in parentheses and may hold spaces; the fields after it are space-separated.
  const close = line.lastIndexOf(')');
  const fields = line.slice(close + 2).split(' ');
  return { pid, ppid: Number(fields[1]), rss: Number(fields[21]) * PAGE, name: line.slice(line.indexOf('(') + 1, close) };
}

/** RssAnon (the process's own pages) from /proc/<pid>/status, and git's subcommand as its name. */
async function detail(p: ProcStat): Promise<ProcStat & { anon: number }> {
  const [status, cmdline] = await Promise.all([readFile(`/proc/${p.pid}/status`, 'utf8').catch(() => ''), p.name === 'git' ? readFile(`/proc/${p.pid}/cmdline`, 'utf8').catch(() => '') : Promise.resolve('')]);
  const anon = Number(/^RssAnon:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
  // The first argument that is neither an option nor the value of -C or -c: the subcommand.
  const args = cmdline.split('\0').slice(1);
  const sub = args.find((arg, i) => arg && !arg.startsWith('-') && args[i - 1] !== '-C' && args[i - 1] !== '-c');
  return { ...p, anon, name: sub && p.name === 'git' ? `git ${sub.split('/').pop()}` : p.name };
}

/** The root and its descendants, as they are now. */
export async function processTree(root: number): Promise<(ProcStat & { anon: number })[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const stats = (await Promise.all(pids.map(readStat))).filter((s): s is ProcStat => s !== null);
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const tree: ProcStat[] = [];
  const rootStat = stats.find((s) => s.pid === root);
  if (!rootStat) return [];
  const queue = [rootStat];
  while (queue.length) {
    const next = queue.shift()!;
    tree.push(next);
    queue.push(...(children.get(next.pid) ?? []));
  }
  return Promise.all(tree.map(detail));
}

export interface TreePeak {
  samples: number;
  /** The largest sum of the tree's RSS, and the processes it was made of. */
  peak: number;
  peakMembers: string;
  /** The root alone: its largest sampled RSS. */
  rootPeak: number;
  /** The largest sum of the tree's anonymous RSS (its own pages, not files it maps, such as git's packs). */
  anonPeak: number;
  /** The median summed RSS. */
  median: number;
  /** The largest RSS any one descendant reached, by command name. */
  childPeaks: Map<string, number>;
}

/** Samples the tree every `everyMs` until stopped. */
export function sampleProcessTree(root: number, everyMs = 25) {
  const sums: number[] = [];
  let peak = 0;
  let peakMembers = '';
  let rootPeak = 0;
  let anonPeak = 0;
  const childPeaks = new Map<string, number>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const tree = await processTree(root);
      if (tree.length) {
        const sum = tree.reduce((total, p) => total + p.rss, 0);
        sums.push(sum);
        rootPeak = Math.max(rootPeak, tree[0]!.rss);
        anonPeak = Math.max(anonPeak, tree.reduce((total, p) => total + p.anon, 0));
        for (const p of tree.slice(1)) childPeaks.set(p.name, Math.max(childPeaks.get(p.name) ?? 0, p.rss));
        if (sum > peak) {
          peak = sum;
          peakMembers = tree.map((p) => `${p.name} ${(p.rss / 1024 / 1024).toFixed(1)} (anon ${(p.anon / 1024 / 1024).toFixed(1)})`).join(' + ');
        }
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop(): Promise<TreePeak> {
      stopped = true;
      await loop;
      const sorted = [...sums].sort((a, b) => a - b);
      return { samples: sums.length, peak, peakMembers, rootPeak, anonPeak, median: sorted[Math.floor(sorted.length / 2)] ?? 0, childPeaks };
    },
  };
}
