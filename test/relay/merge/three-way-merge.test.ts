// The three-way merge of Home Assistant's YAML files by id (lists) and key (mappings): the rules a
// homeowner relies on, with examples and with generated files.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emitHaYaml, readHaYaml, TaggedText } from '../../../relay/merge/home-assistant-yaml.ts';
import { describeConflicts } from '../../../relay/merge/merge-conflict.ts';
import { mergeHaYaml, type MergeResult } from '../../../relay/merge/three-way-merge.ts';

const automation = (id: string, alias: string, extra = '') =>
  `- id: '${id}'\n  alias: ${alias}\n  triggers:\n  - trigger: state\n    entity_id: binary_sensor.door\n    to: 'on'\n  actions:\n  - action: light.turn_on\n    target:\n      entity_id: light.hall\n${extra}`;

const BASE = `${automation('1700000000001', 'Hall light')}${automation('1700000000002', 'Porch light')}`;

function valueOf(text: string): unknown {
  const read = readHaYaml(text);
  if (!read.ok) throw new Error(read.reason);
  return read.value;
}

function mergedText(result: MergeResult): string {
  if (!result.clean) throw new Error(`expected a clean merge: ${JSON.stringify(result.conflicts)}`);
  return result.text;
}

describe('merging automations.yaml by id', () => {
  it('takes a UI edit of one automation and a commit edit of another', () => {
    const theirs = BASE.replace('alias: Hall light', 'alias: Hall light (UI)');
    const ours = BASE.replace('alias: Porch light', 'alias: Porch light at night');
    const text = mergedText(mergeHaYaml({ base: BASE, theirs, ours }));
    expect(text).toContain('alias: Hall light (UI)');
    expect(text).toContain('alias: Porch light at night');
    expect(valueOf(text)).toEqual(valueOf(BASE.replace('alias: Hall light', 'alias: Hall light (UI)').replace('alias: Porch light', 'alias: Porch light at night')));
  });

  it("keeps the commit's order and appends what the host added, written as Home Assistant writes it", () => {
    const theirs = `${BASE}${automation('1700000000009', 'Made in the UI — café')}`;
    const ours = `${automation('1700000000002', 'Porch light')}${automation('1700000000001', 'Hall light')}${automation('garage', 'Garage')}`;
    const text = mergedText(mergeHaYaml({ base: BASE, theirs, ours }));
    const ids = (valueOf(text) as Map<string, unknown>[]).map((item) => item.get('id'));
    expect(ids).toEqual(['1700000000002', '1700000000001', 'garage', '1700000000009']);
    // Indent 2, list items flush with their key, quoted ids and 'on', unicode kept, no document marker.
    expect(text.startsWith("- id: '1700000000002'\n  alias: Porch light\n  triggers:\n  - trigger: state\n")).toBe(true);
    expect(text).toContain("    to: 'on'\n");
    expect(text).toContain('Made in the UI — café');
    expect(text).not.toMatch(/^---/m);
  });

  it('keeps Home Assistant\'s tags as written and never reads YAML 1.1 words as something else', () => {
    const base = "- id: a\n  alias: A\n  password: !secret door_code\n  letter: n\n  state: 'off'\n  code: 1e3\n";
    const theirs = base.replace('alias: A', 'alias: A2');
    const ours = `${base}- id: b\n  alias: B\n`;
    const text = mergedText(mergeHaYaml({ base, theirs, ours }));
    expect(text).toContain('password: !secret door_code');
    const [first] = valueOf(text) as Map<string, unknown>[];
    expect(first!.get('password')).toEqual(new TaggedText('!secret', 'door_code'));
    expect(first!.get('letter')).toBe('n');
    expect(first!.get('state')).toBe('off');
    expect(first!.get('code')).toBe('1e3');
  });

  it('is a conflict when both sides changed the same automation differently, showing both', () => {
    const theirs = BASE.replace('alias: Hall light', 'alias: Hall light from the UI');
    const ours = BASE.replace('alias: Hall light', 'alias: Hall light from git');
    const result = mergeHaYaml({ base: BASE, theirs, ours });
    expect(result.clean).toBe(false);
    if (result.clean) return;
    expect(result.conflicts).toHaveLength(1);
    expect(result.conflicts[0]).toMatchObject({ id: '1700000000001', reason: 'changed on the host and in the commit, differently' });
    const shown = describeConflicts('automations.yaml', result.conflicts);
    expect(shown).toContain('Hall light from the UI');
    expect(shown).toContain('Hall light from git');
  });

  it('takes the same change made on both sides', () => {
    const both = BASE.replace('alias: Hall light', 'alias: Hall');
    const result = mergeHaYaml({ base: BASE, theirs: both, ours: both });
    expect(valueOf(mergedText(result))).toEqual(valueOf(both));
  });

  it.each([
    ['added on both sides with different content', `${BASE}${automation('new', 'New (UI)')}`, `${BASE}${automation('new', 'New (git)')}`, 'added on the host and in the commit, differently'],
    ['deleted on the host, changed in the commit', automation('1700000000002', 'Porch light'), BASE.replace('alias: Hall light', 'alias: Hall'), 'deleted on the host, changed in the commit'],
    ['changed on the host, deleted in the commit', BASE.replace('alias: Hall light', 'alias: Hall'), automation('1700000000002', 'Porch light'), 'changed on the host, deleted in the commit'],
  ])('is a conflict when %s', (_what, theirs, ours, reason) => {
    const result = mergeHaYaml({ base: BASE, theirs, ours });
    expect(result.clean).toBe(false);
    if (!result.clean) expect(result.conflicts.map((c) => c.reason)).toEqual([reason]);
  });

  it('takes a deletion on one side when the other side left the automation alone', () => {
    const theirs = automation('1700000000002', 'Porch light');
    const ours = BASE.replace('alias: Porch light', 'alias: Porch');
    const ids = (valueOf(mergedText(mergeHaYaml({ base: BASE, theirs, ours }))) as Map<string, unknown>[]).map((i) => i.get('id'));
    expect(ids).toEqual(['1700000000002']);
  });

  it('refuses to merge items without an id: they cannot be matched', () => {
    const noId = '- alias: No id\n  triggers: []\n';
    const result = mergeHaYaml({ base: BASE, theirs: `${BASE}${noId}`, ours: BASE.replace('Porch light', 'Porch') });
    expect(result.clean).toBe(false);
    if (!result.clean) expect(result.conflicts[0]!.reason).toMatch(/has no `id`, so it cannot be matched/);
  });
});

