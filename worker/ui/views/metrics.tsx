/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The metrics of a target as `computeMetrics` gives them (the numbers the API answers), and
// deployments per day as a small inline SVG bar chart drawn on the server: no script, no library.
import type { Metrics } from '../../../shared/api.ts';
import { duration, percent } from '../format.ts';

const WIDTH = 300;
const HEIGHT = 64;

export function MetricsPanel(props: { metrics: Metrics; days: number }) {
  const m = props.metrics;
  const tiles: { key: string; label: string; value: number | null; text: string }[] = [
    { key: 'successRate', label: 'success rate', value: m.successRate, text: percent(m.successRate) },
    { key: 'averageDurationMs', label: 'average duration', value: m.averageDurationMs, text: duration(m.averageDurationMs) },
    { key: 'rollbackRate', label: 'rollback rate', value: m.rollbackRate, text: percent(m.rollbackRate) },
    { key: 'meanTimeToRecoveryMs', label: 'mean time to recovery', value: m.meanTimeToRecoveryMs, text: duration(m.meanTimeToRecoveryMs) },
    { key: 'finished', label: 'deployments that ran', value: m.finished, text: String(m.finished) },
  ];
  return (
    <section class="card" id="metrics">
      <h2>Metrics</h2>
      <div class="metrics">
        {tiles.map((t) => (
          <div class="metric" data-metric={t.key} data-value={t.value === null ? 'null' : String(t.value)}>
            <b>{t.text}</b>
            <span>{t.label}</span>
          </div>
        ))}
      </div>
      <p class="muted small">
        Rates and averages over every deployment that ran ({m.succeeded} succeeded, {m.failed} failed, {m.rolledBack} rolled back); superseded
        and cancelled ones never touched the house.
      </p>
      <h3>Deployments per day, last {props.days} days (UTC)</h3>
      <DeploymentsChart perDay={m.perDay} />
    </section>
  );
}

export function DeploymentsChart(props: { perDay: Metrics['perDay'] }) {
  const days = props.perDay;
  const total = days.reduce((sum, d) => sum + d.total, 0);
  const busiest = Math.max(0, ...days.map((d) => d.total));
  const max = Math.max(1, busiest);
  const slot = WIDTH / Math.max(1, days.length);
  const bar = Math.max(1, slot - 2);
  const scale = (n: number) => (n / max) * HEIGHT;
  const label = `${total} deployment${total === 1 ? '' : 's'} in ${days.length} days; at most ${busiest} a day`;
  return (
    <>
      <svg class="chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label={label} data-chart="per-day">
        {days.map((d, i) => {
          const x = (i * slot + 1).toFixed(2);
          const ok = scale(d.succeeded);
          const bad = scale(d.failed);
          return (
            <g data-day={d.day} data-total={d.total} data-succeeded={d.succeeded} data-failed={d.failed}>
              <title>{`${d.day}: ${d.total} deployment${d.total === 1 ? '' : 's'} (${d.succeeded} succeeded, ${d.failed} failed or rolled back)`}</title>
              {d.total === 0 ? <rect class="none" x={x} y={HEIGHT - 1} width={bar.toFixed(2)} height="1" /> : null}
              {ok > 0 ? <rect class="ok" x={x} y={(HEIGHT - ok).toFixed(2)} width={bar.toFixed(2)} height={ok.toFixed(2)} /> : null}
              {bad > 0 ? <rect class="bad" x={x} y={(HEIGHT - ok - bad).toFixed(2)} width={bar.toFixed(2)} height={bad.toFixed(2)} /> : null}
            </g>
          );
        })}
      </svg>
      {days.length ? (
        <div class="chart-axis">
          <span>{days[0]!.day}</span>
          <span>{days[days.length - 1]!.day}</span>
        </div>
      ) : null}
      <div class="legend">
        <span>
          <i class="ok" />
          succeeded
        </span>
        <span>
          <i class="bad" />
          failed or rolled back
        </span>
        <span>
          {total} in {days.length} days, at most {busiest} a day
        </span>
      </div>
    </>
  );
}
