// Quoting what a caller sent inside an answer or a stored reason. A name, id or header can be as
// long as a request allows, and hold control characters; echoed whole, one request would make the
// edge answer (and store) megabytes, or put a NUL into a status page. Quoted, it is bounded and
// every control character shows as an escape.

/** Longer inputs are cut here: more than any name or id the edge hands out. */
export const QUOTED_INPUT_MAX = 80;

/** `value` cut to at most `max` characters, marked with `…` when it was cut. */
export function clipText(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max - 1)}…` : value;
}

/** `value` in double quotes, cut to `max` characters, with control characters escaped as JSON does. */
export function quoteInput(value: string, max = QUOTED_INPUT_MAX): string {
  return JSON.stringify(clipText(value, max));
}
