// A deployment's trace and its edge spans have ids derived from the deployment itself, so nothing
// needs storing to name them again: dispatch hands the relay `traceparent` with the job span's id,
// and the export, at the end, rebuilds the same ids. A 64-bit FNV-1a hash of a fixed label per 16
// hex digits (synchronous, as dispatch is; these ids need to be distinct, not secret): unique per
// deployment as deployment ids are, and never all zeros (checked, however unlikely).
import { formatTraceparent, SPAN_ID_PATTERN, TRACE_ID_PATTERN } from '../../shared/trace-context.ts';

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = 0xffffffffffffffffn;
const encoder = new TextEncoder();

/** FNV-1a, 64 bits, of the label's UTF-8 bytes, as 16 hex digits. */
export function fnv1a64Hex(label: string): string {
  let hash = FNV_OFFSET;
  for (const byte of encoder.encode(label)) hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK_64;
  return hash.toString(16).padStart(16, '0');
}

function digestHex(label: string, hexChars: 16 | 32, valid: RegExp): string {
  for (let round = 0; ; round += 1) {
    const base = round ? `${label}#${round}` : label;
    const hex = hexChars === 16 ? fnv1a64Hex(base) : fnv1a64Hex(`${base} high`) + fnv1a64Hex(`${base} low`);
    if (valid.test(hex)) return hex;
  }
}

export type EdgeSpanName = 'deployment' | 'delivery' | 'queue';

export function traceIdOf(target: string, deploymentId: string): string {
  return digestHex(`lanyard trace ${target} ${deploymentId}`, 32, TRACE_ID_PATTERN);
}

/** The deployment's root span and the delivery and queue spans under it. */
export function edgeSpanIdOf(target: string, deploymentId: string, span: EdgeSpanName): string {
  return digestHex(`lanyard span ${target} ${deploymentId} ${span}`, 16, SPAN_ID_PATTERN);
}

/** The span of one hand-over of the job to the relay: each attempt has its own. */
export function dispatchSpanIdOf(target: string, deploymentId: string, attempt: number): string {
  return digestHex(`lanyard span ${target} ${deploymentId} dispatch ${attempt}`, 16, SPAN_ID_PATTERN);
}

/** What `job.traceparent` carries: the deployment's trace, with that attempt's dispatch span as the parent. */
export function traceparentOf(target: string, deploymentId: string, attempt: number): string {
  return formatTraceparent(traceIdOf(target, deploymentId), dispatchSpanIdOf(target, deploymentId, attempt));
}
