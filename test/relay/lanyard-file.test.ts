// lanyard.yaml as a user writes it: accepted with defaults, or refused with the field and line named.
import { describe, expect, it } from 'vitest';
import { DEFAULT_LANYARD_FILE, parseLanyardFile } from '../../relay/pipeline/lanyard-file.ts';

function refusal(text: string) {
  const parsed = parseLanyardFile(text);
  if (parsed.ok) throw new Error('expected lanyard.yaml to be refused');
  return parsed.error;
}

describe('lanyard.yaml', () => {
  it('reads a complete file', () => {
    const parsed = parseLanyardFile(`version: 1
include: [ "**/*.yaml", www/ ]
exclude: [ drafts/ ]
protect: [ zigbee2mqtt/ ]
activation:
  packages/helpers.yaml: reload:input_boolean,input_number
  packages/**: restart
verify:
  entities: [ sensor.outdoor_temperature ]
  timeoutSeconds: 300
backup:
  scope: full
`);
    expect(parsed).toEqual({
      ok: true,
      value: {
        version: 1,
        include: ['**/*.yaml', 'www/'],
        exclude: ['drafts/'],
        protect: ['zigbee2mqtt/'],
        activation: { 'packages/helpers.yaml': 'reload:input_boolean,input_number', 'packages/**': 'restart' },
        verify: { entities: ['sensor.outdoor_temperature'], timeoutSeconds: 300 },
        backup: { scope: 'full' },
      },
    });
  });

  it('needs only a version; everything else has defaults', () => {
    expect(parseLanyardFile('version: 1\n')).toEqual({ ok: true, value: DEFAULT_LANYARD_FILE });
    expect(DEFAULT_LANYARD_FILE).toEqual({ version: 1, include: [], exclude: [], protect: [], activation: {}, verify: { entities: [] }, backup: {} });
  });

  it('names the field and line of a bad value', () => {
    const error = refusal('version: 1\nverify:\n  timeoutSeconds: 99999\n');
    expect(error.code).toBe('LanyardFileInvalid');
    expect(error.field).toBe('verify.timeoutSeconds');
    expect(error.line).toBe(3);
    expect(error.message).toMatch(/^lanyard\.yaml line 3, column 19: verify\.timeoutSeconds: /);
  });

  it('names an unknown field and lists the known ones', () => {
    const error = refusal('version: 1\nverify:\n  entity: [sensor.x]\n');
    expect(error.message).toBe('lanyard.yaml line 3, column 3: verify.entity: unknown field; the fields here are entities, timeoutSeconds');
  });

  it('refuses a drift policy, explaining it belongs to the host', () => {
    const error = refusal('version: 1\ndriftPolicy: overwrite\n');
    expect(error.field).toBe('driftPolicy');
    expect(error.message).toContain('driftPolicy: not allowed in lanyard.yaml: the drift policy protects edits made on the host');
  });

  it('refuses a reload Home Assistant does not offer', () => {
    const error = refusal('version: 1\nactivation:\n  lights.yaml: reload:light\n');
    expect(error.field).toBe('activation.lights.yaml');
    expect(error.message).toContain('Home Assistant cannot reload light without a restart');
    expect(refusal('version: 1\nactivation:\n  lights.yaml: reboot\n').message).toContain('"reboot" is not a need');
  });

  it('refuses a missing version and a bad entity id', () => {
    expect(refusal('include: []\n').message).toBe('lanyard.yaml: version: required: start the file with "version: 1"');
    expect(refusal('version: 1\nverify:\n  entities: [Outdoor Temperature]\n').field).toBe('verify.entities.0');
  });

  it('refuses globs that leave the deployed folder', () => {
    expect(refusal('version: 1\nexclude: [/config/x]\n').field).toBe('exclude.0');
    expect(refusal('version: 1\nprotect: [../x]\n').field).toBe('protect.0');
  });

  it('gives the line and column of a YAML syntax error', () => {
    const error = refusal('version: 1\ninclude: [a, b\nexclude: []\n');
    expect(error.field).toBeNull();
    expect(error.line).not.toBeNull();
    expect(error.message).toMatch(/^lanyard\.yaml line \d+, column \d+: not valid YAML: /);
  });

  it('says what to do with an empty file', () => {
    expect(refusal('# nothing yet\n').message).toBe('lanyard.yaml is empty: start it with "version: 1", or delete it');
  });
});
