// The drift report a look sends the edge: diffs of text files from the deployed version to the
// host's, binary files named without one, every diff and the whole report within their ceilings,
// `since` as first seen, and a file read again only when its content changed.
import { describe, expect, it } from 'vitest';
import { MAX_DRIFT_DIFF_CHARS, MAX_DRIFT_DIFFS_CHARS, MAX_DRIFT_FILES, DriftReportMessage } from '../../shared/drift.ts';
import { MAX_RELAY_FRAME_BYTES } from '../../shared/protocol.ts';
import type { DriftFinding } from '../../relay/watch/drift-comparison.ts';
import { cutAtLine, fileDiff, textOf } from '../../relay/watch/drift-diff.ts';
import { buildDriftReport, DiffCache, type DiffSource } from '../../relay/watch/drift-report.ts';
import { FirstSeen } from '../../relay/watch/first-seen.ts';
import { file } from '../support/file-entries.ts';

const SHA = 'c'.repeat(40);

function finding(path: string, change: DriftFinding['change'], deployed: string | null, host: string | null): DriftFinding {
  return {
    path,
    change,
    deployed: deployed === null ? null : file(path, deployed),
    live: host === null ? null : { ...file(path, host), sha256: file(path, host).sha256 },
  };
}

function source(deployed: Record<string, string | Buffer>, host: Record<string, string | Buffer>): DiffSource & { hostReads: string[] } {
  const hostReads: string[] = [];
  return {
    hostReads,
    deployed: async (p) => (p in deployed ? Buffer.from(deployed[p]!) : null),
    host: async (p) => {
      hostReads.push(p);
      return p in host ? Buffer.from(host[p]!) : null;
    },
  };
}

describe('drift diffs', () => {
  it('a unified diff from the deployed version to the host’s', () => {
    const diff = fileDiff('automations.yaml', 'modified', Buffer.from('- id: porch\n  alias: Porch\n'), Buffer.from('- id: porch\n  alias: Porch light\n'));
    expect(diff.diffNote).toBeNull();
    expect(diff.diff).toBe('--- a/automations.yaml\n+++ b/automations.yaml\n@@ -1,2 +1,2 @@\n - id: porch\n-  alias: Porch\n+  alias: Porch light\n');
  });

  it('an added file is all additions; a deleted one has no diff', () => {
    expect(fileDiff('packages/pool.yaml', 'added', null, Buffer.from('pump: {}\n')).diff).toContain('+pump: {}');
    expect(fileDiff('scenes.yaml', 'deleted', Buffer.from('x'), null)).toEqual({ diff: null, diffNote: 'deleted on the host' });
  });

  it('binary on either side (a NUL byte, or bytes that are not UTF-8) has no diff and says why', () => {
    expect(textOf(Buffer.from([0x61, 0x00, 0x62]))).toBeNull();
    expect(textOf(Buffer.from([0xff, 0xfe, 0x41]))).toBeNull();
    expect(textOf(Buffer.from('héllo ✓'))).toBe('héllo ✓');
    expect(fileDiff('www/logo.png', 'modified', Buffer.from('text\n'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00]))).toEqual({ diff: null, diffNote: 'binary file: not diffed' });
    expect(fileDiff('www/x.bin', 'modified', Buffer.from([0xc3, 0x28]), Buffer.from('text\n')).diff).toBeNull();
  });

  it('a diff longer than MAX_DRIFT_DIFF_CHARS is cut at a line end and says so', () => {
    const long = Array.from({ length: 3000 }, (_, i) => `line ${i} of a long rewrite`).join('\n');
    const diff = fileDiff('big.yaml', 'added', null, Buffer.from(long));
    expect(diff.diff!.length).toBeLessThanOrEqual(MAX_DRIFT_DIFF_CHARS);
    expect(diff.diff!.endsWith('\n')).toBe(true);
    expect(diff.diffNote).toMatch(/^diff cut at 16 KiB of \d+ KiB$/);
    expect(cutAtLine('ab\ncd\nef', 7)).toBe('ab\ncd\n');
  });
});

