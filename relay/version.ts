// The relay's version, reported in `hello` and the User-Agent.
import { CAPTURE_CAPABILITY } from '../shared/drift.ts';
import { BACKUP_INVENTORY_CAPABILITY, RELAY_CAPABILITIES as PROTOCOL_CAPABILITIES } from '../shared/protocol.ts';

export const RELAY_VERSION = '0.1.0';
export const RELAY_CAPABILITIES = ['deploy', 'rollback', 'journal', 'drift-guard', BACKUP_INVENTORY_CAPABILITY, PROTOCOL_CAPABILITIES.pullPlans];

/** What this relay says it can do: `capture` only when its config sets it up (a `capture:` section). */
export function relayCapabilities(config: { capture?: unknown }): string[] {
  return config.capture ? [...RELAY_CAPABILITIES, CAPTURE_CAPABILITY] : [...RELAY_CAPABILITIES];
}
