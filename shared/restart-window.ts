// Restart windows: the hours, in the house's own time zone, when Lanyard may restart Home Assistant.
// A deploy that needs only reloads runs at once; one that needs a restart is checked at once and
// waits for the window (worker/hub/restart-windows.ts). Shared by the edge's TARGETS schema and the page.
import { z } from 'zod';

/** `HH:MM-HH:MM`, 24-hour local time; the end is not in it; `22:00-02:00` runs past midnight. */
export const RestartWindow = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, 'a window as HH:MM-HH:MM in 24-hour local time, e.g. 02:00-05:00')
  .refine((w) => w.slice(0, 5) !== w.slice(6), 'a window whose start and end differ (leave restartWindows empty to restart at any time)');
export type RestartWindow = z.infer<typeof RestartWindow>;

/** An IANA time zone the runtime knows, e.g. `Europe/Amsterdam`. */
export const TimeZone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone such as Europe/Amsterdam or America/New_York');

const MINUTE_MS = 60_000;
const MINUTES_PER_DAY = 24 * 60;
/** How far ahead an opening is looked for: a week and a day covers every daily window, DST days included. */
const SEARCH_HORIZON_MS = 8 * MINUTES_PER_DAY * MINUTE_MS;

/** A window as local minutes of the day, `end` not included; `start > end` runs past midnight. */
interface WindowMinutes {
  start: number;
  end: number;
}

function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

function windowMinutes(window: string): WindowMinutes {
  return { start: minutesOf(window.slice(0, 5)), end: minutesOf(window.slice(6, 11)) };
}

function coversMinute(window: WindowMinutes, minuteOfDay: number): boolean {
  return window.start < window.end
    ? minuteOfDay >= window.start && minuteOfDay < window.end
    : minuteOfDay >= window.start || minuteOfDay < window.end;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The local wall clock at an instant, as the fields of a UTC date (so its offset is `wall - at`). */
function wallClock(timeZone: string, at: number): { wallMs: number; minuteOfDay: number } {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(at)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  const hour = (fields.hour ?? 0) % 24; // some runtimes still say 24 for midnight
  const minute = fields.minute ?? 0;
  const wallMs = Date.UTC(fields.year ?? 1970, (fields.month ?? 1) - 1, fields.day ?? 1, hour, minute, fields.second ?? 0);
  return { wallMs, minuteOfDay: hour * 60 + minute };
}

/** The zone's offset from UTC at an instant, in minutes (Amsterdam in summer: 120). */
function offsetMinutes(timeZone: string, at: number): number {
  const whole = Math.floor(at / 1000) * 1000;
  return Math.round((wallClock(timeZone, whole).wallMs - whole) / MINUTE_MS);
}

/**
 * Whether `at` falls in one of the windows, read on the local wall clock of `timeZone`. No windows:
 * always (a target without windows may restart at any time).
 */
export function isWithinRestartWindow(windows: readonly string[], timeZone: string, at: number): boolean {
  if (windows.length === 0) return true;
  const { minuteOfDay } = wallClock(timeZone, at);
  return windows.some((w) => coversMinute(windowMinutes(w), minuteOfDay));
}

/** Local minutes from `minuteOfDay` to the nearest window start ahead (1…1440). */
function minutesToNextStart(windows: readonly WindowMinutes[], minuteOfDay: number): number {
  let nearest = MINUTES_PER_DAY;
  for (const w of windows) {
    const ahead = (w.start - minuteOfDay + MINUTES_PER_DAY) % MINUTES_PER_DAY;
    if (ahead > 0 && ahead < nearest) nearest = ahead;
  }
  return nearest;
}

/** The first whole minute in (from, to] whose offset differs from `from`'s (there is one: the caller saw it at `to`). */
function firstMinuteOfNewOffset(timeZone: string, from: number, to: number): number {
  const before = offsetMinutes(timeZone, from);
  let low = from; // same offset as `from`
  let high = to; // a different one
  while (high - low > MINUTE_MS) {
    const middle = low + Math.floor((high - low) / MINUTE_MS / 2) * MINUTE_MS;
    if (offsetMinutes(timeZone, middle) === before) low = middle;
    else high = middle;
  }
  return high;
}

/**
 * The first instant at or after `after` that is inside a window: `after` itself when it already is
 * (or when there are no windows), else the minute a window opens. A start the clock skips (02:30 on
 * the night summer time begins) opens at the first local minute after it that is in the window.
 * Null when none opens within eight days (a window that never exists in that zone).
 *
 * Cheap: it jumps to the next window start on the local clock, and only when the zone's offset
 * changes on the way does it look for the change (a binary search over minutes) and go on from there.
 */
export function nextRestartWindowOpening(windows: readonly string[], timeZone: string, after: number): number | null {
  if (isWithinRestartWindow(windows, timeZone, after)) return after;
  const parsed = windows.map(windowMinutes);
  const horizon = after + SEARCH_HORIZON_MS;
  let at = Math.ceil(after / MINUTE_MS) * MINUTE_MS;
  while (at <= horizon) {
    const { minuteOfDay } = wallClock(timeZone, at);
    if (parsed.some((w) => coversMinute(w, minuteOfDay))) return at;
    const jumpTo = at + minutesToNextStart(parsed, minuteOfDay) * MINUTE_MS;
    at = offsetMinutes(timeZone, jumpTo) === offsetMinutes(timeZone, at) ? jumpTo : firstMinuteOfNewOffset(timeZone, at, jumpTo);
  }
  return null;
}

/** An instant on the house's clock for people, e.g. `Thu 4 Dec, 02:00`. */
export function localTimeLabel(timeZone: string, at: number): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(at);
}
