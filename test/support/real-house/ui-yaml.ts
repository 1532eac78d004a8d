// automations.yaml, scripts.yaml and scenes.yaml as Home Assistant's UI editors write them:
// PyYAML's block style with lists flush under their key, ids as quoted strings of epoch
// milliseconds, `description: ''`, `mode: single`, `metadata: {}`, 'on'/'off' and times quoted.
// No comments and no filler: the UI rewrites the whole file on every save, so these files have
// the size their records give them. A change of variant edits one record, as saving one
// automation in the UI does.
import { Prng } from './random.ts';
import { ROOMS, WORDS, title } from './text.ts';

const ICONS = ['mdi:lightbulb', 'mdi:motion-sensor', 'mdi:thermostat', 'mdi:bell', 'mdi:weather-night', 'mdi:home-export-outline', 'mdi:robot-vacuum', 'mdi:washing-machine'];
const MODES = ['single', 'single', 'single', 'restart', 'queued', 'parallel'];

/** The index of the record a variant edits, or -1 for the first commit. */
export function editedRecord(variant: number, count: number): number {
  return variant === 0 || count === 0 ? -1 : (variant * 7919) % count;
}

function recordRandom(seed: string, file: string, index: number, variant: number, count: number): Prng {
  return new Prng(seed, file, index, editedRecord(variant, count) === index ? variant : 0);
}

/** The id the UI gave a record when it was created: an edit keeps it. */
function recordId(seed: string, file: string, index: number, base: number): string {
  return String(base + index * 3_600_017 + new Prng(seed, file, index, 'id').below(1000));
}

function quotedTime(random: Prng): string {
  return `'${String(random.below(24)).padStart(2, '0')}:${String(random.below(4) * 15).padStart(2, '0')}:00'`;
}

function trigger(random: Prng, room: string): string {
  switch (random.below(4)) {
    case 0:
      return `  - trigger: state\n    entity_id:\n    - binary_sensor.${room}_motion\n    from: 'off'\n    to: 'on'\n`;
    case 1:
      return `  - trigger: time\n    at: ${quotedTime(random)}\n`;
    case 2:
      return `  - trigger: sun\n    event: ${random.chance(50) ? 'sunset' : 'sunrise'}\n    offset: -00:${String(random.below(60)).padStart(2, '0')}:00\n`;
    default:
      return `  - trigger: numeric_state\n    entity_id:\n    - sensor.${room}_temperature\n    above: ${random.between(18, 28)}\n    for:\n      hours: 0\n      minutes: ${random.below(30)}\n      seconds: 0\n`;
  }
}

function action(random: Prng, room: string, indent: string): string {
  switch (random.below(4)) {
    case 0:
      return `${indent}- action: light.turn_on\n${indent}  metadata: {}\n${indent}  data:\n${indent}    brightness_pct: ${random.between(1, 100)}\n${indent}    transition: ${random.between(0, 5)}\n${indent}  target:\n${indent}    entity_id: light.${room}_${random.pick(WORDS)}\n`;
    case 1:
      return `${indent}- action: notify.mobile_app_ada_phone\n${indent}  metadata: {}\n${indent}  data:\n${indent}    title: ${title(random, 2)}\n${indent}    message: The ${room.replace('_', ' ')} ${random.pick(WORDS)} is ${random.pick(WORDS)}\n`;
    case 2:
      return `${indent}- delay:\n${indent}    hours: 0\n${indent}    minutes: ${random.below(10)}\n${indent}    seconds: ${random.below(60)}\n${indent}    milliseconds: 0\n`;
    default:
      return `${indent}- action: climate.set_temperature\n${indent}  metadata: {}\n${indent}  data:\n${indent}    temperature: ${random.between(16, 23)}\n${indent}  target:\n${indent}    area_id: ${room}\n`;
  }
}

/** automations.yaml with `count` automations. */
export function automationsYaml(seed: string, count: number, variant: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const random = recordRandom(seed, 'automations.yaml', i, variant, count);
    const room = random.pick(ROOMS);
    const mode = random.pick(MODES);
    const description = random.chance(70) ? "''" : `${title(random, 5)}.`;
    let text = `- id: '${recordId(seed, 'automations.yaml', i, 1_700_000_000_000)}'\n  alias: ${title(random, 3)} ${room.replace('_', ' ')}\n  description: ${description}\n  triggers:\n`;
    for (let t = random.between(1, 2); t > 0; t -= 1) text += trigger(random, room);
    text += random.chance(50) ? '  conditions: []\n' : `  conditions:\n  - condition: state\n    entity_id: input_boolean.${room}_guest_mode\n    state: 'off'\n`;
    text += '  actions:\n';
    for (let a = random.between(1, 4); a > 0; a -= 1) text += action(random, room, '  ');
    text += mode === 'queued' ? '  mode: queued\n  max: 10\n' : `  mode: ${mode}\n`;
    parts.push(text);
  }
  return Buffer.from(parts.length > 0 ? parts.join('') : '[]\n');
}

/** scripts.yaml with `count` scripts, keyed by their object ids. */
export function scriptsYaml(seed: string, count: number, variant: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const random = recordRandom(seed, 'scripts.yaml', i, variant, count);
    const room = random.pick(ROOMS);
    let text = `${room}_${random.pick(WORDS)}_${i}:\n  alias: ${title(random, 2)} ${room.replace('_', ' ')}\n  sequence:\n`;
    for (let a = random.between(1, 5); a > 0; a -= 1) text += action(random, room, '  ');
    text += `  mode: single\n  icon: ${random.pick(ICONS)}\n  description: ''\n`;
    parts.push(text);
  }
  return Buffer.from(parts.length > 0 ? parts.join('') : '{}\n');
}

/** scenes.yaml with `count` scenes, each with the attribute snapshot the scene editor stores. */
export function scenesYaml(seed: string, count: number, variant: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const random = recordRandom(seed, 'scenes.yaml', i, variant, count);
    let text = `- id: '${recordId(seed, 'scenes.yaml', i, 1_710_000_000_000)}'\n  name: ${title(random, 2)}\n  entities:\n`;
    for (let e = random.between(1, 4); e > 0; e -= 1) {
      const room = random.pick(ROOMS);
      const name = `${room}_${random.pick(WORDS)}`;
      text += random.chance(70)
        ? `    light.${name}:\n      supported_color_modes:\n      - color_temp\n      - xy\n      color_mode: color_temp\n      brightness: ${random.between(1, 255)}\n      color_temp_kelvin: ${random.between(22, 65) * 100}\n      friendly_name: ${title(random, 2)}\n      supported_features: 40\n      state: 'on'\n`
        : `    media_player.${name}:\n      friendly_name: ${title(random, 2)}\n      supported_features: 152463\n      state: 'off'\n`;
    }
    text += `  icon: ${random.pick(ICONS)}\n  metadata: {}\n`;
    parts.push(text);
  }
  return Buffer.from(parts.length > 0 ? parts.join('') : '[]\n');
}
