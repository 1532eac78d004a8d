// zod at the boundary: parse what a client sent, or answer 400 naming the field that is wrong.
import type { z } from 'zod';
import { describeZodError } from '../../shared/protocol.ts';
import { ApiError } from './errors.ts';

export function validate<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ApiError(400, 'invalid_request', `${what} is invalid: ${describeZodError(parsed.error)}`, parsed.error.issues);
  return parsed.data;
}

export async function jsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
}
