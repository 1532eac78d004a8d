// The secrets setup generates, kept between runs so that running it again changes nothing: the
// webhook secret (GitHub and the edge must agree on it), the relay token, the session secret, and
// only the sha256 of the admin token (printed once, on the run that made it; the edge keeps the
// same hash). The file is 0600 in the setup folder, which .gitignore leaves out of git.
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { SetupActions } from './actions.ts';

export const SetupSecrets = z
  .object({
    webhookSecret: z.string().min(32),
    relayToken: z.string().min(32),
    sessionSecret: z.string().min(32),
    adminTokenSha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();
export type SetupSecrets = z.infer<typeof SetupSecrets>;

export interface LoadedSecrets {
  secrets: SetupSecrets;
  /** The admin token in clear, only on the run that generated it: printed once, never stored. */
  newAdminToken: string | null;
  path: string;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function secretsPath(stateDir: string): string {
  return join(stateDir, 'secrets.json');
}

/** Reads the secrets of an earlier run; generates what is missing (and a new admin token when asked). */
export async function loadOrCreateSecrets(actions: SetupActions, stateDir: string, renewAdminToken: boolean): Promise<LoadedSecrets> {
  const path = secretsPath(stateDir);
  const text = await readFile(path, 'utf8').catch(() => null);
  let earlier: Partial<SetupSecrets> = {};
  if (text !== null) {
    const parsed = SetupSecrets.partial().safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`${path} is not what setup writes; move it away to start over`);
    earlier = parsed.data;
  }
  const fresh = () => randomBytes(32).toString('hex');
  let newAdminToken: string | null = null;
  let adminTokenSha256 = earlier.adminTokenSha256;
  if (!adminTokenSha256 || renewAdminToken) {
    newAdminToken = `lanyard-admin-${fresh()}`;
    adminTokenSha256 = sha256Hex(newAdminToken);
  }
  const secrets: SetupSecrets = {
    webhookSecret: earlier.webhookSecret ?? fresh(),
    relayToken: earlier.relayToken ?? fresh(),
    sessionSecret: earlier.sessionSecret ?? randomBytes(32).toString('base64'),
    adminTokenSha256,
  };
  await actions.writeFile(path, `${JSON.stringify(secrets, null, 2)}\n`, 0o600);
  return { secrets, newAdminToken, path };
}
