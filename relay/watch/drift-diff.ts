// The diff a drift report carries for one file: a unified diff from the deployed version to the
// host's, for text only. Made with jsdiff (`diff` on npm, pinned in package-lock.json): maintained,
// no dependencies, bundled into dist/relay.mjs by esbuild, and its Myers implementation takes an
// edit-length ceiling, so a rewritten 10,000-line file costs a bounded time on a Pi instead of a
// quadratic one. A file with a NUL byte or bytes that are not UTF-8 is binary: no diff, a note.
import { createTwoFilesPatch } from 'diff';
import { MAX_DRIFT_DIFF_CHARS, type DriftChange } from '../../shared/drift.ts';

/** Files larger than this (either side) are not read for a diff: a report is a glance, not a copy. */
export const MAX_DIFFED_FILE_BYTES = 512 * 1024;
/** Beyond this many changed lines the diff is given up (and says so) rather than computed. */
export const MAX_DIFF_EDIT_LENGTH = 4000;

export interface FileDiff {
  diff: string | null;
  diffNote: string | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Text as the diff reads it, or null for binary content (a NUL byte, or not valid UTF-8). */
export function textOf(bytes: Buffer): string | null {
  if (bytes.includes(0)) return null;
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** `text` cut to at most `max` characters at a line end (never mid-line, unless one line is longer). */
export function cutAtLine(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = text.lastIndexOf('\n', max - 1);
  return end > 0 ? text.slice(0, end + 1) : text.slice(0, max);
}

function kib(chars: number): string {
  return `${Math.round(chars / 1024)} KiB`;
}

/**
 * The diff of one drifted file: `deployed` is the deployed version's bytes (null for an added file),
 * `host` the host's (null for a deleted one).
 */
export function fileDiff(path: string, change: DriftChange, deployed: Buffer | null, host: Buffer | null): FileDiff {
  if (change === 'deleted' || host === null) return { diff: null, diffNote: 'deleted on the host' };
  const before = deployed === null ? '' : textOf(deployed);
  const after = textOf(host);
  if (before === null || after === null) return { diff: null, diffNote: 'binary file: not diffed' };
  const patch = createTwoFilesPatch(`a/${path}`, `b/${path}`, before, after, undefined, undefined, {
    context: 3,
    maxEditLength: MAX_DIFF_EDIT_LENGTH,
    headerOptions: { includeIndex: false, includeUnderline: false, includeFileHeaders: true },
  });
  if (patch === undefined) return { diff: null, diffNote: `more than ${MAX_DIFF_EDIT_LENGTH} lines changed: not diffed` };
  if (patch.length <= MAX_DRIFT_DIFF_CHARS) return { diff: patch, diffNote: null };
  return { diff: cutAtLine(patch, MAX_DRIFT_DIFF_CHARS), diffNote: `diff cut at ${kib(MAX_DRIFT_DIFF_CHARS)} of ${kib(patch.length)}` };
}
