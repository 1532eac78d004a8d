// Lanyard's release version (package.json's), which the edge states in `welcome` and the relay in
// `hello` (relay/version.ts), and how two of them compare: the status page warns when the relay
// and the edge are of different releases, naming the one to update.

export const LANYARD_VERSION = '0.1.0';

/** Negative when `a` is older than `b`, positive when newer, 0 when the same (numeric parts; a missing part is 0). */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split(/[.+-]/).map((p) => (/^\d+$/.test(p) ? Number(p) : 0));
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i += 1) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
