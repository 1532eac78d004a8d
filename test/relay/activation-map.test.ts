// How a deploy takes effect in Home Assistant: nothing, reloads of the changed domains, or a restart.
import { describe, expect, it } from 'vitest';
import { RELOAD_SERVICES } from '../../relay/home-assistant/reload-services.ts';
import { ACTIVATION_RULES, changedTopLevelKeys, decideActivation } from '../../relay/pipeline/activation-map.ts';

describe('the built-in activation map', () => {
  it.each([
    ['automations.yaml', 'automation'],
    ['scripts.yaml', 'script'],
    ['scenes.yaml', 'scene'],
    ['groups.yaml', 'group'],
    ['customize.yaml', 'homeassistant'],
    ['templates.yaml', 'template'],
    ['template/weather.yaml', 'template'],
    ['input_boolean.yaml', 'input_boolean'],
    ['input_numbers.yaml', 'input_number'],
    ['input_select/modes.yaml', 'input_select'],
    ['timers.yaml', 'timer'],
    ['counters.yaml', 'counter'],
    ['schedules.yaml', 'schedule'],
    ['persons.yaml', 'person'],
    ['zones.yaml', 'zone'],
    ['themes/dark.yaml', 'frontend'],
    ['blueprints/automation/motion_light.yaml', 'automation'],
  ])('reloads %s with %s', (path, domain) => {
    expect(decideActivation([path])).toMatchObject({ activation: 'reload', reloadDomains: [domain] });
  });

  it('reloads automations and scripts for a blueprint of unknown kind', () => {
    expect(decideActivation(['blueprints/custom/thing.yaml']).reloadDomains).toEqual(['script', 'automation']);
  });

  it.each(['configuration.yaml', 'packages/kitchen.yaml', 'custom_components/hacs/__init__.py', 'sensors.yaml', 'includes/binary_sensors.yaml'])(
    'restarts for %s',
    (path) => {
      expect(decideActivation([path]).activation).toBe('restart');
    },
  );

  it.each(['www/floorplan.png', 'www/cards/card.js', 'README.md', 'LICENSE', '.gitignore', '.github/workflows/check.yaml', 'ui-lovelace.yaml', 'dashboards/wall.yaml', 'esphome/porch.yaml', 'lanyard.yaml', 'shell/backup.sh'])(
    'needs nothing for %s',
    (path) => {
      expect(decideActivation([path])).toEqual({ activation: 'none', reloadDomains: [], reasons: [{ path, need: 'none', why: expect.any(String) }] });
    },
  );

  it('restarts when one change needs it, however many others only reload, and says why first', () => {
    const decision = decideActivation(['automations.yaml', 'scripts.yaml', 'custom_components/x/sensor.py']);
    expect(decision.activation).toBe('restart');
    expect(decision.reloadDomains).toEqual([]);
    expect(decision.reasons[0]).toEqual({ path: 'custom_components/x/sensor.py', need: 'restart', why: 'custom integrations are Python code loaded at start-up' });
  });

  it('reloads each domain once, helpers before the automations that use them', () => {
    const decision = decideActivation(['automations.yaml', 'input_boolean.yaml', 'automations/extra.yaml'], ['scripts.yaml']);
    expect(decision.reloadDomains).toEqual(['input_boolean', 'script', 'automation']);
    expect(decision.reasons.find((r) => r.path === 'scripts.yaml')?.why).toMatch(/^deleted: /);
  });

  it('only names reloads Home Assistant offers', () => {
    for (const rule of ACTIVATION_RULES) {
      if (rule.need.kind === 'reload') for (const domain of rule.need.domains) expect(Object.keys(RELOAD_SERVICES)).toContain(domain);
    }
  });
});

describe('lanyard.yaml activation overrides', () => {
  it('take precedence over the built-in map', () => {
    const decision = decideActivation(['packages/helpers.yaml', 'packages/heating.yaml'], [], {
      'packages/helpers.yaml': 'reload:input_boolean,input_number',
      'packages/**': 'restart',
    });
    expect(decision.activation).toBe('restart');
    expect(decision.reasons.find((r) => r.path === 'packages/helpers.yaml')).toEqual({
      path: 'packages/helpers.yaml',
      need: 'reload:input_boolean,input_number',
      why: 'lanyard.yaml activation "packages/helpers.yaml": reload:input_boolean,input_number',
    });
  });

  it('can turn a restart into nothing', () => {
    expect(decideActivation(['custom_components/x/icons.json'], [], { 'custom_components/x/icons.json': 'none' }).activation).toBe('none');
  });
});

describe('configuration.yaml compared key by key', () => {
  const before = 'homeassistant:\n  name: Home\n  packages: !include_dir_named packages\nautomation: !include automations.yaml\ninput_boolean:\n  guest: {}\n';

  it('reloads when only reloadable sections changed', () => {
    const after = before.replace('guest: {}', 'guest: {}\n  party: {}').replace('name: Home', 'name: Cabin');
    const decision = decideActivation(['configuration.yaml'], [], {}, { configurationYaml: { before, after } });
    expect(decision).toMatchObject({ activation: 'reload', reloadDomains: ['homeassistant', 'input_boolean'] });
  });

  it('needs nothing when only comments changed', () => {
    const decision = decideActivation(['configuration.yaml'], [], {}, { configurationYaml: { before, after: `# my house\n${before}` } });
    expect(decision.activation).toBe('none');
  });

  it('restarts when a start-up section changes, including homeassistant: packages', () => {
    const withSensor = decideActivation(['configuration.yaml'], [], {}, { configurationYaml: { before, after: `${before}sensor: []\n` } });
    expect(withSensor.activation).toBe('restart');
    const packages = decideActivation(['configuration.yaml'], [], {}, { configurationYaml: { before, after: before.replace('!include_dir_named packages', '!include_dir_merge_named packages') } });
    expect(packages.activation).toBe('restart');
    expect(packages.reasons[0]?.why).toContain('packages');
  });

  it('restarts when the old text is unknown or does not parse', () => {
    expect(decideActivation(['configuration.yaml'], [], {}, { configurationYaml: { before: null, after: before } }).activation).toBe('restart');
    expect(decideActivation(['configuration.yaml'], [], {}, { configurationYaml: { before, after: 'a: [' } }).activation).toBe('restart');
  });

  it('names the top-level keys that changed, treating `!include` targets as values', () => {
    expect(changedTopLevelKeys('automation: !include a.yaml\nscript: !include s.yaml\n', 'automation: !include b.yaml\nscript: !include s.yaml\n')).toEqual(['automation']);
  });
});
