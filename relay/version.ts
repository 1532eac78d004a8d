// The relay's version, reported in `hello` and the User-Agent.
import { CAPTURE_CAPABILITY } from '../shared/drift.ts';
import { BACKUP_INVENTORY_CAPABILITY, RELAY_CAPABILITIES as PROTOCOL_CAPABILITIES } from '../shared/protocol.ts';

export const RELAY_VERSION = '0.1.0';
export const RELAY_CAPABILITIES = ['deploy', 'rollback', 'journal', 'drift-guard', BACKUP_INVENTORY_CAPABILITY];

/**
 * What this relay says it can do: `capture` only when its config sets it up (a `capture:` section);
 * `alerts` only when it names notify services (`alerts.notify`), so the edge sends none otherwise.
 */
export function relayCapabilities(config: { capture?: unknown; alerts?: { notify: readonly string[] } }): string[] {
  const capabilities = config.capture ? [...RELAY_CAPABILITIES, CAPTURE_CAPABILITY] : [...RELAY_CAPABILITIES];
  if (config.alerts?.notify.length) capabilities.push(PROTOCOL_CAPABILITIES.alerts);
  return capabilities;
}
