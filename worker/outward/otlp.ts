// Issue 20, traces: a deployment's trace to an OpenTelemetry collector (or Grafana Tempo, or any
// OTLP/HTTP receiver) as JSON. OTLP_ENDPOINT is the full URL (…/v1/traces); OTLP_HEADERS holds its
// headers the way OTEL_EXPORTER_OTLP_HEADERS does: `key=value` pairs, comma-separated, values
// percent-decoded. Read at each attempt, so no header (a token) ever sits in the outbox. The
// collector's answers map as OTLP says: 429, 502, 503, 504 (and other 5xx) are retried, other 4xx not.
import { attempt, type Attempt } from './attempt.ts';
import { USER_AGENT } from './github.ts';
import type { OtlpTraceRequest } from '../traces/otlp-json.ts';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `Authorization=Bearer x,X-Scope-OrgID=home` → headers; a pair that is no header is skipped with a warning. */
export function otlpHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    if (!pair.trim()) continue;
    const at = pair.indexOf('=');
    const name = at > 0 ? pair.slice(0, at).trim() : '';
    let value = at > 0 ? pair.slice(at + 1).trim() : '';
    try {
      value = decodeURIComponent(value);
    } catch {
      // Not percent-encoded after all: taken as written.
    }
    if (!HEADER_NAME.test(name) || /[\r\n\0]/.test(value)) {
      console.warn(`OTLP_HEADERS: skipped an entry that is not name=value (${name ? `name ${name}` : 'no name'})`);
      continue;
    }
    headers[name] = value;
  }
  return headers;
}

export function postOtlp(settings: { url: string; headers: Record<string, string> }, request: OtlpTraceRequest): Promise<Attempt> {
  return attempt(settings.url, {
    method: 'POST',
    headers: { 'User-Agent': USER_AGENT, ...settings.headers, 'Content-Type': 'application/json' },
    body: JSON.stringify(request),
  });
}
