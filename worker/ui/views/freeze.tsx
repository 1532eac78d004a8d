/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The freeze on the target page (issue 18): the banner everyone sees while one holds ("frozen until
// … by … because …", inside `#live`, so it comes and goes as the hub says), and the operator's
// control to freeze (outside `#live`, so a refresh never wipes a reason being typed).
import type { Freeze } from '../../../shared/freeze.ts';
import { MAX_FREEZE_REASON_CHARS } from '../../../shared/freeze.ts';
import { Badge, Time } from './parts.tsx';

/** The lengths the freeze form offers, in hours; "" freezes until someone unfreezes. */
export const FREEZE_LENGTHS: ReadonlyArray<{ hours: string; label: string }> = [
  { hours: '1', label: '1 hour' },
  { hours: '4', label: '4 hours' },
  { hours: '24', label: '1 day' },
  { hours: '72', label: '3 days' },
  { hours: '168', label: '1 week' },
  { hours: '336', label: '2 weeks' },
  { hours: '', label: 'until someone unfreezes it' },
];

export function FreezeBanner(props: { target: string; freeze: Freeze | null; queued: number; operator: boolean; now: number }) {
  const f = props.freeze;
  if (!f) return null;
  return (
    <section class="card notice" id="freeze" data-freeze data-frozen-by={f.by} data-frozen-until={f.until === null ? '' : new Date(f.until).toISOString()}>
      <p>
        <Badge state="frozen" /> <strong>Frozen</strong>{' '}
        {f.until === null ? (
          <span>until someone unfreezes it</span>
        ) : (
          <span>
            until <Time at={f.until} />
          </span>
        )}{' '}
        by <strong data-frozen-field="by">{f.by}</strong> because <span data-frozen-field="reason">{f.reason}</span>
      </p>
      <p class="small">
        Since <Time at={f.at} now={props.now} />. Pushes are still recorded and queued (the latest wins); nothing is deployed until the freeze ends
        {props.queued ? `, and ${props.queued} deployment${props.queued === 1 ? ' waits' : 's wait'} for it` : ''}. An admin can still roll back (break glass, audited).
      </p>
      {props.operator ? (
        <p>
          <a class="button" data-action="unfreeze" href={`/targets/${props.target}/unfreeze`}>
            Unfreeze…
          </a>
        </p>
      ) : null}
    </section>
  );
}

/** One line for the overview: a frozen target says so, until when, by whom and why. */
export function FrozenLine(props: { freeze: Freeze | null }) {
  const f = props.freeze;
  if (!f) return null;
  return (
    <p class="small" data-frozen>
      <Badge state="frozen" /> until {f.until === null ? 'someone unfreezes it' : <Time at={f.until} />} by {f.by} because {f.reason}
    </p>
  );
}

export function FreezeControl(props: { target: string; frozen: boolean }) {
  return (
    <form method="get" action={`/targets/${props.target}/freeze`} data-control="freeze">
      <div>
        <label for="freeze-reason">{props.frozen ? 'Change the freeze: why' : 'Freeze deploys: why (everyone sees it)'}</label>
        <input id="freeze-reason" type="text" name="reason" maxlength={MAX_FREEZE_REASON_CHARS} autocomplete="off" placeholder="e.g. family visiting, no changes until Monday" required />
      </div>
      <div>
        <label for="freeze-for">For</label>
        <select id="freeze-for" name="for">
          {FREEZE_LENGTHS.map((l) => (
            <option value={l.hours} selected={l.hours === '24'}>
              {l.label}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label for="freeze-until">or until (optional, with its offset)</label>
        <input id="freeze-until" type="text" name="until" autocomplete="off" spellcheck={false} placeholder="2026-12-27T09:00:00+01:00" />
      </div>
      <button type="submit">{props.frozen ? 'Change the freeze…' : 'Freeze…'}</button>
    </form>
  );
}
