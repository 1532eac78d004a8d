// Text of an exact size, made of records that a real file of that kind would hold, so it
// compresses like the real thing (YAML ~5x, Python ~4x, minified JavaScript ~3x with gzip) and
// stays syntactically whole: records are never cut, and the gap to the exact size is closed by
// filler inside a comment or a string that the format allows there. All filler is ASCII, so a
// string's length is its size in bytes.
import type { Prng } from './random.ts';

export const ROOMS = [
  'kitchen', 'living_room', 'hallway', 'bedroom', 'kids_room', 'office', 'bathroom', 'garage', 'garden', 'attic',
  'basement', 'laundry', 'porch', 'dining_room', 'guest_room', 'driveway', 'terrace', 'stairs', 'utility', 'shed',
] as const;

export const DOMAINS = ['light', 'switch', 'sensor', 'binary_sensor', 'cover', 'climate', 'media_player', 'fan', 'lock', 'input_boolean', 'input_number', 'person', 'device_tracker', 'vacuum', 'camera'] as const;

export const WORDS = [
  'state', 'attribute', 'entity', 'device', 'config', 'entry', 'update', 'coordinator', 'sensor', 'value', 'power',
  'energy', 'temperature', 'humidity', 'battery', 'signal', 'motion', 'door', 'window', 'light', 'brightness', 'color',
  'scene', 'schedule', 'timer', 'delay', 'trigger', 'condition', 'action', 'service', 'target', 'data', 'payload', 'topic',
  'mqtt', 'zigbee', 'zwave', 'api', 'token', 'session', 'request', 'response', 'timeout', 'retry', 'error', 'unavailable',
  'unknown', 'home', 'away', 'night', 'morning', 'evening', 'sunset', 'sunrise', 'presence', 'occupancy', 'heating',
  'cooling', 'setpoint', 'mode', 'preset', 'fan', 'speed', 'volume', 'source', 'player', 'media', 'notify', 'mobile',
  'app', 'alert', 'warning', 'critical', 'debug', 'info', 'log', 'platform', 'integration', 'component', 'discovery',
  'unique', 'id', 'name', 'icon', 'unit', 'class', 'measurement', 'total', 'increasing', 'diagnostic', 'options', 'flow',
  'step', 'user', 'reauth', 'reconfigure', 'abort', 'success', 'invalid', 'auth', 'cannot', 'connect', 'host', 'port',
  'username', 'password', 'interval', 'polling', 'push', 'cloud', 'local', 'gateway', 'bridge', 'hub', 'channel', 'zone',
  'area', 'floor', 'label', 'group', 'member', 'washer', 'dryer', 'dishwasher', 'boiler', 'solar', 'grid', 'export',
  'import', 'tariff', 'price', 'forecast', 'weather', 'wind', 'rain', 'pressure', 'outdoor', 'indoor', 'garbage',
  'collection', 'pickup', 'calendar', 'event', 'holiday', 'vacation', 'guest', 'alarm', 'armed', 'disarmed', 'siren',
] as const;

/** The parts of an exact-size text: a head, records while they fit, filler, a tail. */
export interface ExactTextShape {
  head: string;
  /** The i-th record; records are kept whole. */
  record: (i: number) => string;
  /** Around the filler: `#` and `\n` for YAML, `/*` and `*\/` for JavaScript, `"` and `"` in JSON. */
  fillOpen: string;
  fillClose: string;
  tail?: string;
  /** Filler of exactly n ASCII characters that may stand between fillOpen and fillClose. */
  filler?: (n: number) => string;
}

/**
 * Exactly `size` bytes in the given shape, or the head, one filler and tail alone when `size` is
 * too small for them (the layout keeps sizes above that floor, and the tests check every size).
 */
export function exactText(size: number, shape: ExactTextShape, random: Prng): Buffer {
  const tail = shape.tail ?? '';
  const reserve = shape.fillOpen.length + shape.fillClose.length + tail.length;
  const parts: string[] = [shape.head];
  let length = shape.head.length;
  for (let i = 0; ; i += 1) {
    const record = shape.record(i);
    if (length + record.length + reserve > size) break;
    parts.push(record);
    length += record.length;
  }
  const gap = Math.max(0, size - length - reserve);
  parts.push(shape.fillOpen, (shape.filler ?? ((n) => words(random, n)))(gap), shape.fillClose, tail);
  return Buffer.from(parts.join(''), 'latin1');
}

/** Exactly n characters of lowercase words and spaces. */
export function words(random: Prng, n: number): string {
  let out = '';
  while (out.length < n) out += `${random.pick(WORDS)} `;
  return out.slice(0, n);
}

/** A few words joined by `joiner`: `garage_door_motion`. */
export function phrase(random: Prng, count: number, joiner = '_'): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i += 1) parts.push(random.pick(WORDS));
  return parts.join(joiner);
}

/** "Garage door motion": a phrase as a human would title it. */
export function title(random: Prng, count: number): string {
  const text = phrase(random, count, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function entityId(random: Prng): string {
  return `${random.pick(DOMAINS)}.${random.pick(ROOMS)}_${random.pick(WORDS)}`;
}
