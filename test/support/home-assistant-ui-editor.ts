// Home Assistant's automation editor, as the stand-in serves it: the config API its UI calls when
// someone saves or deletes an automation (homeassistant/components/config/automation.py, an
// EditIdBasedConfigView over automations.yaml).
//
//   GET    /api/config/automation/config/<id>   the automation's config, or 404
//   POST   /api/config/automation/config/<id>   create or replace it (JSON body), then reload
//   DELETE /api/config/automation/config/<id>   remove it, then reload
//
// A save rewrites the whole file the way HA does: it reads the list, gives every automation that
// has no `id` a new one (uuid4 hex, added as its last key), replaces the automation with that id or
// appends it (keys ordered id, alias, description, triggers, conditions, actions, then the rest),
// and writes the list back with its YAML dumper: comments gone, indent 2, list items flush with
// their key, strings quoted only where YAML 1.1 needs it, `key:` for null; atomically (a new file
// renamed over the old one).
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { Document, isCollection, isMap, isScalar, isSeq, parseDocument, visit, YAMLMap, YAMLSeq } from 'yaml';
import { isRecord } from './home-assistant-http.ts';

export const AUTOMATIONS_FILE = 'automations.yaml';

export interface EditorAnswer {
  status: number;
  body: unknown;
  /** The file was written: HA then reloads automations. */
  wrote: boolean;
}

const ORDERED_KEYS = ['alias', 'description', 'triggers', 'trigger', 'conditions', 'condition', 'actions', 'action'];

/** Answers one request of the automation config API against the config folder. */
export function automationConfigRequest(configDir: string, method: string, id: string, body: string): EditorAnswer {
  const path = join(configDir, AUTOMATIONS_FILE);
  const doc = readAutomations(path);
  const list = doc.contents as YAMLSeq;
  const index = list.items.findIndex((item) => isMap(item) && String(item.get('id')) === id);
  if (method === 'GET') {
    if (index < 0) return { status: 404, body: { message: 'Resource not found' }, wrote: false };
    return { status: 200, body: (list.items[index] as YAMLMap).toJSON(), wrote: false };
  }
  if (method === 'DELETE') {
    if (index < 0) return { status: 404, body: { message: 'Resource not found' }, wrote: false };
    list.items.splice(index, 1);
    writeLikeHomeAssistant(path, doc);
    return { status: 200, body: { result: 'ok' }, wrote: true };
  }
  if (method !== 'POST') return { status: 405, body: { message: '405: Method Not Allowed' }, wrote: false };
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return { status: 400, body: { message: 'Invalid JSON specified.' }, wrote: false };
  }
  const invalid = validationError(data);
  if (invalid || !isRecord(data)) return { status: 400, body: { message: `Message malformed: ${invalid ?? 'expected a dictionary'}` }, wrote: false };

  const ordered: Record<string, unknown> = { id };
  for (const key of ORDERED_KEYS) if (key in data) ordered[key] = data[key];
  for (const [key, value] of Object.entries(data)) if (!(key in ordered)) ordered[key] = value;
  // HA mends automations pasted in without an id as it goes through the list.
  for (const item of list.items) if (isMap(item) && !item.has('id')) item.set('id', randomUUID().replaceAll('-', ''));
  const node = doc.createNode(ordered);
  if (index >= 0) list.items[index] = node;
  else list.items.push(node);
  writeLikeHomeAssistant(path, doc);
  return { status: 200, body: { result: 'ok' }, wrote: true };
}

/** What HA's automation schema would refuse first, or null. */
function validationError(data: unknown): string | null {
  if (!isRecord(data)) return 'expected a dictionary';
  if (!('triggers' in data) && !('trigger' in data)) return "required key not provided @ data['triggers']";
  if (!('actions' in data) && !('action' in data)) return "required key not provided @ data['actions']";
  return null;
}

function readAutomations(path: string): Document {
  // PyYAML reads YAML 1.1; a missing or empty file is an empty list.
  const doc = existsSync(path) ? parseDocument(readFileSync(path, 'utf8'), { version: '1.1', uniqueKeys: false }) : new Document([], { version: '1.1' });
  if (doc.errors.length) throw new Error(`automations.yaml cannot be read: ${doc.errors[0]!.message}`);
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) doc.contents = new YAMLSeq() as Document['contents'];
  if (!isSeq(doc.contents)) throw new Error('automations.yaml is not a list');
  return doc;
}

function writeLikeHomeAssistant(path: string, doc: Document): void {
  // The dumper knows values, not how they were written: no comments, no quoting or flow style kept.
  doc.commentBefore = null;
  doc.comment = null;
  visit(doc, (_key, node) => {
    if (isScalar(node) || isCollection(node)) {
      node.commentBefore = undefined;
      node.comment = undefined;
      node.spaceBefore = undefined;
    }
    if (isScalar(node) && !node.tag?.startsWith('!')) node.type = undefined;
    // An empty list or mapping stays `[]` or `{}`, as PyYAML writes it.
    if (isCollection(node)) node.flow = node.items.length === 0;
  });
  const text = doc.toString({ indent: 2, indentSeq: false, lineWidth: 80, singleQuote: true, nullStr: '', directives: false });
  const before = existsSync(path) ? statSync(path) : null;
  const temporary = `${path}.${randomUUID().slice(0, 8)}.tmp`;
  writeFileSync(temporary, text, { mode: 0o644 });
  if (before) chownSync(temporary, before.uid, before.gid);
  renameSync(temporary, path);
}

/** Saves an automation the way Home Assistant's UI does: a POST to the config API of `ha`, with its bearer token. */
export function saveAutomationInTheUi(ha: { url: string; token: string }, id: string, config: Record<string, unknown>): Promise<Response> {
  return fetch(`${ha.url}/api/config/automation/config/${encodeURIComponent(id)}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ha.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(config),
  });
}
