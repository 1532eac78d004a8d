// One request to Home Assistant's REST API: the token, a timeout that covers the body too, and every
// way it can fail turned into a HomeAssistantError that says what happened and what to do. The answer
// is parsed with its zod shape (answers.ts); one that does not fit is a bad_response.
import type { z } from 'zod';
import { HomeAssistantError } from './errors.ts';

/** Where to send requests and with what: the base URL already normalised (endpoint.ts). */
export interface HomeAssistantConnection {
  baseUrl: string;
  token: string;
  /** Per request, unless the request names its own. */
  requestTimeoutMs: number;
}

export interface RequestOptions {
  body?: unknown;
  timeoutMs?: number;
  /** The relay setting that governs `timeoutMs`, named in the timeout error so the advice is right. */
  timeoutSetting?: string;
  signal?: AbortSignal | undefined;
}

/** `path` is under /api (e.g. `/config`); with `notFoundIsNull`, a 404 answers null instead of throwing. */
export function requestHomeAssistant<T>(
  connection: HomeAssistantConnection,
  method: 'GET' | 'POST',
  path: string,
  schema: z.ZodType<T>,
  options?: RequestOptions & { notFoundIsNull?: false },
): Promise<T>;
export function requestHomeAssistant<T>(
  connection: HomeAssistantConnection,
  method: 'GET' | 'POST',
  path: string,
  schema: z.ZodType<T>,
  options: RequestOptions & { notFoundIsNull: true },
): Promise<T | null>;
export async function requestHomeAssistant<T>(
  connection: HomeAssistantConnection,
  method: 'GET' | 'POST',
  path: string,
  schema: z.ZodType<T>,
  options: RequestOptions & { notFoundIsNull?: boolean } = {},
): Promise<T | null> {
  const url = `${connection.baseUrl}/api${path}`;
  // AbortSignal.timeout wants a whole number of milliseconds.
  const timeoutMs = Math.max(1, Math.ceil(options.timeoutMs ?? connection.requestTimeoutMs));
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const headers: Record<string, string> = { Authorization: `Bearer ${connection.token}`, Accept: 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const what = `${method} ${url}`;

  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), signal });
    // The timeout covers the body too: a proxy can send headers and then stall.
    text = await response.text();
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (timeout.aborted) {
      throw new HomeAssistantError(
        'timeout',
        `Home Assistant did not answer ${what} within ${timeoutMs} ms. It may be busy or starting; if it is just slow, raise ${options.timeoutSetting ?? 'homeAssistant.requestTimeoutSeconds'}.`,
        { url, detail: `no answer within ${timeoutMs} ms (${what})` },
      );
    }
    const cause = networkCause(error);
    throw new HomeAssistantError(
      'unreachable',
      `Could not reach Home Assistant (${what}): ${cause}. Check that Home Assistant is running and that homeAssistant.url is right.`,
      { url, detail: `${cause} (${what})` },
    );
  }

  if (response.status === 401 || response.status === 403) {
    throw new HomeAssistantError(
      'unauthorized',
      `Home Assistant refused the relay's token (HTTP ${response.status} from ${what}). Create a long-lived access token in your Home Assistant profile and put it in homeAssistant.token.`,
      { url, status: response.status, detail: `HTTP ${response.status} (${what})` },
    );
  }
  if (response.status === 404 && options.notFoundIsNull) return null;
  if (response.status === 502 || response.status === 503 || response.status === 504) {
    // A proxy in front of HA (the Supervisor's, or a reverse proxy) answering for an HA that is down.
    throw new HomeAssistantError(
      'unreachable',
      `Home Assistant is not answering behind its proxy (HTTP ${response.status} from ${what}). It may be restarting; check that it is running.`,
      { url, status: response.status, detail: `HTTP ${response.status} from the proxy (${what})` },
    );
  }
  if (!response.ok) {
    const said = excerpt(haMessage(text));
    throw new HomeAssistantError(
      'bad_response',
      `Home Assistant answered ${what} with HTTP ${response.status}${said ? `: ${said}` : ''}. Check the Home Assistant log.`,
      { url, status: response.status, detail: `HTTP ${response.status}${said ? `: ${said}` : ''} (${what})` },
    );
  }

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw badBody(url, what, response.status, `not JSON: ${excerpt(text)}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(the body)'}: ${issue.message}`).join('; ');
    throw badBody(url, what, response.status, issues);
  }
  return parsed.data;
}

function badBody(url: string, what: string, status: number, problem: string): HomeAssistantError {
  return new HomeAssistantError(
    'bad_response',
    `Home Assistant answered ${what} with something that is not what its API returns (${problem}). Is homeAssistant.url really Home Assistant?`,
    { url, status, detail: `unexpected body: ${problem} (${what})` },
  );
}

/** HA's JSON errors are `{"message": "..."}`; its others are plain text like "400: Bad Request". */
function haMessage(text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string') return body.message;
  } catch {
    // Not JSON: the text is the message.
  }
  return text;
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

/** Turns undici's "fetch failed" into what happened on the network. */
function networkCause(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? (error.cause as NodeJS.ErrnoException) : undefined;
  switch (cause?.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return 'the connection was closed before Home Assistant answered';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name could not be resolved (${cause.code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to the host (${cause.code})`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connecting timed out';
    default:
      // fetch refuses a few well-known ports (e.g. 6000) outright and says only "bad port".
      if (cause?.message === 'bad port') return 'fetch refuses to connect to that port; use another one for Home Assistant';
      return cause?.message ?? (error instanceof Error ? error.message : String(error));
  }
}
