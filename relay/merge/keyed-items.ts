// A Home Assistant YAML file seen as items with a name: automations.yaml and scenes.yaml are lists
// whose items carry an `id`; scripts.yaml is a mapping of script id to script. The three-way merge
// matches items across versions by that name.

/** `list`: items keyed by their `id`; `mapping`: entries keyed by their key. */
export type KeyedShape = 'list' | 'mapping';

export interface KeyedItems {
  /** null for an empty file, which takes the shape of the other versions. */
  shape: KeyedShape | null;
  /** Items by name, in the file's order. */
  items: Map<string, unknown>;
  /** For a mapping: each name's key as written (a number stays a number). */
  keys: Map<string, unknown>;
}

export type KeyedRead = { ok: true; keyed: KeyedItems } | { ok: false; reason: string };

function nameOf(key: unknown): string | null {
  if (typeof key === 'string') return key;
  if (typeof key === 'number' && Number.isFinite(key)) return String(key);
  return null;
}

/** The items of one version (`which` names it in reasons: "the host's automations.yaml"). */
export function keyedItemsOf(value: unknown, which: string): KeyedRead {
  const items = new Map<string, unknown>();
  const keys = new Map<string, unknown>();
  if (value === null || value === undefined) return { ok: true, keyed: { shape: null, items, keys } };
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const id = item instanceof Map ? nameOf(item.get('id')) : null;
      if (id === null) return { ok: false, reason: `item ${index + 1} of ${which} has no \`id\`, so it cannot be matched with the other version` };
      if (items.has(id)) return { ok: false, reason: `${which} has two items with the id ${id}` };
      items.set(id, item);
    }
    return { ok: true, keyed: { shape: 'list', items, keys } };
  }
  if (value instanceof Map) {
    for (const [key, item] of value) {
      const name = nameOf(key);
      if (name === null) return { ok: false, reason: `${which} has a key that is not a name (${String(key)})` };
      if (items.has(name)) return { ok: false, reason: `${which} has the key ${name} twice` };
      items.set(name, item);
      keys.set(name, key);
    }
    return { ok: true, keyed: { shape: 'mapping', items, keys } };
  }
  return { ok: false, reason: `${which} is neither a list of items with ids nor a mapping` };
}
