// Restart windows read on the house's wall clock: edge minutes, midnight, and the two nights a year
// the clock jumps (Europe/Amsterdam and America/New_York), plus properties over any instant.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWithinRestartWindow, localTimeLabel, nextRestartWindowOpening } from '../../shared/restart-window.ts';

const AMS = 'Europe/Amsterdam';
const NY = 'America/New_York';
const night = ['02:00-05:00'];

/** An instant from a UTC ISO time. */
const utc = (iso: string): number => Date.parse(iso);

describe('inside a window', () => {
  it('reads the edge minutes on the local clock: 01:59 out, 02:00 in, 04:59 in, 05:00 out', () => {
    // 3 December: Amsterdam is UTC+1.
    expect(isWithinRestartWindow(night, AMS, utc('2026-12-03T00:59:00Z'))).toBe(false);
    expect(isWithinRestartWindow(night, AMS, utc('2026-12-03T00:59:59Z'))).toBe(false);
    expect(isWithinRestartWindow(night, AMS, utc('2026-12-03T01:00:00Z'))).toBe(true);
    expect(isWithinRestartWindow(night, AMS, utc('2026-12-03T03:59:00Z'))).toBe(true);
    expect(isWithinRestartWindow(night, AMS, utc('2026-12-03T03:59:59Z'))).toBe(true);
    expect(isWithinRestartWindow(night, AMS, utc('2026-12-03T04:00:00Z'))).toBe(false);
  });

  it('follows summer time: 02:00 Amsterdam is 00:00 UTC in July', () => {
    expect(isWithinRestartWindow(night, AMS, utc('2026-07-01T23:59:00Z'))).toBe(false);
    expect(isWithinRestartWindow(night, AMS, utc('2026-07-02T00:00:00Z'))).toBe(true);
    expect(isWithinRestartWindow(night, AMS, utc('2026-07-02T02:59:00Z'))).toBe(true);
    expect(isWithinRestartWindow(night, AMS, utc('2026-07-02T03:00:00Z'))).toBe(false);
  });

  it('runs a window past midnight: 22:00-02:00', () => {
    const late = ['22:00-02:00'];
    expect(isWithinRestartWindow(late, 'UTC', utc('2026-12-03T21:59:00Z'))).toBe(false);
    expect(isWithinRestartWindow(late, 'UTC', utc('2026-12-03T22:00:00Z'))).toBe(true);
    expect(isWithinRestartWindow(late, 'UTC', utc('2026-12-04T00:00:00Z'))).toBe(true);
    expect(isWithinRestartWindow(late, 'UTC', utc('2026-12-04T01:59:00Z'))).toBe(true);
    expect(isWithinRestartWindow(late, 'UTC', utc('2026-12-04T02:00:00Z'))).toBe(false);
    expect(isWithinRestartWindow(late, 'UTC', utc('2026-12-04T12:00:00Z'))).toBe(false);
  });

  it('takes any of several windows', () => {
    const two = ['02:00-03:00', '13:00-13:30'];
    expect(isWithinRestartWindow(two, 'UTC', utc('2026-12-03T13:15:00Z'))).toBe(true);
    expect(isWithinRestartWindow(two, 'UTC', utc('2026-12-03T13:30:00Z'))).toBe(false);
  });

  it('with no windows, is always inside', () => {
    expect(isWithinRestartWindow([], AMS, utc('2026-12-03T12:34:00Z'))).toBe(true);
    expect(nextRestartWindowOpening([], AMS, utc('2026-12-03T12:34:56Z'))).toBe(utc('2026-12-03T12:34:56Z'));
  });
});

