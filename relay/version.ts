// The relay's version, reported in `hello` and the User-Agent.
import { BACKUP_INVENTORY_CAPABILITY } from '../shared/protocol.ts';

export const RELAY_VERSION = '0.1.0';
export const RELAY_CAPABILITIES = ['deploy', 'rollback', 'journal', 'drift-guard', BACKUP_INVENTORY_CAPABILITY];
