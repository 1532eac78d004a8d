// Whether an upload is gzipped on its way to the host, chosen by measuring instead of guessing.
//
// gzip pays only when the link is the slower of the two: the upload takes max(bytes / gzip rate,
// compressed bytes / link rate) gzipped and bytes / link rate plain, so (whatever the ratio) gzip
// wins when the relay compresses faster than the link carries; `auto` asks for twice as fast. On loopback, a gigabit LAN
// or a relay running on the host itself, gzip level 1 of a real config (half of it images, sounds
// and JavaScript bundles that do not shrink) is the bottleneck: 430 MB took 14.6 s of CPU on the
// benchmark machine, 2 s to pack plain (BENCHMARKS.md). On a slow Wi-Fi link or a VPN, gzip saves
// the YAML's bytes for free.
//
// `auto` measures both once: the relay's gzip rate once per process (a fixed mixed sample), the
// link once per SSH connection (incompressible bytes into `cat > /dev/null`). Small uploads (a one-file change) are gzipped without measuring: a probe would
// cost more than any choice could save.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { TargetHost } from '../transport/target-host.ts';

export const UPLOAD_COMPRESSIONS = ['auto', 'gzip', 'none'] as const;
export type UploadCompression = (typeof UPLOAD_COMPRESSIONS)[number];

/** gzip level 1: YAML already shrinks several-fold at level 1; higher levels cost seconds for a few per cent. */
export const UPLOAD_GZIP_LEVEL = 1;
/** Uploads below this are gzipped without measuring anything. */
export const MEASURE_ABOVE_BYTES = 4 * 1024 * 1024;
const PROBE_BYTES = 1024 * 1024;
const LARGE_PROBE_BYTES = 9 * 1024 * 1024;
/** 1 MiB in more than this is below 10 MB/s: slower than gzip anywhere, no second probe needed. */
const QUICK_PROBE_SECONDS = 0.1;

export interface CompressionChoice {
  gzip: boolean;
  /** One clause for the step's summary and the log: what was chosen and why. */
  why: string;
}

/** Bytes per second; what a measurement found (kept so one connection is probed once). */
export interface LinkRates {
  linkBytesPerSecond: number;
  gzipBytesPerSecond: number;
}

const MB = 1_000_000;
const rate = (bytesPerSecond: number) => `${(bytesPerSecond / MB).toFixed(bytesPerSecond < 10 * MB ? 1 : 0)} MB/s`;

let gzipRate: number | null = null;

/** The relay's own gzip rate on a config-like mix (half text, half incompressible), measured once. */
export function measureGzipRate(): number {
  if (gzipRate !== null) return gzipRate;
  const text = Buffer.from('- alias: "Hall light on motion"\n  triggers:\n    - trigger: state\n      entity_id: binary_sensor.hall_motion\n      to: "on"\n  actions:\n    - action: light.turn_on\n      target: { entity_id: light.hall }\n'.repeat(2400)).subarray(0, 512 * 1024);
  const sample = Buffer.concat([text, randomBytes(512 * 1024)]);
  gzipSync(sample.subarray(0, 64 * 1024), { level: UPLOAD_GZIP_LEVEL });
  const started = process.hrtime.bigint();
  gzipSync(sample, { level: UPLOAD_GZIP_LEVEL });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  gzipRate = sample.length / Math.max(seconds, 1e-6);
  return gzipRate;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/**
 * The link's rate to the host, from incompressible bytes sent into `cat > /dev/null`: 1 MiB, and
 * when that was quick (a fast link, where the start of a command weighs as much as the bytes), 8 MiB
 * more, the rate then taken from the difference so that what both runs pay alike cancels out.
 */
export async function measureLinkRate(host: TargetHost): Promise<number> {
  const send = async (bytes: number) => {
    const payload = randomBytes(bytes);
    return timed(async () => {
      const result = await host.run('cat > /dev/null', { stdin: payload });
      if (result.code !== 0) throw new Error(`measuring the link to ${host.description} failed: ${result.stderr.trim()}`);
    });
  };
  const small = await send(PROBE_BYTES);
  if (small > QUICK_PROBE_SECONDS) return PROBE_BYTES / small;
  const large = await send(LARGE_PROBE_BYTES);
  return (LARGE_PROBE_BYTES - PROBE_BYTES) / Math.max(large - small, 1e-4);
}

const probed = new WeakMap<TargetHost, Promise<number>>();

/**
 * Decides for one upload of about `bytes` bytes. A probe that fails (a host without `cat`?)
 * falls back to gzip, which works everywhere and was the only way before.
 */
export async function chooseUploadCompression(setting: UploadCompression, host: TargetHost, bytes: number): Promise<CompressionChoice> {
  if (setting === 'gzip') return { gzip: true, why: 'gzip (deploy.uploadCompression: gzip)' };
  if (setting === 'none') return { gzip: false, why: 'uncompressed (deploy.uploadCompression: none)' };
  if (bytes < MEASURE_ABOVE_BYTES) return { gzip: true, why: 'gzip (a small upload)' };
  let measuring = probed.get(host);
  if (!measuring) {
    measuring = measureLinkRate(host);
    probed.set(host, measuring);
  }
  const link = await measuring.catch(() => null);
  if (link === null) return { gzip: true, why: 'gzip (the link could not be measured)' };
  return decideCompression({ linkBytesPerSecond: link, gzipBytesPerSecond: measureGzipRate() });
}

/**
 * gzip when the relay compresses at least twice as fast as the link carries. Faster than the link
 * alone would already win on paper, but the measurements are rough (the gzip sample is kinder than
 * a house of images and bundles: 60 MB/s against 29 on the real tree), and gzip also costs the CPU
 * of a box shared with Home Assistant and the host's to unpack; on loopback the two measured close
 * enough that a busy moment picked gzip and doubled a first deploy (BENCHMARKS.md).
 */
export function decideCompression(rates: LinkRates): CompressionChoice {
  const { linkBytesPerSecond: link, gzipBytesPerSecond: gzip } = rates;
  return link * 2 < gzip
    ? { gzip: true, why: `gzip (the relay gzips at ${rate(gzip)}, over twice the link's ${rate(link)})` }
    : { gzip: false, why: `uncompressed (the link carries ${rate(link)}; gzip, at ${rate(gzip)}, is not twice as fast)` };
}
