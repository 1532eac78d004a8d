// The deterministic randomness of the real-house tree: a small seeded generator for choices
// (names, counts, sizes, words) and a fast source of incompressible bytes for images, models and
// gzip files. Same seed, same numbers and bytes, on every run and every machine: only integer
// arithmetic and AES in counter mode, no Math.random, no Math.log/exp (their last bits may differ
// between V8 versions, and a size off by one changes a tree's hash).
import { createCipheriv, createHash } from 'node:crypto';

/** 32 bytes that stand for `parts`: the root of every generator and byte stream below. */
export function digest(...parts: readonly (string | number)[]): Buffer {
  return createHash('sha256').update(parts.join('\u0000')).digest();
}

/** xoshiro128**: fast, good enough for layout choices and filler text, seeded from a digest. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(...seed: readonly (string | number)[]) {
    const bytes = digest(...seed);
    this.a = bytes.readUInt32LE(0);
    this.b = bytes.readUInt32LE(4);
    this.c = bytes.readUInt32LE(8);
    this.d = bytes.readUInt32LE(12) | 1;
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.below(max - min + 1);
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.below(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** True with probability `percent` / 100. */
  chance(percent: number): boolean {
    return this.below(100) < percent;
  }

  /**
   * A size around `median`, drawn from a heavy-tailed table (roughly log-normal, sigma ~1): half
   * the files below the median, 14% above 3.5x and 6% above 9x, as real folders are; the mean is
   * about 2.4x the median.
   */
  around(median: number): number {
    const factor = LOG_NORMAL_STEPS[this.below(LOG_NORMAL_STEPS.length)] ?? 1;
    return Math.max(1, Math.round(median * factor));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

// 100 quantiles of a log-normal distribution (median 1, sigma 1), written out so no platform's
// Math.exp is involved; the top few are stretched for the odd huge file real folders hold.
const LOG_NORMAL_STEPS: readonly number[] = [
  0.1, 0.13, 0.15, 0.17, 0.19, 0.2, 0.22, 0.23, 0.26, 0.28, 0.29, 0.31, 0.32, 0.33, 0.35, 0.36, 0.38, 0.39, 0.4, 0.42,
  0.43, 0.45, 0.46, 0.47, 0.49, 0.5, 0.52, 0.53, 0.55, 0.56, 0.58, 0.59, 0.61, 0.63, 0.64, 0.66, 0.68, 0.7, 0.72, 0.74,
  0.76, 0.78, 0.8, 0.82, 0.84, 0.86, 0.88, 0.91, 0.93, 0.95, 1, 1.03, 1.05, 1.08, 1.11, 1.14, 1.17, 1.2, 1.24, 1.27,
  1.3, 1.34, 1.38, 1.42, 1.46, 1.5, 1.55, 1.6, 1.65, 1.7, 1.76, 1.82, 1.88, 1.95, 2.02, 2.1, 2.18, 2.27, 2.37, 2.48,
  2.6, 2.73, 2.87, 3.03, 3.21, 3.42, 3.66, 3.94, 4.27, 4.67, 5.16, 5.79, 6.62, 7.75, 9.39, 11.9, 16.4, 20, 24, 28,
];

const ZEROES = Buffer.alloc(1 << 20);

/**
 * `length` bytes that no compressor can shrink, the same for the same seed: AES-128 in counter
 * mode over zeroes, keyed by the seed's digest (a few GB/s, against ~50 MB/s for hashing 32-byte
 * blocks one at a time).
 */
export function incompressibleBytes(length: number, ...seed: readonly (string | number)[]): Buffer {
  const key = digest('incompressible', ...seed);
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  const out = Buffer.allocUnsafe(length);
  for (let offset = 0; offset < length; offset += ZEROES.length) {
    const chunk = cipher.update(ZEROES.subarray(0, Math.min(ZEROES.length, length - offset)));
    chunk.copy(out, offset);
  }
  return out;
}
