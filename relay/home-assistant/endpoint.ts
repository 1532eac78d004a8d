// Where the relay reaches Home Assistant and with which token, worked out without contacting it: a
// configured URL and token, or the Supervisor's proxy inside an add-on.
//
// Base URLs accepted (all normalised to the form without `/api`):
//   http://homeassistant.local:8123       a plain install; the API is at .../api/
//   http://homeassistant.local:8123/api/  the same, as people often copy it (trailing slashes are fine)
//   http://supervisor/core                inside an add-on, through the Supervisor's proxy
// http and https only; no user:password@, query or fragment.
import { HomeAssistantError } from './errors.ts';

export const SUPERVISOR_CORE_URL = 'http://supervisor/core';

export interface HomeAssistantEndpoint {
  baseUrl: string;
  token: string;
  /** `config`: a URL and long-lived token from the relay config; `supervisor`: the add-on's SUPERVISOR_TOKEN. */
  source: 'config' | 'supervisor';
}

/**
 * Where the relay reaches HA and with what token, without contacting it. `config.url` must be what
 * the user wrote (undefined when they wrote nothing), not a value with a default already filled in,
 * or an add-on could never fall back to the Supervisor's proxy.
 *   - a configured token wins: it needs a configured URL;
 *   - otherwise SUPERVISOR_TOKEN (set by the Supervisor inside an add-on) with http://supervisor/core
 *     (or the configured URL);
 *   - otherwise there is no way in: not_configured.
 */
export function resolveHomeAssistantEndpoint(
  config: { url?: string | undefined; token?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
): HomeAssistantEndpoint {
  if (config.token) {
    if (!config.url) {
      throw new HomeAssistantError(
        'not_configured',
        'homeAssistant.token is set but homeAssistant.url is not: give the URL Home Assistant answers on, e.g. http://homeassistant.local:8123.',
      );
    }
    return { baseUrl: normalizeBaseUrl(config.url), token: config.token, source: 'config' };
  }
  const supervisor = supervisorFallback(config.url, env);
  if (supervisor) return { baseUrl: normalizeBaseUrl(supervisor.url), token: supervisor.token, source: 'supervisor' };
  throw new HomeAssistantError(
    'not_configured',
    'No Home Assistant token: set homeAssistant.token (a long-lived access token from your Home Assistant profile), or run the relay as an add-on.',
  );
}

/**
 * Inside a Home Assistant add-on the Supervisor sets SUPERVISOR_TOKEN; a relay with no token of its
 * own uses it, through the Supervisor's proxy unless a URL was written (`writtenUrl`, as the user
 * wrote it, not normalised). Null outside an add-on. The relay config and resolveHomeAssistantEndpoint
 * both fall back through this.
 */
export function supervisorFallback(writtenUrl: string | undefined, env: Readonly<Record<string, string | undefined>>): { url: string; token: string } | null {
  const token = env.SUPERVISOR_TOKEN;
  return token ? { url: writtenUrl ?? SUPERVISOR_CORE_URL, token } : null;
}

/** The base URL without `/api` and trailing slashes; see the top of this file for what is accepted. */
export function normalizeBaseUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new HomeAssistantError('invalid_argument', `"${input}" is not a URL: give Home Assistant's address like http://homeassistant.local:8123.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HomeAssistantError('invalid_argument', `${input} is not an http(s) URL: give Home Assistant's address like http://homeassistant.local:8123.`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new HomeAssistantError('invalid_argument', `${url.origin}: leave credentials, query and fragment out of the Home Assistant URL; the token goes in homeAssistant.token.`);
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/\/api$/, '');
  return `${url.origin}${path}`;
}
