// One request to the Supervisor's own API (http://supervisor inside an add-on), with the add-on's
// SUPERVISOR_TOKEN: a timeout that covers the body, the `{result, data}` envelope unwrapped, and
// every failure a HomeAssistantError that says what happened. A 403 is the Supervisor saying the
// add-on's role does not reach that path (supervisor/api/middleware/security.py).
import type { z } from 'zod';
import { supervisorEnvelope } from './backup-answers.ts';
import { HomeAssistantError } from './errors.ts';

export interface SupervisorConnection {
  /** `http://supervisor`, without a trailing slash. */
  baseUrl: string;
  token: string;
}

export async function requestSupervisor<T extends z.ZodType>(
  connection: SupervisorConnection,
  method: 'GET' | 'POST',
  path: string,
  data: T,
  options: { body?: unknown; timeoutMs: number; signal?: AbortSignal },
): Promise<z.infer<T>> {
  const url = `${connection.baseUrl}${path}`;
  const what = `${method} ${url}`;
  const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(options.timeoutMs)));
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const headers: Record<string, string> = { Authorization: `Bearer ${connection.token}`, Accept: 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), signal });
    text = await response.text();
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (timeout.aborted) throw new HomeAssistantError('timeout', `The Supervisor did not answer ${what} within ${options.timeoutMs} ms.`, { url });
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new HomeAssistantError('unreachable', `Could not reach the Supervisor (${what}): ${cause}.`, { url, detail: cause });
  }
  if (response.status === 401 || response.status === 403) {
    throw new HomeAssistantError(
      'unauthorized',
      `The Supervisor refused ${what} (HTTP ${response.status}): the add-on needs \`hassio_api: true\` and \`hassio_role: backup\` in its manifest (the Lanyard add-on has both since 0.2; update it).`,
      { url, status: response.status },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HomeAssistantError('bad_response', `The Supervisor answered ${what} with HTTP ${response.status} and no JSON.`, { url, status: response.status });
  }
  const parsed = supervisorEnvelope(data).safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(the body)'}: ${issue.message}`).join('; ');
    throw new HomeAssistantError('bad_response', `The Supervisor answered ${what} with something it does not send (${issues.slice(0, 300)}).`, { url, status: response.status });
  }
  const envelope = parsed.data as { result: 'ok'; data: z.infer<T> } | { result: 'error'; message?: string | null };
  if (envelope.result === 'error' || !response.ok) {
    const said = envelope.result === 'error' ? oneLine(envelope.message ?? '') : '';
    throw new HomeAssistantError('bad_response', `The Supervisor answered ${what} with HTTP ${response.status}${said ? `: ${said}` : ''}.`, { url, status: response.status, detail: said || `HTTP ${response.status}` });
  }
  return envelope.data;
}

/** Text from the other side, flattened and cut before it goes into a reason. */
export function oneLine(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}
