// How a conflict is shown: a short excerpt of each side's version of the item, as Home Assistant
// would write it, so the owner sees at once what the host and the commit each did.
import { emitHaYaml } from './home-assistant-yaml.ts';
import type { MergeConflict } from './three-way-merge.ts';

const EXCERPT_LINES = 6;
const EXCERPT_CHARS = 300;

/** The first lines of an item as YAML, cut to a few hundred characters. */
export function conflictExcerpt(item: unknown): string {
  let text: string;
  try {
    text = emitHaYaml(item).trimEnd();
  } catch {
    text = String(item);
  }
  const lines = text.split('\n');
  let excerpt = lines.slice(0, EXCERPT_LINES).join('\n');
  if (excerpt.length > EXCERPT_CHARS) excerpt = `${excerpt.slice(0, EXCERPT_CHARS)}…`;
  else if (lines.length > EXCERPT_LINES) excerpt += '\n…';
  return excerpt;
}

/** One paragraph per conflict of one file: what happened to which item, and both versions. */
export function describeConflicts(path: string, conflicts: readonly MergeConflict[]): string {
  return conflicts
    .map((c) => {
      if (c.id === null) return `${path} cannot be merged: ${c.reason}.`;
      const side = (label: string, excerpt: string | null) => `${label}:${excerpt === null ? ' (none)' : `\n${indent(excerpt)}`}`;
      return `${path}, item ${c.id}: ${c.reason}.\n${side('host', c.theirs)}\n${side('commit', c.ours)}`;
    })
    .join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
