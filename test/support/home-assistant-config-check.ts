// The Home Assistant stand-in's check_config: HA's YAML loader, enough of it to find what HA would
// refuse (unreadable YAML, unknown tags, missing includes and secrets, include cycles).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { LineCounter, parseDocument, type ScalarTag } from 'yaml';
import { isRecord } from './home-assistant-http.ts';

interface LoadContext {
  configDir: string;
  errors: string[];
  /** Files being loaded, outermost first: an include of one of them is a cycle. */
  stack: string[];
  secrets: Map<string, Record<string, unknown> | null>;
}

/** Problems HA's config check would report for this config folder; empty when it is valid. */
export function checkConfigDir(configDir: string): string[] {
  const root = join(configDir, 'configuration.yaml');
  if (!isFile(root)) return ['File configuration.yaml not found.'];
  const context: LoadContext = { configDir, errors: [], stack: [], secrets: new Map() };
  const config = loadYamlFile(root, context);
  if (context.errors.length === 0) {
    if (!isRecord(config)) {
      context.errors.push(`Configuration file ${root} does not contain a mapping at the top level.`);
    } else {
      const core = config.homeassistant;
      if (isRecord(core) && core.packages !== undefined && core.packages !== null && !isRecord(core.packages)) {
        context.errors.push("Invalid config for 'homeassistant': 'packages' must be a mapping of package names to package configs.");
      }
    }
  }
  // HA's check names the top-level file it was loading and then the underlying problem.
  return context.errors.map((error) => `Error loading ${root}: ${error}`);
}

function loadYamlFile(file: string, context: LoadContext): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    context.errors.push(`Unable to read file ${file}.`);
    return null;
  }
  const lineCounter = new LineCounter();
  context.stack.push(file);
  try {
    // HA reads YAML with PyYAML: YAML 1.1 (merge keys, yes/no booleans), duplicate keys allowed.
    const doc = parseDocument(text, { lineCounter, prettyErrors: false, customTags: haTags(file, context), uniqueKeys: false, version: '1.1' });
    const where = (offset: number) => {
      const { line, col } = lineCounter.linePos(offset);
      return `in "${file}", line ${line}, column ${col}`;
    };
    for (const error of doc.errors) context.errors.push(`${where(error.pos[0])}: ${error.message}`);
    // PyYAML has no fallback for tags it does not know; HA fails the whole file.
    for (const warning of doc.warnings) {
      if (warning.code !== 'TAG_RESOLVE_FAILED') continue;
      const tag = warning.message.replace(/^Unresolved tag: /, '');
      context.errors.push(`${where(warning.pos[0])}: could not determine a constructor for the tag '${tag}'`);
    }
    // HA turns an empty file into an empty mapping.
    return doc.toJS() ?? {};
  } finally {
    context.stack.pop();
  }
}

function haTags(file: string, context: LoadContext): ScalarTag[] {
  const here = dirname(file);
  const include = (target: string, onError: (message: string) => void): unknown => {
    const path = resolve(here, target.trim());
    let problem: string | undefined;
    if (!target.trim()) problem = '!include needs a file name';
    else if (context.stack.includes(path)) {
      // HA itself would recurse until Python gives up; naming the loop is kinder.
      const loop = [...context.stack.slice(context.stack.indexOf(path)), path].map((p) => relative(context.configDir, p));
      problem = `Include cycle: ${loop.join(' -> ')}`;
    } else if (!isFile(path)) problem = `Unable to read file ${path}.`;
    if (problem === undefined) return loadYamlFile(path, context);
    onError(problem);
    return null;
  };
  const dirFiles = (target: string): string[] => yamlFilesUnder(resolve(here, target.trim())).filter((p) => !context.stack.includes(p));
  return [
    { tag: '!include', resolve: include },
    { tag: '!include_dir_list', resolve: (target) => dirFiles(target).map((path) => loadYamlFile(path, context)) },
    {
      tag: '!include_dir_named',
      resolve: (target) => Object.fromEntries(dirFiles(target).map((path) => [basename(path, extname(path)), loadYamlFile(path, context)])),
    },
    {
      tag: '!include_dir_merge_list',
      resolve: (target) => dirFiles(target).flatMap((path) => {
        const loaded = loadYamlFile(path, context);
        return Array.isArray(loaded) ? loaded : [];
      }),
    },
    {
      tag: '!include_dir_merge_named',
      resolve: (target) => {
        const merged: Record<string, unknown> = {};
        for (const path of dirFiles(target)) {
          const loaded = loadYamlFile(path, context);
          if (isRecord(loaded)) Object.assign(merged, loaded);
        }
        return merged;
      },
    },
    {
      tag: '!secret',
      resolve: (name, onError) => {
        const value = lookUpSecret(here, name.trim(), context);
        if (value === undefined) onError(`Secret ${name.trim()} not defined`);
        return value ?? null;
      },
    },
    {
      tag: '!env_var',
      resolve: (value) => {
        const [name = '', ...fallback] = value.trim().split(/\s+/);
        return process.env[name] ?? (fallback.length > 0 ? fallback.join(' ') : '');
      },
    },
    // Blueprints use !input; HA accepts it when loading the files that hold them.
    { tag: '!input', resolve: (value) => ({ __input: value }) },
  ];
}

/** HA looks for secrets.yaml next to the file, then in each parent up to the config folder. */
function lookUpSecret(fromDir: string, name: string, context: LoadContext): unknown {
  let dir = fromDir;
  for (;;) {
    const secrets = readSecrets(dir, context);
    if (secrets && Object.hasOwn(secrets, name)) return secrets[name];
    if (dir === context.configDir || !dir.startsWith(context.configDir) || dirname(dir) === dir) return undefined;
    dir = dirname(dir);
  }
}

function readSecrets(dir: string, context: LoadContext): Record<string, unknown> | null {
  if (context.secrets.has(dir)) return context.secrets.get(dir)!;
  const file = join(dir, 'secrets.yaml');
  let secrets: Record<string, unknown> | null = null;
  if (isFile(file)) {
    const errors: string[] = [];
    const doc = parseDocument(readFileSync(file, 'utf8'), { prettyErrors: true });
    for (const error of doc.errors) errors.push(`in "${file}": ${error.message}`);
    const value: unknown = doc.toJS();
    if (errors.length > 0) context.errors.push(...errors);
    else if (value !== null && !isRecord(value)) context.errors.push(`Secrets file ${file} is not a mapping.`);
    else secrets = isRecord(value) ? value : {};
  }
  context.secrets.set(dir, secrets);
  return secrets;
}

/** Like HA's _find_files: every *.yaml below a folder, sorted, skipping dot-files and secrets.yaml. */
function yamlFilesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    // HA walks a missing folder as an empty one: no error, nothing included.
    return [];
  }
  const files: string[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat?.isDirectory()) files.push(...yamlFilesUnder(path));
    else if (stat?.isFile() && name.endsWith('.yaml') && name !== 'secrets.yaml') files.push(path);
  }
  return files;
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}
