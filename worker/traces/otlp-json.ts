// The OTLP/HTTP JSON shape of a trace export (opentelemetry-proto, ExportTraceServiceRequest, in the
// protobuf JSON mapping OTLP prescribes): field names in lowerCamelCase, trace and span ids as hex
// strings (not base64), times as decimal strings of nanoseconds, enums as their integers, and
// attributes as `{key, value: {stringValue | intValue | boolValue}}` (64-bit ints as strings).

export type OtlpAnyValue = { stringValue: string } | { intValue: string } | { boolValue: boolean };
export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

/** SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
export const SPAN_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;
/** Status.StatusCode: 0 unset (the usual for success), 1 ok, 2 error. */
export const STATUS_CODE = { unset: 0, ok: 1, error: 2 } as const;

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  /** Absent on the root span. */
  parentSpanId?: string;
  name: string;
  kind: (typeof SPAN_KIND)[keyof typeof SPAN_KIND];
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpKeyValue[];
  status: { code: (typeof STATUS_CODE)[keyof typeof STATUS_CODE]; message?: string };
}

export interface OtlpResourceSpans {
  resource: { attributes: OtlpKeyValue[] };
  scopeSpans: { scope: { name: string; version: string }; spans: OtlpSpan[] }[];
}

export interface OtlpTraceRequest {
  resourceSpans: OtlpResourceSpans[];
}

/** Milliseconds since the epoch (possibly fractional) as OTLP's nanosecond string. */
export function unixNano(ms: number): string {
  const whole = Math.floor(ms);
  const fraction = Math.round((ms - whole) * 1_000_000);
  return (BigInt(whole) * 1_000_000n + BigInt(fraction)).toString();
}

/** Attributes from a record; null and undefined values are left out (OTLP has no null). */
export function attributes(values: Record<string, string | number | boolean | null | undefined>): OtlpKeyValue[] {
  const out: OtlpKeyValue[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (value === null || value === undefined) continue;
    if (typeof value === 'string') out.push({ key, value: { stringValue: value } });
    else if (typeof value === 'boolean') out.push({ key, value: { boolValue: value } });
    else out.push({ key, value: { intValue: String(Math.round(value)) } });
  }
  return out;
}
