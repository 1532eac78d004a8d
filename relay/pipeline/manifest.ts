// The manifest: what Lanyard deployed to a host, file by file, as of one commit. It is the only
// evidence the planner has of what Lanyard owns on the host: a file is deleted only if a manifest
// lists it, and a file whose live hash no longer matches its manifest entry was edited on the host
// (drift). Stored as JSON with a stable order (one file per line) so two manifests diff cleanly.
import { z } from 'zod';
import { normaliseRepoPath, PathRefused } from './path-safety.ts';

export const FileEntrySchema = z
  .object({
    path: z
      .string()
      .min(1)
      .superRefine((path, ctx) => {
        try {
          if (normaliseRepoPath(path) !== path) ctx.addIssue({ code: 'custom', message: `not a normalised relative path (expected ${normaliseRepoPath(path)})` });
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: error instanceof PathRefused ? error.what : String(error) });
        }
      })
      .describe('Relative to the config root, posix separators, normalised (no `.`, `..` or empty segments).'),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters')
      .describe('SHA-256 of the content; for a symlink, of its target text (as the host\'s hashing does).'),
    mode: z.number().int().min(0).max(0o7777).describe('Permission bits, e.g. 0o644 or 0o755.'),
    size: z.number().int().nonnegative().describe('Bytes; for a symlink, the length of its target.'),
    type: z.enum(['file', 'symlink']),
    linkTarget: z.string().min(1).optional().describe('Where a symlink points, as stored in the link.'),
  })
  .strict()
  .superRefine((entry, ctx) => {
    if (entry.type === 'symlink' && entry.linkTarget === undefined) ctx.addIssue({ code: 'custom', path: ['linkTarget'], message: 'required for a symlink' });
    if (entry.type === 'file' && entry.linkTarget !== undefined) ctx.addIssue({ code: 'custom', path: ['linkTarget'], message: 'only a symlink has a target' });
  });
export type FileEntry = z.infer<typeof FileEntrySchema>;

export const ManifestSchema = z
  .object({
    sha: z
      .string()
      .regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'expected a full lowercase hex commit sha (40 characters, or 64 for a SHA-256 repository)')
      .describe('The commit these files came from.'),
    deployedAt: z.number().int().nonnegative().describe('When the deploy succeeded, in milliseconds since the epoch.'),
    files: z.array(FileEntrySchema).describe('Every file Lanyard deployed and still manages, sorted by path.'),
  })
  .strict()
  .superRefine((manifest, ctx) => {
    const seen = new Set<string>();
    manifest.files.forEach((file, index) => {
      if (seen.has(file.path)) ctx.addIssue({ code: 'custom', path: ['files', index, 'path'], message: `${file.path} is listed twice` });
      seen.add(file.path);
    });
  });
export type Manifest = z.infer<typeof ManifestSchema>;

/** A manifest that cannot be read: `String(error)` reads `ManifestInvalid: <field>: <problem>`. */
export class ManifestError extends Error {
  readonly code = 'ManifestInvalid';
  override readonly name = 'ManifestInvalid';

  constructor(
    /** The first bad field, e.g. `files[3].sha256`; null when the text is not JSON at all. */
    readonly field: string | null,
    message: string,
  ) {
    super(message);
  }
}

export type ManifestParse = { ok: true; value: Manifest } | { ok: false; error: ManifestError };

/** Byte order, not locale order: the same on every machine. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function fieldName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  return out || '(root)';
}

function entryJson(file: FileEntry): string {
  // Fixed key order, so the same manifest always serialises to the same bytes.
  const ordered: Record<string, unknown> = { path: file.path, type: file.type, mode: file.mode, size: file.size, sha256: file.sha256 };
  if (file.linkTarget !== undefined) ordered.linkTarget = file.linkTarget;
  return JSON.stringify(ordered);
}

/** Stable JSON: keys in a fixed order, files sorted by path, one file per line. */
export function serializeManifest(manifest: Manifest): string {
  const files = [...manifest.files].sort((a, b) => comparePaths(a.path, b.path));
  const lines = files.map((file, index) => `    ${entryJson(file)}${index < files.length - 1 ? ',' : ''}`);
  const list = files.length ? `[\n${lines.join('\n')}\n  ]` : '[]';
  return `{\n  "sha": ${JSON.stringify(manifest.sha)},\n  "deployedAt": ${JSON.stringify(manifest.deployedAt)},\n  "files": ${list}\n}\n`;
}

/** Reads a stored manifest; a damaged one is an error naming the first bad field, never a guess. */
export function parseManifest(text: string): ManifestParse {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: new ManifestError(null, `the manifest is not valid JSON (${error instanceof Error ? error.message : String(error)})`) };
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  const [first] = parsed.error.issues;
  const described = parsed.error.issues.slice(0, 5).map((issue) => `${fieldName(issue.path)}: ${issue.message}`);
  const more = parsed.error.issues.length > 5 ? ` (and ${parsed.error.issues.length - 5} more)` : '';
  return { ok: false, error: new ManifestError(first ? fieldName(first.path) : null, `${described.join('; ')}${more}`) };
}
