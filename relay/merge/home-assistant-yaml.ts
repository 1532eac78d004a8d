// Home Assistant's YAML, read and written as Home Assistant does, so a merged file reads the same to
// Home Assistant as the files it came from.
//
// Home Assistant reads YAML with PyYAML: YAML 1.1, where `on`, `yes` and `off` are booleans and
// `12:30` is a number, but `y`, `n` and `1e3` are strings (PyYAML's rules are narrower than the
// YAML 1.1 draft the `yaml` package follows). The booleans and floats below are PyYAML's, so a
// string is quoted exactly when PyYAML would read it as something else. Its own tags (`!secret`,
// `!include`, `!input`, …) are kept as tagged text: a merge never resolves a secret or an include.
//
// Home Assistant's UI writes these files with its own dumper (PyYAML, `default_flow_style=False`,
// `allow_unicode=True`, `sort_keys=False`, `: null` written as `:`): indent 2, list items not
// indented below their key, no document marker, unicode as it is, keys in their order. emitHaYaml
// writes the same way.
import { Document, Pair, parseDocument, Scalar, YAMLMap, YAMLSeq, type ScalarTag, type Tags } from 'yaml';

/** A value under one of Home Assistant's own tags, kept as written: `!secret wifi_password`. */
export class TaggedText {
  constructor(
    readonly tag: string,
    readonly text: string,
  ) {}
}

/** The tags Home Assistant's loader knows; any other tag fails the file there, and here too. */
export const HOME_ASSISTANT_TAGS = [
  '!secret',
  '!include',
  '!include_dir_list',
  '!include_dir_named',
  '!include_dir_merge_list',
  '!include_dir_merge_named',
  '!env_var',
  '!input',
] as const;

const BOOL_TAG = 'tag:yaml.org,2002:bool';
const FLOAT_TAG = 'tag:yaml.org,2002:float';

// PyYAML's implicit resolvers for booleans and floats (yaml/resolver.py).
const PY_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const PY_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;
const PY_FLOAT_EXP = /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*[eE][-+][0-9]+|\.[0-9][0-9_]*[eE][-+][0-9]+)$/;
const PY_FLOAT = /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)$/;

function asPyYaml(tags: Tags): Tags {
  return tags.map((tag) => {
    if (typeof tag === 'string' || !('test' in tag) || !tag.test) return tag;
    if (tag.tag === BOOL_TAG) return { ...tag, test: tag.test.test('true') ? PY_TRUE : PY_FALSE } as ScalarTag;
    if (tag.tag === FLOAT_TAG && tag.format === 'EXP') return { ...tag, test: PY_FLOAT_EXP } as ScalarTag;
    if (tag.tag === FLOAT_TAG && tag.test.test('1.5')) return { ...tag, test: PY_FLOAT } as ScalarTag;
    return tag;
  });
}

const homeAssistantTags: ScalarTag[] = HOME_ASSISTANT_TAGS.map((tag) => ({
  tag,
  identify: (value: unknown) => value instanceof TaggedText && value.tag === tag,
  resolve: (text: string) => new TaggedText(tag, text) as unknown as string,
}));

const SCHEMA_OPTIONS = {
  version: '1.1',
  customTags: (tags: Tags) => [...asPyYaml(tags), ...homeAssistantTags],
  // Lists and mappings are read into arrays and Maps: a Map keeps keys that are not strings (YAML
  // 1.1's `on:` is the key `true`) and their order.
} as const;

export type YamlRead = { ok: true; value: unknown } | { ok: false; reason: string };

/** The value of a YAML file as Home Assistant reads it; an empty file is null. Never throws. */
export function readHaYaml(text: string): YamlRead {
  try {
    const doc = parseDocument(text, { ...SCHEMA_OPTIONS, uniqueKeys: true, prettyErrors: false });
    const [error] = doc.errors;
    if (error) return { ok: false, reason: error.message.split('\n')[0]! };
    const unknownTag = doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
    if (unknownTag) return { ok: false, reason: `${unknownTag.message} (Home Assistant does not know it either)` };
    return { ok: true, value: doc.toJS({ mapAsMap: true, maxAliasCount: 100 }) };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

function toNode(value: unknown): unknown {
  if (value instanceof Map) {
    const map = new YAMLMap();
    for (const [key, item] of value) map.items.push(new Pair(toNode(key), toNode(item)));
    return map;
  }
  if (Array.isArray(value)) {
    const seq = new YAMLSeq();
    for (const item of value) seq.items.push(toNode(item));
    return seq;
  }
  if (value instanceof TaggedText) {
    const scalar = new Scalar(value.text);
    scalar.tag = value.tag;
    return scalar;
  }
  return new Scalar(value);
}

/** The text Home Assistant's UI would write for `value` (arrays and Maps, as readHaYaml gives). */
export function emitHaYaml(value: unknown): string {
  const doc = new Document(null, SCHEMA_OPTIONS);
  doc.contents = toNode(value) as Document['contents'];
  return doc.toString({ indent: 2, indentSeq: false, lineWidth: 80, minContentWidth: 20, singleQuote: true, nullStr: '', directives: false });
}
