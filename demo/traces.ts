// The demo's trace step (issue 20): an OpenTelemetry collector stand-in on 127.0.0.1 receives each
// deployment's trace from the edge's outbox, and the demo prints the span tree of one: the edge's
// delivery → queue → dispatch, and under dispatch every step the relay ran.
//
// Wiring (run-demo.ts): `const traces = await startTraceDemo();` before the edge starts,
// `...traces.vars` into the edge's vars, `cleanups.push(() => traces.close())`, and after a
// deployment ended `await traces.show(deploymentId)`.
import { startOtlpCollector, type CollectedSpan } from '../test/support/otlp-collector-standin.ts';
import { freePort, waitFor } from '../test/support/ports.ts';

export interface TraceDemo {
  /** For the edge's vars: where it exports traces. */
  vars: { OTLP_ENDPOINT: string };
  /** Waits for the deployment's trace at the collector and prints its tree. */
  show(deploymentId: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function treeLines(spans: CollectedSpan[]): string[] {
  const start = spans.reduce((min, s) => (BigInt(s.startTimeUnixNano) < min ? BigInt(s.startTimeUnixNano) : min), BigInt(spans[0]!.startTimeUnixNano));
  const ms = (nanos: string) => Number((BigInt(nanos) - start) / 1_000_000n);
  const children = new Map<string | undefined, CollectedSpan[]>();
  for (const s of spans) children.set(s.parentSpanId, [...(children.get(s.parentSpanId) ?? []), s]);
  const lines: string[] = [`trace ${spans[0]!.traceId}`];
  const walk = (span: CollectedSpan, depth: number) => {
    const fact = span.attrs['lanyard.step.message'] ?? span.attrs['lanyard.deployment.status'] ?? '';
    lines.push(`${`${'  '.repeat(depth)}${span.name}`.padEnd(22)} ${span.service.padEnd(13)} ${span.spanId}  +${ms(span.startTimeUnixNano)}…${ms(span.endTimeUnixNano)} ms  ${String(fact).slice(0, 70)}`);
    const next = (children.get(span.spanId) ?? []).sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
    for (const child of next) walk(child, depth + 1);
  };
  for (const root of children.get(undefined) ?? []) walk(root, 0);
  return lines;
}

export async function startTraceDemo(): Promise<TraceDemo> {
  const collector = await startOtlpCollector(await freePort());
  return {
    vars: { OTLP_ENDPOINT: collector.url },
    async show(deploymentId, timeoutMs = 30_000) {
      const spans = await waitFor(`the trace of ${deploymentId} at the collector`, async () => {
        const found = collector.traceOf(deploymentId);
        return found.length ? found : null;
      }, timeoutMs, 200);
      console.log(`  OTLP collector stand-in ${collector.url} received (service, span id, times from the trace's start):`);
      for (const line of treeLines(spans)) console.log(`    ${line}`);
    },
    close: () => collector.stop(),
  };
}
