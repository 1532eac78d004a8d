// One error shape for every answer the edge gives: `{error: {code, message, details}}`.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Headers the answer carries too, e.g. a 429's `Retry-After`. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

export function respondWithError(c: Context, error: unknown): Response {
  if (error instanceof ApiError) return c.json(errorBody(error.code, error.message, error.details), error.status, { ...error.headers });
  console.error('unhandled error', error);
  return c.json(errorBody('internal', 'Something went wrong at the edge; the error has been logged.'), 500);
}