describe('drift report', () => {
  it('names each file with its change, since and diff; binary and deleted ones without a diff', async () => {
    const findings = [
      finding('automations.yaml', 'modified', '- id: a\n', '- id: a\n- id: b\n'),
      finding('packages/pool.yaml', 'added', null, 'pump: {}\n'),
      finding('scenes.yaml', 'deleted', '[]\n', null),
      finding('www/logo.png', 'modified', 'PNG', 'PNG\u0000'),
    ];
    const src = source({ 'automations.yaml': '- id: a\n', 'scenes.yaml': '[]\n', 'www/logo.png': 'PNG' }, { 'automations.yaml': '- id: a\n- id: b\n', 'packages/pool.yaml': 'pump: {}\n', 'www/logo.png': 'PNG\u0000' });
    const since = new Map([['automations.yaml', 1000]]);
    const report = await buildDriftReport({ at: 5000, deployedSha: SHA, findings, since, source: src, diffs: new DiffCache() });
    expect(DriftReportMessage.safeParse(report).success).toBe(true);
    expect(report).toMatchObject({ type: 'drift', at: 5000, deployedSha: SHA, total: 4 });
    expect(report.files.map((f) => [f.path, f.change, f.since, f.diff === null, f.diffNote])).toEqual([
      ['automations.yaml', 'modified', 1000, false, null],
      ['packages/pool.yaml', 'added', 5000, false, null],
      ['scenes.yaml', 'deleted', 5000, true, 'deleted on the host'],
      ['www/logo.png', 'modified', 5000, true, 'binary file: not diffed'],
    ]);
    expect(report.files[0]!.diff).toContain('+- id: b');
    // The deleted file is never read from the host.
    expect(src.hostReads.sort()).toEqual(['automations.yaml', 'packages/pool.yaml', 'www/logo.png']);
  });

  it('reads a drifted file again only when its content changed since the last look', async () => {
    const diffs = new DiffCache();
    const src = source({ 'a.yaml': 'one\n' }, { 'a.yaml': 'two\n' });
    const first = [finding('a.yaml', 'modified', 'one\n', 'two\n')];
    await buildDriftReport({ at: 1, deployedSha: SHA, findings: first, since: new Map(), source: src, diffs });
    await buildDriftReport({ at: 2, deployedSha: SHA, findings: first, since: new Map(), source: src, diffs });
    expect(src.hostReads).toEqual(['a.yaml']);
    await buildDriftReport({ at: 3, deployedSha: SHA, findings: [finding('a.yaml', 'modified', 'one\n', 'three\n')], since: new Map(), source: src, diffs });
    expect(src.hostReads).toEqual(['a.yaml', 'a.yaml']);
  });

  it('all diffs together stay within MAX_DRIFT_DIFFS_CHARS, files within MAX_DRIFT_FILES, the frame within the hub’s limit', async () => {
    const body = Array.from({ length: 400 }, (_, i) => `sensor_${i}: value that was changed on the host`).join('\n');
    const findings = Array.from({ length: MAX_DRIFT_FILES + 40 }, (_, i) => finding(`packages/p${String(i).padStart(4, '0')}.yaml`, 'added', null, body));
    const host = Object.fromEntries(findings.map((f) => [f.path, body]));
    const src = source({}, host);
    const report = await buildDriftReport({ at: 1, deployedSha: SHA, findings, since: new Map(), source: src, diffs: new DiffCache() });
    expect(report.total).toBe(MAX_DRIFT_FILES + 40);
    expect(report.files).toHaveLength(MAX_DRIFT_FILES);
    const chars = report.files.reduce((sum, f) => sum + (f.diff?.length ?? 0), 0);
    expect(chars).toBeLessThanOrEqual(MAX_DRIFT_DIFFS_CHARS);
    expect(report.files.at(-1)!.diffNote).toMatch(/^left out: this report's diffs reached 256 KiB$/);
    expect(Buffer.byteLength(JSON.stringify(report))).toBeLessThan(MAX_RELAY_FRAME_BYTES);
    // Once the budget is spent, the rest are not even read.
    expect(src.hostReads.length).toBeLessThan(60);
  });

  it('since: kept while a file differs, forgotten once it matches again', () => {
    const seen = new FirstSeen();
    expect([...seen.update(['a', 'b'], 10)]).toEqual([['a', 10], ['b', 10]]);
    expect([...seen.update(['a', 'b', 'c'], 20)]).toEqual([['a', 10], ['b', 10], ['c', 20]]);
    expect([...seen.update(['c'], 30)]).toEqual([['c', 20]]);
    expect([...seen.update(['a', 'c'], 40)]).toEqual([['a', 40], ['c', 20]]);
  });
});

describe('drift report frame', () => {
  it('long names and diffs together never make a frame the hub would refuse', async () => {
    const body = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(60)}`).join('\n');
    const deep = (i: number) => `packages/${'very-long-folder-name-'.repeat(150)}/${String(i).padStart(4, '0')}.yaml`;
    const findings = Array.from({ length: MAX_DRIFT_FILES }, (_, i) => finding(deep(i), 'added', null, body));
    const src = source({}, Object.fromEntries(findings.map((f) => [f.path, body])));
    const report = await buildDriftReport({ at: 1, deployedSha: SHA, findings, since: new Map(), source: src, diffs: new DiffCache() });
    expect(DriftReportMessage.safeParse(report).success).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(report))).toBeLessThan(MAX_RELAY_FRAME_BYTES);
    expect(report.total).toBe(MAX_DRIFT_FILES);
    expect(report.files.length).toBeLessThan(MAX_DRIFT_FILES);
    expect(report.files.map((f) => f.path)).toEqual(findings.slice(0, report.files.length).map((f) => f.path));
  });
});
