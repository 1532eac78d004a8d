// An OpenTelemetry collector stand-in on 127.0.0.1: accepts POST /v1/traces as OTLP/HTTP JSON,
// checks each body against the shape OTLP's JSON encoding prescribes (hex ids, nanosecond strings,
// integer enums, typed attribute values), records what it accepted and answers as a collector does
// (200 with an empty partialSuccess; 400 for a body that is not an export). It can be down: stopped,
// nothing listens on its port, and started again on the same one.
import { createServer, type Server } from 'node:http';
import { z } from 'zod';
import { closeServer } from './ports.ts';

const Hex = (bytes: number) => z.string().regex(new RegExp(`^(?!0{${bytes * 2}})[0-9a-f]{${bytes * 2}}$`), `${bytes * 2} lowercase hex digits, not all zeros`);
const Nanos = z.string().regex(/^[1-9][0-9]{0,19}$/, 'nanoseconds since the epoch as a decimal string');

export const OtlpAnyValue = z.union([
  z.object({ stringValue: z.string() }).strict(),
  z.object({ intValue: z.string().regex(/^-?[0-9]+$/) }).strict(),
  z.object({ boolValue: z.boolean() }).strict(),
  z.object({ doubleValue: z.number() }).strict(),
]);
export const OtlpKeyValue = z.object({ key: z.string().min(1), value: OtlpAnyValue }).strict();

export const OtlpSpan = z
  .object({
    traceId: Hex(16),
    spanId: Hex(8),
    parentSpanId: Hex(8).optional(),
    name: z.string().min(1),
    kind: z.number().int().min(0).max(5),
    startTimeUnixNano: Nanos,
    endTimeUnixNano: Nanos,
    attributes: z.array(OtlpKeyValue).optional(),
    status: z.object({ code: z.number().int().min(0).max(2), message: z.string().optional() }).strict().optional(),
  })
  .strict()
  .refine((s) => BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano), 'a span ends after it starts');
export type OtlpSpan = z.infer<typeof OtlpSpan>;

export const OtlpExport = z
  .object({
    resourceSpans: z.array(
      z
        .object({
          resource: z.object({ attributes: z.array(OtlpKeyValue) }).strict(),
          scopeSpans: z.array(z.object({ scope: z.object({ name: z.string(), version: z.string().optional() }).strict(), spans: z.array(OtlpSpan).min(1) }).strict()).min(1),
        })
        .strict(),
    ).min(1),
  })
  .strict();
export type OtlpExport = z.infer<typeof OtlpExport>;

/** A span with its resource's service.name, as a trace viewer groups them. */
export interface CollectedSpan extends OtlpSpan {
  service: string;
  attrs: Record<string, string | boolean>;
}

export interface CollectorRequest {
  headers: Record<string, string | string[] | undefined>;
  status: number;
  error: string | null;
  body: OtlpExport | null;
}

function valueOf(v: z.infer<typeof OtlpAnyValue>): string | boolean {
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return v.intValue;
  if ('boolValue' in v) return v.boolValue;
  return String(v.doubleValue);
}

export class OtlpCollectorStandIn {
  readonly requests: CollectorRequest[] = [];
  private server: Server | undefined;

  constructor(readonly port: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/v1/traces`;
  }

  get up(): boolean {
    return this.server !== undefined;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const answer = (status: number, error: string | null, body: OtlpExport | null) => {
        this.requests.push({ headers: req.headers, status, error, body });
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(status === 200 ? { partialSuccess: {} } : { code: 3, message: error }));
      };
      if (req.method !== 'POST' || req.url !== '/v1/traces') return answer(404, `no ${req.method} ${req.url}`, null);
      if (!/^application\/json\b/.test(String(req.headers['content-type'] ?? ''))) return answer(415, 'content type is not application/json', null);
      let json: unknown;
      try {
        json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return answer(400, 'body is not JSON', null);
      }
      const parsed = OtlpExport.safeParse(json);
      if (!parsed.success) return answer(400, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), null);
      answer(200, null, parsed.data);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Down: nothing listens on the port until start() again. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await closeServer(server);
  }

  /** Every span accepted so far, flattened with its service. */
  spans(): CollectedSpan[] {
    return this.requests.flatMap((r) =>
      (r.body?.resourceSpans ?? []).flatMap((rs) => {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name');
        return rs.scopeSpans.flatMap((ss) =>
          ss.spans.map((s) => ({ ...s, service: service ? String(valueOf(service.value)) : '', attrs: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, valueOf(a.value)])) })),
        );
      }),
    );
  }

  /** The spans of the trace whose root span names this deployment. */
  traceOf(deploymentId: string): CollectedSpan[] {
    const root = this.spans().find((s) => s.parentSpanId === undefined && s.attrs['lanyard.deployment.id'] === deploymentId);
    return root ? this.spans().filter((s) => s.traceId === root.traceId) : [];
  }
}

export async function startOtlpCollector(port: number): Promise<OtlpCollectorStandIn> {
  const collector = new OtlpCollectorStandIn(port);
  await collector.start();
  return collector;
}