describe('merging scripts.yaml by key', () => {
  const base = 'goodnight:\n  alias: Goodnight\n  sequence:\n  - action: light.turn_off\nmorning:\n  alias: Morning\n  sequence: []\n';
  it('takes a UI edit of one script and a commit edit of another, and a script the UI added', () => {
    const theirs = `${base.replace('alias: Morning', 'alias: Good morning')}movie:\n  alias: Movie\n  sequence: []\n`;
    const ours = base.replace('light.turn_off', 'light.turn_on');
    const value = valueOf(mergedText(mergeHaYaml({ base, theirs, ours }))) as Map<string, Map<string, unknown>>;
    expect([...value.keys()]).toEqual(['goodnight', 'morning', 'movie']);
    expect(value.get('morning')!.get('alias')).toBe('Good morning');
    expect((value.get('goodnight')!.get('sequence') as Map<string, unknown>[])[0]!.get('action')).toBe('light.turn_on');
  });

  it('refuses a list on one side and a mapping on the other', () => {
    const result = mergeHaYaml({ base, theirs: '- id: a\n', ours: base.replace('Morning', 'Dawn') });
    expect(result.clean).toBe(false);
  });
});

// ---- generated files ----

const ids = fc.constantFrom('a', 'b', 'c', 'd', 'e', '1700000000001', '17');
const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null), fc.constantFrom('on', 'off', 'yes', 'n', '1e3', '12:30', '', ' x', 'a: b', '- c', '#d', 'é — ünïcode'));
const body = fc.dictionary(fc.constantFrom('alias', 'mode', 'description', 'triggers', 'on', 'state'), fc.oneof(scalar, fc.array(scalar, { maxLength: 3 })), { maxKeys: 4 });
type Item = { id: string; fields: Record<string, unknown> };
const itemList = fc.uniqueArray(fc.record({ id: ids, fields: body }), { selector: (i) => i.id, maxLength: 5 });

function listText(items: readonly Item[]): string {
  return emitHaYaml(items.map((item) => new Map<string, unknown>([['id', item.id], ...Object.entries(item.fields)])));
}

function byId(text: string): Map<string, unknown> {
  const value = valueOf(text);
  return new Map(((value ?? []) as Map<string, unknown>[]).map((item) => [String(item.get('id')), item]));
}

describe('merge properties', () => {
  it('merge(base, x, base) = x and merge(base, base, y) = y', () => {
    fc.assert(
      fc.property(itemList, itemList, (base, other) => {
        const baseText = listText(base);
        const otherText = listText(other);
        expect(valueOf(mergedText(mergeHaYaml({ base: baseText, theirs: otherText, ours: baseText })))).toEqual(valueOf(otherText));
        expect(valueOf(mergedText(mergeHaYaml({ base: baseText, theirs: baseText, ours: otherText })))).toEqual(valueOf(otherText));
      }),
      { numRuns: 300 },
    );
  });

  it('edits of different automations merge cleanly, in either order, to the same automations', () => {
    const edit = fc.oneof(fc.constant({ kind: 'delete' as const }), body.map((fields) => ({ kind: 'change' as const, fields })));
    fc.assert(
      fc.property(itemList, fc.array(fc.tuple(fc.boolean(), edit), { maxLength: 5 }), fc.constantFrom('x1', 'x2'), (base, edits, addedId) => {
        // Each automation is edited by one side at most; each side adds one of its own.
        const a: Item[] = [];
        const b: Item[] = [];
        base.forEach((item, i) => {
          const [sideA, change] = edits[i] ?? [true, null];
          const mine = sideA ? a : b;
          const other = sideA ? b : a;
          other.push(item);
          if (change?.kind === 'change') mine.push({ id: item.id, fields: change.fields });
          else if (change?.kind !== 'delete') mine.push(item);
        });
        a.push({ id: `${addedId}-a`, fields: { alias: 'added by a' } });
        b.push({ id: `${addedId}-b`, fields: { alias: 'added by b' } });
        const [baseText, aText, bText] = [listText(base), listText(a), listText(b)];
        const ab = mergeHaYaml({ base: baseText, theirs: aText, ours: bText });
        const ba = mergeHaYaml({ base: baseText, theirs: bText, ours: aText });
        expect(byId(mergedText(ab))).toEqual(byId(mergedText(ba)));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on garbage: it merges, or names a conflict with a reason', () => {
    const yamlish = fc.oneof(fc.string(), fc.constantFrom('[', '- a\n- b', 'a: !foo x', '- id: a\n- id: a\n', '*x', '&a [*a]', 'a: 1\na: 2\n', '{? [a]: b}', '--- a\n--- b\n', '\t- x'), itemList.map(listText));
    fc.assert(
      fc.property(fc.option(yamlish, { nil: null }), yamlish, yamlish, (base, theirs, ours) => {
        const result = mergeHaYaml({ base, theirs, ours });
        if (result.clean) expect(typeof result.text).toBe('string');
        else for (const conflict of result.conflicts) expect(conflict.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });
});
