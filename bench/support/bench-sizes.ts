// The two sizes of real house the deploy benchmarks run on (issue 15), and the env knobs that pick
// them and their rounds. BENCH_SIZE=medium|large runs one; by default both run, medium first, so
// a run reports the scaling between them (large over medium) for every figure.
import { readFileSync } from 'node:fs';
import { REAL_HOUSE_LARGE, REAL_HOUSE_MEDIUM, type RealHouseSize } from '../../test/support/real-house-tree.ts';

export type BenchSizeName = 'medium' | 'large';

export interface BenchSize extends RealHouseSize {
  name: BenchSizeName;
}

const SIZES: Record<BenchSizeName, RealHouseSize> = { medium: REAL_HOUSE_MEDIUM, large: REAL_HOUSE_LARGE };

/** The sizes to run, from BENCH_SIZE (medium, large, or both: the default). */
export function benchSizes(): BenchSize[] {
  const asked = (process.env.BENCH_SIZE ?? 'both').toLowerCase();
  const names: BenchSizeName[] = asked === 'both' ? ['medium', 'large'] : asked === 'medium' || asked === 'large' ? [asked] : [];
  if (!names.length) throw new Error(`BENCH_SIZE must be medium, large or both, not ${asked}`);
  return names.map((name) => ({ name, ...SIZES[name] }));
}

/** A round count from the environment: `NAME` for both sizes, `NAME_LARGE` / `NAME_MEDIUM` for one. */
export function roundsFor(name: string, size: BenchSize, fallback: number): number {
  const value = process.env[`${name}_${size.name.toUpperCase()}`] ?? process.env[name];
  const rounds = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`${name} must be a whole number of rounds, not ${value}`);
  return rounds;
}

/** "15,000 files / 400.1 MiB". */
export function describeSize(size: BenchSize, bytes: number): string {
  return `${size.name}: ${size.files.toLocaleString('en-US')} entries, ${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** The load average when a figure was taken: other work on the machine moves both sides of a ratio. */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
