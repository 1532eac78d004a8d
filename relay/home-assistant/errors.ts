// What goes wrong talking to Home Assistant, as a value: a code for the kind of failure, which code
// branches on (a restart expects `unreachable`, a wait ends at `unauthorized`), and a message that
// names the URL and what to do.
export const HOME_ASSISTANT_ERROR_CODES = [
  'unauthorized',
  'unreachable',
  'timeout',
  'bad_response',
  'invalid_argument',
  'not_configured',
] as const;
export type HomeAssistantErrorCode = (typeof HOME_ASSISTANT_ERROR_CODES)[number];

export class HomeAssistantError extends Error {
  readonly code: HomeAssistantErrorCode;
  /** The URL asked, when there was a request. */
  readonly url: string | undefined;
  /** The HTTP status, when HA (or a proxy in front of it) answered. */
  readonly status: number | undefined;
  /** The short cause ("connection refused", "HTTP 500: ..."), without the advice around it. */
  readonly detail: string;

  constructor(code: HomeAssistantErrorCode, message: string, extra: { url?: string; status?: number; detail?: string } = {}) {
    super(message);
    this.name = 'HomeAssistantError';
    this.code = code;
    this.url = extra.url;
    this.status = extra.status;
    this.detail = extra.detail ?? message;
  }
}
