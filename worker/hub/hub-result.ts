// A hub's answer: a value, or a refusal with the status and code the API should give. Returned
// as a value rather than thrown, since an exception crossing RPC loses its type and is logged as
// uncaught; a refusal is an expected outcome, not an error.
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ApiError } from '../http/errors.ts';

export type HubResult<T> = { ok: true; value: T } | { ok: false; status: ContentfulStatusCode; code: string; message: string };

export function accepted<T>(value: T): HubResult<T> {
  return { ok: true, value };
}

export function refused(status: ContentfulStatusCode, code: string, message: string): { ok: false; status: ContentfulStatusCode; code: string; message: string } {
  return { ok: false, status, code, message };
}

type Refusal = { ok: false; status: ContentfulStatusCode; code: string; message: string };

/** Takes a hub answer as it arrives over RPC (typed through the stub) and throws a refusal as an ApiError. */
export function unwrap<R extends { ok: true; value: unknown } | Refusal>(result: R): Extract<R, { ok: true }>['value'] {
  if (!result.ok) {
    const refusal = result as Refusal;
    throw new ApiError(refusal.status, refusal.code, refusal.message);
  }
  return (result as Extract<R, { ok: true }>).value;
}