describe('next opening', () => {
  it('is the window start on the local clock, or now when inside', () => {
    expect(nextRestartWindowOpening(night, AMS, utc('2026-12-03T12:00:00Z'))).toBe(utc('2026-12-04T01:00:00Z'));
    expect(nextRestartWindowOpening(night, AMS, utc('2026-12-03T00:59:30Z'))).toBe(utc('2026-12-03T01:00:00Z'));
    expect(nextRestartWindowOpening(night, AMS, utc('2026-12-03T02:10:00Z'))).toBe(utc('2026-12-03T02:10:00Z'));
    // 05:00 exactly is out: the next opening is the following night.
    expect(nextRestartWindowOpening(night, AMS, utc('2026-12-03T04:00:00Z'))).toBe(utc('2026-12-04T01:00:00Z'));
  });

  it('on the night summer time begins in Amsterdam (29 March 2026, 02:00 → 03:00), opens at 03:00 CEST', () => {
    // 02:00 local does not exist that night; the first minute after it in 02:00-05:00 is 03:00 CEST = 01:00 UTC.
    expect(nextRestartWindowOpening(night, AMS, utc('2026-03-28T22:00:00Z'))).toBe(utc('2026-03-29T01:00:00Z'));
    expect(isWithinRestartWindow(night, AMS, utc('2026-03-29T00:59:00Z'))).toBe(false); // 01:59 CET
    expect(isWithinRestartWindow(night, AMS, utc('2026-03-29T01:00:00Z'))).toBe(true); // 03:00 CEST
    // A window wholly inside the skipped hour opens the next night instead.
    expect(nextRestartWindowOpening(['02:15-02:45'], AMS, utc('2026-03-28T22:00:00Z'))).toBe(utc('2026-03-30T00:15:00Z'));
    // A start after the jump is found where the clock shows it, not an hour late.
    expect(nextRestartWindowOpening(['03:30-04:00'], AMS, utc('2026-03-28T23:00:00Z'))).toBe(utc('2026-03-29T01:30:00Z'));
  });

  it('on the night summer time ends in Amsterdam (25 October 2026, 03:00 → 02:00), opens once at 02:00 CEST', () => {
    expect(nextRestartWindowOpening(night, AMS, utc('2026-10-24T22:00:00Z'))).toBe(utc('2026-10-25T00:00:00Z'));
    // The window lasts four real hours that night (02:00 CEST … 05:00 CET).
    expect(isWithinRestartWindow(night, AMS, utc('2026-10-25T03:59:00Z'))).toBe(true);
    expect(isWithinRestartWindow(night, AMS, utc('2026-10-25T04:00:00Z'))).toBe(false);
    // A start after the repeated hour is at its CET time.
    expect(nextRestartWindowOpening(['04:00-04:30'], AMS, utc('2026-10-24T22:00:00Z'))).toBe(utc('2026-10-25T03:00:00Z'));
  });

  it('in New York, across its own dates (8 March and 1 November 2026)', () => {
    // 02:00 EST does not exist on 8 March: opens at 03:00 EDT = 07:00 UTC.
    expect(nextRestartWindowOpening(night, NY, utc('2026-03-08T05:00:00Z'))).toBe(utc('2026-03-08T07:00:00Z'));
    // 1 November: 02:00 EDT → 01:00 EST; 02:00 EST = 07:00 UTC.
    expect(nextRestartWindowOpening(night, NY, utc('2026-11-01T04:00:00Z'))).toBe(utc('2026-11-01T07:00:00Z'));
    expect(nextRestartWindowOpening(['01:30-01:45'], NY, utc('2026-11-01T04:00:00Z'))).toBe(utc('2026-11-01T05:30:00Z'));
  });

  it('runs past midnight', () => {
    expect(nextRestartWindowOpening(['22:00-02:00'], AMS, utc('2026-12-03T12:00:00Z'))).toBe(utc('2026-12-03T21:00:00Z'));
  });

  it('says the local time for people', () => {
    expect(localTimeLabel(AMS, utc('2026-12-04T01:00:00Z'))).toBe('Fri 4 Dec, 02:00');
  });
});

describe('properties', () => {
  const zones = fc.constantFrom('UTC', AMS, NY, 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/St_Johns', 'Pacific/Chatham');
  const hhmm = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  const window = fc.tuple(hhmm, hhmm).filter(([a, b]) => a !== b).map(([a, b]) => `${a}-${b}`);
  const instant = fc.integer({ min: utc('2024-01-01T00:00:00Z'), max: utc('2030-12-31T00:00:00Z') });

  it('the next opening is inside a window and no earlier whole minute after `after` is', () => {
    fc.assert(
      fc.property(fc.array(window, { minLength: 1, maxLength: 3 }), zones, instant, (windows, zone, after) => {
        const opening = nextRestartWindowOpening(windows, zone, after);
        if (opening === null) return; // a window the clock never shows within eight days
        expect(opening).toBeGreaterThanOrEqual(after);
        expect(isWithinRestartWindow(windows, zone, opening)).toBe(true);
        if (opening > after) {
          expect(isWithinRestartWindow(windows, zone, after)).toBe(false);
          // Every whole minute in between is outside (a sample of them, to stay quick).
          const first = Math.ceil(after / 60_000) * 60_000;
          const step = Math.max(60_000, Math.floor((opening - first) / 60_000 / 40) * 60_000);
          for (let at = first; at < opening; at += step) expect(isWithinRestartWindow(windows, zone, at)).toBe(false);
          expect(isWithinRestartWindow(windows, zone, opening - 60_000)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a window of at least an hour opens within a day', () => {
    fc.assert(
      fc.property(zones, instant, fc.integer({ min: 0, max: 23 }), (zone, after, hour) => {
        const start = `${String(hour).padStart(2, '0')}:00`;
        const end = `${String((hour + 2) % 24).padStart(2, '0')}:00`;
        const opening = nextRestartWindowOpening([`${start}-${end}`], zone, after);
        expect(opening).not.toBeNull();
        expect(opening! - after).toBeLessThanOrEqual(25 * 3_600_000);
      }),
      { numRuns: 200 },
    );
  });

  it('no windows: always inside, and the opening is now', () => {
    fc.assert(
      fc.property(zones, instant, (zone, at) => {
        expect(isWithinRestartWindow([], zone, at)).toBe(true);
        expect(nextRestartWindowOpening([], zone, at)).toBe(at);
      }),
    );
  });
});
