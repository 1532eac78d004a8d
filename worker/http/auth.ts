// Bearer tokens with roles. viewer reads, operator also deploys and rolls back, admin does
// everything. Unknown token: 401; known token, too small a role: 403.
import { z } from 'zod';
import { describeZodError } from '../../shared/protocol.ts';
import { ApiError } from './errors.ts';
import { digestsEqual, sha256Hex, storedDigest } from './secrets.ts';

export const Role = z.enum(['viewer', 'operator', 'admin']);
export type Role = z.infer<typeof Role>;

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export function roleAllows(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

export const ApiTokenEntry = z.union([
  z.object({ name: z.string().min(1), role: Role, token: z.string().min(16, 'tokens must be at least 16 characters') }).strict(),
  z.object({ name: z.string().min(1), role: Role, sha256: z.string().regex(/^[0-9a-f]{64}$/i, 'hex SHA-256 of the token') }).strict(),
]);
export const ApiTokenList = z.array(ApiTokenEntry);

export interface Principal {
  name: string;
  role: Role;
}

/** One entry of API_TOKENS as the edge keeps it: the SHA-256 of the token, never the token. */
export interface TokenDigest {
  name: string;
  role: Role;
  digest: string;
}

let cache: { raw: string; tokens: TokenDigest[] } | null = null;

/** API_TOKENS, validated and digested once per value of the secret. */
export async function loadTokens(raw: string | undefined): Promise<TokenDigest[]> {
  if (!raw) return [];
  if (cache?.raw === raw) return cache.tokens;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ApiError(500, 'bad_configuration', 'API_TOKENS is not valid JSON.');
  }
  const parsed = ApiTokenList.safeParse(json);
  if (!parsed.success) throw new ApiError(500, 'bad_configuration', `API_TOKENS is invalid: ${describeZodError(parsed.error)}`);
  const tokens = await Promise.all(
    parsed.data.map(async (t) => ({ name: t.name, role: t.role, digest: 'token' in t ? await storedDigest(t.token) : t.sha256.toLowerCase() })),
  );
  cache = { raw, tokens };
  return tokens;
}

/** Finds who a presented token belongs to; compares against every entry so timing says nothing. */
export async function identify(presented: string, rawTokens: string | undefined): Promise<Principal | null> {
  const tokens = await loadTokens(rawTokens);
  const digest = await sha256Hex(presented);
  let found: Principal | null = null;
  for (const t of tokens) {
    if (digestsEqual(digest, t.digest) && !found) found = { name: t.name, role: t.role };
  }
  return found;
}

export function bearerToken(header: string | undefined): string | null {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match ? match[1]! : null;
}
