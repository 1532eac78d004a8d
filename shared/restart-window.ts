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
