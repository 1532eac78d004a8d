// TARGETS as `npm run setup` writes it in wrangler.toml: a table keyed by target name, read through
// the same schema as the older JSON string, which keeps working.
import { describe, expect, it } from 'vitest';
import { loadTargets } from '../../worker/config/targets.ts';

describe('TARGETS', () => {
  it('reads a table keyed by name as the list the schema validates', () => {
    const targets = loadTargets({ home: { repo: 'octo-home/ha-config', relayTokenSecret: 'RELAY_TOKEN_HOME', trigger: { type: 'push' } }, cabin: { repo: 'octo-home/ha-config', branch: 'cabin', relayTokenSecret: 'RELAY_TOKEN_CABIN' } });
    expect(targets.map((t) => [t.name, t.branch, t.driftPolicy])).toEqual([['home', 'main', 'stop'], ['cabin', 'cabin', 'stop']]);
  });

  it('still reads the JSON string form', () => {
    const targets = loadTargets(JSON.stringify([{ name: 'home', repo: 'octo-home/ha-config', relayTokenSecret: 'RELAY_TOKEN_HOME' }]));
    expect(targets[0]).toMatchObject({ name: 'home', branch: 'main' });
  });

  it('refuses a table entry the schema refuses, naming the field, and a name that contradicts its key', () => {
    expect(() => loadTargets({ home: { repo: 'not a repo', relayTokenSecret: 'RELAY_TOKEN_HOME' } })).toThrow(/TARGETS is invalid: .*repo/);
    expect(() => loadTargets({ Home: { repo: 'octo-home/ha-config', relayTokenSecret: 'RELAY_TOKEN_HOME' } })).toThrow(/name/);
    expect(() => loadTargets({ home: { name: 'cabin', repo: 'octo-home/ha-config', relayTokenSecret: 'RELAY_TOKEN_HOME' } })).toThrow(/names itself "cabin"/);
  });
});
