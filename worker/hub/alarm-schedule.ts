// The hub's one alarm. A Durable Object has a single alarm, and several concerns have deadlines: a
// hello owed by a new connection, an ack owed for a job handed over, a running job's lease, an
// outward message due (again). Each says when it next needs the hub awake, and the schedule sets
// the alarm to the earliest of them. A concern that sets or moves a deadline asks for a reschedule;
// when the alarm goes off, the shell lets each concern act on what is due, then asks again.
//
// The time set is kept in meta (`alarm_at`), so whether an earlier alarm is already to come is
// known synchronously and its write is covered by the output gate. An alarm still to come is only
// ever brought forward, never pushed back: when a deadline moves later (a lease renewed), the alarm
// goes off at the old time, finds nothing due, and the next one is set then.
import type { HubMeta } from './meta.ts';

/** When a concern next needs the hub awake: its earliest deadline, due already or not; null when nothing of it waits. */
export type Deadline = (now: number) => number | null;

const ALARM_AT = 'alarm_at';

export class AlarmSchedule {
  constructor(
    private readonly meta: HubMeta,
    private readonly storage: DurableObjectStorage,
    private readonly deadlines: readonly Deadline[],
  ) {}

  /** Sets the alarm to the earliest deadline of any concern (at once when one is due), unless one still to come is as early. */
  reschedule(): void {
    const now = Date.now();
    const at = this.earliest(now, -Infinity);
    if (at !== null) this.wakeAt(Math.max(at, now));
  }

  /**
   * In the alarm, before what is due is acted on: sets the alarm for the deadlines still to come
   * (what is due now is being acted on), so a hub evicted while it acts still wakes for them.
   */
  rescheduleUpcoming(now: number): void {
    const at = this.earliest(now, now + 1);
    if (at !== null) this.wakeAt(at);
  }

  /** The earliest deadline at or after `from`, or null. */
  private earliest(now: number, from: number): number | null {
    let earliest: number | null = null;
    for (const deadline of this.deadlines) {
      const at = deadline(now);
      if (at !== null && at >= from && (earliest === null || at < earliest)) earliest = at;
    }
    return earliest;
  }

  /** Wakes the hub at `at`, unless an alarm still to come is as early. */
  wakeAt(at: number): void {
    const current = Number(this.meta.get(ALARM_AT) ?? 0);
    if (current > Date.now() && current <= at) return;
    this.meta.set(ALARM_AT, String(at));
    void this.storage.setAlarm(at);
  }

  /** The alarm went off: none is set until a concern asks. Returns the time the concerns act on. */
  fired(): number {
    const now = Date.now();
    this.meta.set(ALARM_AT, null);
    return now;
  }
}
