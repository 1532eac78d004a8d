// `lanyard.yaml`: what a repository may tell Lanyard about its own deploys, committed at the root of
// the deployed folder. It can narrow what is deployed, protect more, say how its files activate,
// and ask for stricter verification. It can never loosen a safety rule of the host: it cannot
// unprotect a built-in path, widen the relay's own include list, or choose the drift policy.
//
// Why no `driftPolicy` here: the drift policy protects edits made on the host (in Home
// Assistant's UI) from the repository. The repository is the party that policy guards against, so
// it cannot be the one to switch it off; a push to the repo, or a compromised CI, could otherwise
// silently overwrite the house's own changes. The owner of the host sets it on the target.
//
// Every field carries `.describe()` text, so reference docs can be generated from this schema.
import { isMap, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import { z } from 'zod';
import { parseActivationOverride, type ActivationOverride } from './activation-map.ts';

export const LANYARD_FILE_NAME = 'lanyard.yaml';

const Glob = z
  .string()
  .trim()
  .min(1, 'a glob must not be empty')
  .refine((g) => !g.startsWith('/'), 'globs are relative to the deployed folder: remove the leading "/"')
  .refine((g) => !g.split('/').includes('..'), 'globs cannot climb out of the deployed folder with ".."');

const GLOB_RULES =
  'Globs match the whole path relative to the deployed folder, dotfiles included: `*.yaml` is the top folder only, `**/*.yaml` any depth, and a trailing `/` means everything in that folder.';

const ActivationOverrideSchema = z
  .union([z.literal('none'), z.literal('restart'), z.templateLiteral(['reload:', z.string()])], {
    error: (issue) => (typeof issue.input === 'string' ? String(parseActivationOverride(issue.input)) : 'write none, restart, or reload:<domain>'),
  })
  .superRefine((text, ctx) => {
    const need = parseActivationOverride(text);
    if (typeof need === 'string') ctx.addIssue({ code: 'custom', message: need });
  }) satisfies z.ZodType<ActivationOverride>;

const EntityId = z.string().regex(/^[a-z0-9_]+\.[a-z0-9_]+$/, 'expected an entity id such as sensor.outdoor_temperature');

export const LanyardVerifySchema = z
  .object({
    entities: z
      .array(EntityId)
      .default([])
      .describe('Entities that must exist and not be `unavailable` once Home Assistant is back; otherwise the deploy rolls back. Added to the relay\'s own list.'),
    timeoutSeconds: z
      .number()
      .int('must be a whole number of seconds')
      .min(5, 'must be at least 5 seconds')
      .max(3600, 'must be at most 3600 seconds (an hour)')
      .optional()
      .describe('How long Home Assistant may take to come back healthy after this repository\'s deploys (default: the relay\'s setting).'),
  })
  .strict()
  .describe('Checks run after Home Assistant reloads or restarts.');

export const LanyardBackupSchema = z
  .object({
    scope: z
      .enum(['changed', 'full'])
      .optional()
      .describe('`changed`: back up only the files a deploy overwrites or deletes. `full`: the whole config minus protected data. Default: the relay\'s setting.'),
  })
  .strict()
  .describe('How the backup taken before each deploy is made.');

export const LanyardFileSchema = z
  .object({
    version: z
      .literal(1, { error: (issue) => (issue.input === undefined ? 'required: start the file with "version: 1"' : 'must be 1, the only version of this file so far') })
      .describe('The format of this file. Always 1 for now.'),
    include: z
      .array(Glob)
      .default([])
      .describe(`Deploy only files matching one of these globs (empty: every file). The relay's own include list still applies: a file must pass both. ${GLOB_RULES}`),
    exclude: z.array(Glob).default([]).describe(`Never deploy files matching these globs; a file deployed before and now excluded is left on the host as it is. ${GLOB_RULES}`),
    protect: z
      .array(Glob)
      .default([])
      .describe(`Paths on the host Lanyard must never write or delete, added to the built-in ones (secrets.yaml, .storage/, databases, …), which cannot be removed. ${GLOB_RULES}`),
    activation: z
      .record(Glob, ActivationOverrideSchema)
      .default({})
      .describe(
        'How changes to matching files take effect, overriding the built-in map: `none`, `restart`, or `reload:<domain>` (several: `reload:automation,script`). The first glob, in file order, that matches a path decides it; any restart wins over reloads. Only domains Home Assistant can reload are accepted. Example: `packages/helpers.yaml: reload:input_boolean,input_number`.',
      ),
    verify: LanyardVerifySchema.prefault({}),
    backup: LanyardBackupSchema.prefault({}),
  })
  .strict()
  .describe('lanyard.yaml: what a repository tells Lanyard about its deploys.');

export type LanyardFile = z.infer<typeof LanyardFileSchema>;

/** What a repository without a lanyard.yaml gets: every file, built-in rules only. */
export const DEFAULT_LANYARD_FILE: LanyardFile = Object.freeze(LanyardFileSchema.parse({ version: 1 }));

/** A lanyard.yaml that cannot be used: `String(error)` reads `LanyardFileInvalid: lanyard.yaml line 4: …`. */
export class LanyardFileError extends Error {
  readonly code = 'LanyardFileInvalid';
  override readonly name = 'LanyardFileInvalid';

  constructor(
    message: string,
    /** The first bad field, e.g. `verify.timeoutSeconds`; null for a YAML syntax error or an empty file. */
    readonly field: string | null,
    readonly line: number | null,
    readonly column: number | null,
  ) {
    super(message);
  }
}

export type LanyardFileParse = { ok: true; value: LanyardFile } | { ok: false; error: LanyardFileError };

// The fields each object accepts, to name them when an unknown one is found.
const KNOWN_FIELDS: Record<string, readonly string[]> = {
  '': Object.keys(LanyardFileSchema.shape),
  verify: Object.keys(LanyardVerifySchema.shape),
  backup: Object.keys(LanyardBackupSchema.shape),
};

const DRIFT_POLICY_REFUSED =
  'not allowed in lanyard.yaml: the drift policy protects edits made on the host from the repository, so the host\'s owner sets it on the deployment target, not the repository';

function fieldName(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

function where(line: number | null, column: number | null): string {
  return line === null ? LANYARD_FILE_NAME : `${LANYARD_FILE_NAME} line ${line}${column === null ? '' : `, column ${column}`}`;
}

/** Parses and validates the text of a lanyard.yaml; every problem names its field and, when known, its line. */
export function parseLanyardFile(text: string): LanyardFileParse {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const position = syntax.linePos?.[0];
    // The first line of yaml's message is the sentence; the rest is a source excerpt.
    const sentence = (syntax.message.split('\n', 1)[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    return { ok: false, error: new LanyardFileError(`${where(position?.line ?? null, position?.col ?? null)}: not valid YAML: ${sentence}`, null, position?.line ?? null, position?.col ?? null) };
  }
  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) {
    return { ok: false, error: new LanyardFileError(`${LANYARD_FILE_NAME} is empty: start it with "version: 1", or delete it`, null, null, null) };
  }

  const lineOf = (path: readonly PropertyKey[], key?: string): { line: number | null; column: number | null } => {
    let node: unknown = doc.getIn(path as unknown[], true);
    if (key !== undefined) {
      const map = path.length ? node : doc.contents;
      node = isMap(map) ? map.items.find((pair) => isScalar(pair.key) && pair.key.value === key)?.key : undefined;
    }
    const range = (node as Node | undefined)?.range;
    if (!range) return { line: null, column: null };
    const pos = lineCounter.linePos(range[0]);
    return { line: pos.line, column: pos.col };
  };

  const parsed = LanyardFileSchema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };

  const problems: { field: string; line: number | null; column: number | null; text: string }[] = [];
  for (const issue of parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const field = fieldName([...issue.path, key]);
        const known = KNOWN_FIELDS[fieldName(issue.path)];
        const sentence =
          field === 'driftPolicy' ? DRIFT_POLICY_REFUSED : `unknown field${known ? `; the fields here are ${known.join(', ')}` : ''}`;
        problems.push({ field, ...lineOf(issue.path, key), text: sentence });
      }
      continue;
    }
    // For a value inside a record (activation globs), zod's path ends at the key, which is right.
    problems.push({ field: fieldName(issue.path) || '(root)', ...lineOf(issue.path), text: issue.message });
  }
  const first = problems[0]!;
  const lines = problems.slice(0, 5).map((p) => `${where(p.line, p.column)}: ${p.field}: ${p.text}`);
  const more = problems.length > 5 ? ` (and ${problems.length - 5} more problems)` : '';
  return { ok: false, error: new LanyardFileError(`${lines.join('; ')}${more}`, first.field, first.line, first.column) };
}
