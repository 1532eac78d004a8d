// Whether two YAML values (as readHaYaml gives them) mean the same to Home Assistant: the same
// types, the same keys in any order, the same list items in the same order.
import { TaggedText } from './home-assistant-yaml.ts';

export function sameYamlValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof TaggedText && b instanceof TaggedText) return a.tag === b.tag && a.text === b.text;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameYamlValue(item, b[i]));
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [key, value] of a) {
      if (!b.has(key) || !sameYamlValue(value, b.get(key))) return false;
    }
    return true;
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b));
  return false;
}
