// The three-way merge of a Home Assistant YAML file edited on both sides: base = the file as
// Lanyard deployed it, theirs = the host's (the UI's edits), ours = the new commit's. Items are
// matched by name (keyed-items.ts) and judged one by one:
//   changed on one side only          → that side's version (a deletion is a change)
//   changed on both sides identically → that version
//   changed on both sides differently → conflict (added on both with different content, too)
//   deleted on one side, changed on the other → conflict
// The merged file keeps the commit's order, with the items the host added after them in the host's
// order (the host's order when the commit kept the deployed one). A pure function of three texts: never throws, never reads anything; whatever cannot be
// merged safely (a file that is not YAML, items without ids, an unknown tag) is a conflict with a
// reason.
import { emitHaYaml, readHaYaml } from './home-assistant-yaml.ts';
import { keyedItemsOf, type KeyedItems, type KeyedShape } from './keyed-items.ts';
import { conflictExcerpt } from './merge-conflict.ts';
import { sameYamlValue } from './yaml-equality.ts';

export interface MergeConflict {
  /** The item's id (or key); null when the file as a whole cannot be merged. */
  id: string | null;
  reason: string;
  /** The start of the host's version of the item, as Home Assistant would write it; null when it has none. */
  theirs: string | null;
  /** The start of the commit's version of the item. */
  ours: string | null;
}

export type MergeResult =
  | {
      clean: true;
      /** The merged file. The commit's text when the merge equals it, the host's when it equals that. */
      text: string;
      /** Which version the text is: one side's as it was, or newly written. */
      from: 'ours' | 'theirs' | 'merged';
    }
  | { clean: false; conflicts: MergeConflict[] };

export interface MergeInput {
  /** The file as Lanyard deployed it; null when the previous commit had none. */
  base: string | null;
  /** The host's version. */
  theirs: string;
  /** The new commit's version. */
  ours: string;
}

function wholeFile(reason: string): MergeResult {
  return { clean: false, conflicts: [{ id: null, reason, theirs: null, ours: null }] };
}

/** Merges by id (lists) or key (mappings); see the top of this file. Never throws. */
export function mergeHaYaml(input: MergeInput): MergeResult {
  try {
    return mergeTexts(input);
  } catch (error) {
    return wholeFile(`the merge failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function mergeTexts({ base, theirs, ours }: MergeInput): MergeResult {
  const versions = { base: base ?? '', theirs, ours };
  const names = { base: 'the deployed version', theirs: "the host's version", ours: "the commit's version" } as const;
  const values: Record<keyof typeof versions, unknown> = { base: null, theirs: null, ours: null };
  const keyed = {} as Record<keyof typeof versions, KeyedItems>;
  for (const side of ['base', 'theirs', 'ours'] as const) {
    const read = readHaYaml(versions[side]);
    if (!read.ok) return wholeFile(`${names[side]} is not YAML Home Assistant can read: ${read.reason}`);
    values[side] = read.value;
    const items = keyedItemsOf(read.value, names[side]);
    if (!items.ok) return wholeFile(items.reason);
    keyed[side] = items.keyed;
  }
  // Nothing to merge when the two sides already mean the same.
  if (sameYamlValue(values.theirs, values.ours)) return { clean: true, text: ours, from: 'ours' };

  const shapes = new Set([keyed.base.shape, keyed.theirs.shape, keyed.ours.shape].filter((s): s is KeyedShape => s !== null));
  if (shapes.size > 1) return wholeFile('one version is a list and another a mapping');
  const shape: KeyedShape = shapes.values().next().value ?? 'list';

  const merged = new Map<string, unknown>();
  const conflicts: MergeConflict[] = [];
  // The commit's order, unless the commit kept the deployed order and the host changed it: moving
  // an item is an edit too, and an edit made on one side only is taken.
  const oursIds = [...keyed.ours.items.keys()];
  const theirsIds = [...keyed.theirs.items.keys()];
  const orderKept = oursIds.join('\u0000') === [...keyed.base.items.keys()].join('\u0000');
  const [first, then] = orderKept ? [theirsIds, keyed.ours.items] : [oursIds, keyed.theirs.items];
  const firstSet = new Set(first);
  const order = [...first, ...[...then.keys()].filter((id) => !firstSet.has(id))];
  for (const id of order) {
    const b = keyed.base.items.get(id);
    const t = keyed.theirs.items.get(id);
    const o = keyed.ours.items.get(id);
    const pick = decide(b, t, o);
    if (pick === 'conflict') {
      conflicts.push({ id, reason: conflictReason(b, t, o), theirs: t === undefined ? null : conflictExcerpt(t), ours: o === undefined ? null : conflictExcerpt(o) });
      continue;
    }
    const value = pick === 'ours' ? o : t;
    if (value !== undefined) merged.set(id, value);
  }
  if (conflicts.length) return { clean: false, conflicts };

  let value: unknown;
  if (shape === 'list') value = [...merged.values()];
  else value = new Map([...merged].map(([id, item]) => [keyed.ours.keys.get(id) ?? keyed.theirs.keys.get(id) ?? id, item]));
  if (sameYamlValue(value, values.ours)) return { clean: true, text: ours, from: 'ours' };
  if (sameYamlValue(value, values.theirs)) return { clean: true, text: theirs, from: 'theirs' };

  const text = emitHaYaml(value);
  // What is written must read back as what was merged, or it is not written at all.
  const check = readHaYaml(text);
  if (!check.ok || !sameYamlValue(check.value, value)) {
    return wholeFile(`the merged file could not be written so that it reads back the same${check.ok ? '' : ` (${check.reason})`}`);
  }
  return { clean: true, text, from: 'merged' };
}

/** Which side's version of one item the merge takes; an item absent on the side taken is dropped. */
function decide(base: unknown, theirs: unknown, ours: unknown): 'ours' | 'theirs' | 'conflict' {
  const same = (a: unknown, b: unknown) => (a === undefined || b === undefined ? a === b : sameYamlValue(a, b));
  if (same(theirs, ours)) return 'ours';
  if (same(theirs, base)) return 'ours';
  if (same(ours, base)) return 'theirs';
  return 'conflict';
}

function conflictReason(base: unknown, theirs: unknown, ours: unknown): string {
  if (base === undefined) return 'added on the host and in the commit, differently';
  if (theirs === undefined) return 'deleted on the host, changed in the commit';
  if (ours === undefined) return 'changed on the host, deleted in the commit';
  return 'changed on the host and in the commit, differently';
}
