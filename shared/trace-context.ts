// W3C trace context (https://www.w3.org/TR/trace-context/) as both peers use it: the edge hands the
// relay a job's `traceparent`, and the relay names each step's span by its ids. Only the ids travel
// (lowercase hex, never all zeros); what a span becomes in OpenTelemetry is the edge's business.
import { z } from 'zod';

export const TRACE_ID_PATTERN = /^(?!0{32})[0-9a-f]{32}$/;
export const SPAN_ID_PATTERN = /^(?!0{16})[0-9a-f]{16}$/;

export const TraceId = z.string().regex(TRACE_ID_PATTERN, '32 lowercase hex digits, not all zeros');
export const SpanId = z.string().regex(SPAN_ID_PATTERN, '16 lowercase hex digits, not all zeros');

/**
 * A step's span as the relay made it: its own id, in the job's trace, under the job's span (the
 * parent `job.traceparent` named). Sent on the step's `started` event and on the event that ends it.
 */
export const StepSpan = z.object({ traceId: TraceId, spanId: SpanId, parentSpanId: SpanId });
export type StepSpan = z.infer<typeof StepSpan>;

export interface TraceParent {
  traceId: string;
  parentSpanId: string;
  sampled: boolean;
}

/** Reads a version-00 `traceparent`; null for anything else (another version, all-zero ids). */
export function parseTraceparent(value: string): TraceParent | null {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value);
  if (!match || !TRACE_ID_PATTERN.test(match[1]!) || !SPAN_ID_PATTERN.test(match[2]!)) return null;
  return { traceId: match[1]!, parentSpanId: match[2]!, sampled: (parseInt(match[3]!, 16) & 1) === 1 };
}

/** `00-<trace id>-<span id>-01`: sampled, since every deployment's trace is exported. */
export function formatTraceparent(traceId: string, spanId: string): string {
  return `00-${traceId}-${spanId}-01`;
}

/** A fresh span id: 8 random bytes, as W3C asks, never all zeros. */
export function randomSpanId(): string {
  for (;;) {
    const id = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');
    if (SPAN_ID_PATTERN.test(id)) return id;
  }
}
