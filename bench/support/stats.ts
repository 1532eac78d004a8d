// The few statistics every benchmark reports. Each benchmark measures its own baseline in the same
// run and prints the ratio, so a busy or slow machine shifts both sides alike.

export function percentile(values: readonly number[], p: number): number {
  if (!values.length) throw new Error('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** How long `work` takes, in milliseconds. */
export async function time(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** `ours / baseline`, to two places: below 1 is faster than the baseline. */
export function ratio(ours: number, baseline: number): string {
  return `${(ours / baseline).toFixed(2)}x`;
}

export function ms(value: number): string {
  return value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`;
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Whether a goal held, for the summary line each benchmark ends with. */
export function verdict(held: boolean): string {
  return held ? 'goal met' : 'GOAL MISSED';
}
