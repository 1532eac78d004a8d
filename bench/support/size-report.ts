// How the deploy benchmarks print a figure measured on both sizes: each size's value, and the
// scaling between them (large over medium), which says whether a cost grows with the tree.
import type { BenchSizeName } from './bench-sizes.ts';
import { ms } from './stats.ts';

export type PerSize<T> = Partial<Record<BenchSizeName, T>>;

/** "medium 512 ms, large 1,480 ms, large/medium 2.89x" (only the sizes that ran). */
export function scalingLine(label: string, values: PerSize<number>, format: (value: number) => string = ms): string {
  const parts = (['medium', 'large'] as const).filter((name) => values[name] !== undefined).map((name) => `${name} ${format(values[name]!)}`);
  const scaling = values.medium !== undefined && values.large !== undefined && values.medium > 0 ? `; large/medium ${(values.large / values.medium).toFixed(2)}x` : '';
  return `  ${label.padEnd(46)} ${parts.join(', ')}${scaling}`;
}

/** The median of each step over some jobs, as "fetch 35 ms, plan 220 ms, …", skipping steps none ran. */
export function stepMedians(jobs: readonly { durations: Record<string, number> }[], steps: readonly string[], median: (values: number[]) => number): string {
  return steps
    .filter((s) => jobs.some((j) => j.durations[s] !== undefined))
    .map((s) => `${s} ${ms(median(jobs.map((j) => j.durations[s] ?? 0)))}`)
    .join(', ');
}
