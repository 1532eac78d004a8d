// Which git refs a deployment may name: a branch or a tag, spelt as `git check-ref-format` allows
// and no longer than GitHub allows a ref to be. The relay never builds a path from a ref, but it
// shows one to people, so a ref the edge sends is held to this shape like every other field.

/** GitHub refuses ref names longer than this many bytes. */
export const MAX_REF_BYTES = 255;

// Characters git refuses anywhere in a ref name: control characters, space, ~ ^ : ? * [ \ and DEL.
const REFUSED_CHARACTER = /[\u0000-\u0020~^:?*[\\\u007f]/;

/** Whether `name` (what follows `refs/heads/` or `refs/tags/`) is a name git would take. */
export function isRefName(name: string): boolean {
  if (!name || new TextEncoder().encode(name).byteLength > MAX_REF_BYTES - 'refs/heads/'.length) return false;
  if (REFUSED_CHARACTER.test(name) || name.includes('..') || name.includes('@{') || name === '@') return false;
  if (name.endsWith('.') || name.endsWith('/')) return false;
  return name.split('/').every((part) => part !== '' && !part.startsWith('.') && !part.endsWith('.lock'));
}

/** `refs/heads/<branch>` or `refs/tags/<tag>`, with a name git would take. */
export function isBranchOrTagRef(ref: string): boolean {
  const match = /^refs\/(?:heads|tags)\/(.*)$/s.exec(ref);
  return match !== null && isRefName(match[1]!);
}
