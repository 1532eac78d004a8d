// The Worker's configuration file as setup leaves it: the D1 database id, PUBLIC_URL, and the
// target as a TOML table under [vars.TARGETS.<name>] (worker/config/targets.ts reads it through
// the same schema as the older JSON-in-a-string form, which this converts when it finds it).
// Edited as text, line by line, so every comment and every other setting stays as the owner left
// it. A config file outside the repository (a test's, or a second deployment's) is first made from
// the repository's own, with `main` and `migrations_dir` pointing back into the repository.
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { TargetConfig } from '../../worker/config/targets.ts';
import type { SetupActions } from './actions.ts';

export const REPOSITORY_ROOT = join(import.meta.dirname, '../..');

export interface TargetEntry {
  name: string;
  /** The fields of the target besides its name, as they go into the table. */
  fields: Record<string, unknown>;
}

/** The repository's wrangler.toml, for a config file kept elsewhere: its paths made relative to that file. */
export async function seedConfig(path: string): Promise<string> {
  const text = await readFile(join(REPOSITORY_ROOT, 'wrangler.toml'), 'utf8');
  const toRoot = (inside: string) => relative(dirname(path), join(REPOSITORY_ROOT, inside)) || '.';
  return text
    .replace(/^main = ".*"$/m, `main = ${JSON.stringify(toRoot('worker/index.ts'))}`)
    .replace(/^migrations_dir = ".*"$/m, `migrations_dir = ${JSON.stringify(toRoot('migrations'))}`);
}

/** A TOML value for what a target holds: strings, booleans, numbers, arrays of them, inline tables. */
function tomlValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(', ')}]`;
  if (typeof value === 'object' && value !== null) return `{ ${Object.entries(value).map(([k, v]) => `${tomlKey(k)} = ${tomlValue(v)}`).join(', ')} }`;
  throw new Error(`cannot write ${String(value)} as TOML`);
}

function tomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
}

export function targetTable(entry: TargetEntry): string {
  // Checked with the edge's own schema before it is written: an edge that would refuse it never gets it.
  const parsed = TargetConfig.safeParse({ name: entry.name, ...entry.fields });
  if (!parsed.success) throw new Error(`target ${entry.name} would be refused by the edge: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const lines = [`[vars.TARGETS.${tomlKey(entry.name)}]`];
  for (const [key, value] of Object.entries(entry.fields)) if (value !== undefined) lines.push(`${tomlKey(key)} = ${tomlValue(value)}`);
  return `${lines.join('\n')}\n`;
}

/** The older `TARGETS = '''[…]'''` string, if the file has one: its entries and where it is. */
function stringForm(text: string): { start: number; end: number; entries: TargetEntry[] } | null {
  const match = /^TARGETS = '''([\s\S]*?)'''\n/m.exec(text);
  if (!match) return null;
  const list = JSON.parse(match[1]!) as Array<Record<string, unknown>>;
  const entries = list.map(({ name, ...fields }) => ({ name: String(name), fields }));
  return { start: match.index, end: match.index + match[0].length, entries };
}

/** Removes the [vars.TARGETS.<name>] table (header to the next header or a blank line before one). */
function withoutTable(text: string, name: string): { text: string; at: number | null } {
  const lines = text.split('\n');
  const header = `[vars.TARGETS.${tomlKey(name)}]`;
  const start = lines.findIndex((l) => l.trim() === header);
  if (start < 0) return { text, at: null };
  let end = start + 1;
  while (end < lines.length && !lines[end]!.startsWith('[') && !lines[end]!.startsWith('#') && lines[end]!.trim() !== '') end += 1;
  while (end < lines.length && lines[end]!.trim() === '') end += 1;
  const at = lines.slice(0, start).join('\n').length + (start > 0 ? 1 : 0);
  return { text: [...lines.slice(0, start), ...lines.slice(end)].join('\n'), at };
}

/** Where a new target table goes: after the last line of the [vars] section (its keys and tables). */
function endOfVars(text: string): number {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === '[vars]');
  if (start < 0) return text.length;
  let end = start + 1;
  for (let i = start + 1; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (line.startsWith('[') && !line.startsWith('[vars.')) break;
    if (line.trim() !== '' && !line.startsWith('#')) end = i + 1;
  }
  return lines.slice(0, end).join('\n').length + 1;
}

export interface WorkerSettings {
  publicUrl: string;
  databaseId: string | null;
  target: TargetEntry;
}

/** The config text with these settings in it; every other line as it was. */
export function applySettings(original: string, settings: WorkerSettings): string {
  let text = original;
  const old = stringForm(text);
  const keep: TargetEntry[] = [];
  if (old) {
    text = text.slice(0, old.start) + text.slice(old.end);
    keep.push(...old.entries.filter((e) => e.name !== settings.target.name));
  }
  text = text.replace(/^PUBLIC_URL = ".*"$/m, `PUBLIC_URL = ${JSON.stringify(settings.publicUrl)}`);
  if (!/^PUBLIC_URL = /m.test(text)) text = text.replace(/^\[vars\]\n/m, `[vars]\nPUBLIC_URL = ${JSON.stringify(settings.publicUrl)}\n`);
  if (settings.databaseId) text = text.replace(/^database_id = ".*"$/m, `database_id = ${JSON.stringify(settings.databaseId)}`);
  for (const entry of keep) {
    const at = endOfVars(text);
    text = `${text.slice(0, at)}\n${targetTable(entry)}${text.slice(at)}`;
  }
  const removed = withoutTable(text, settings.target.name);
  text = removed.text;
  const at = removed.at ?? endOfVars(text);
  const table = targetTable(settings.target);
  const before = text.slice(0, at);
  text = `${before}${before.endsWith('\n\n') || removed.at !== null ? '' : '\n'}${table}\n${text.slice(at).replace(/^\n+/, '')}`;
  return text;
}

/** Writes the settings into the config file (made from the repository's when it does not exist yet). */
export async function writeWorkerConfig(actions: SetupActions, path: string, settings: WorkerSettings): Promise<void> {
  const current = await readFile(path, 'utf8').catch(() => null);
  await actions.writeFile(path, applySettings(current ?? (await seedConfig(path)), settings));
}

/** The D1 database id the file holds, when it is not the placeholder. */
export async function configuredDatabaseId(path: string): Promise<string | null> {
  const text = await readFile(path, 'utf8').catch(() => null);
  const id = text ? /^database_id = "(.*)"$/m.exec(text)?.[1] : undefined;
  return id && id !== '00000000-0000-4000-8000-000000000000' ? id : null;
}
