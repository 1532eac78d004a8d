// The relay's version, reported in `hello` and the User-Agent.
export const RELAY_VERSION = '0.1.0';
export const RELAY_CAPABILITIES = ['deploy', 'rollback', 'journal', 'drift-guard'];
