// What the Home Assistant stand-in answers at GET /api/config: HA's core config, in HA's shape.
import { join } from 'node:path';
import type { CoreState } from './home-assistant-standin-types.ts';

export interface CoreConfigOf {
  configDir: string;
  locationName?: string | undefined;
  version?: string | undefined;
  state: CoreState;
}

export function coreConfigJson(core: CoreConfigOf): Record<string, unknown> {
  return {
    allowlist_external_dirs: ['/media', join(core.configDir, 'www')],
    allowlist_external_urls: [],
    components: ['api', 'automation', 'config', 'frontend', 'homeassistant', 'http', 'persistent_notification', 'script', 'sun'],
    config_dir: core.configDir,
    config_source: 'yaml',
    country: 'NL',
    currency: 'EUR',
    debug: false,
    elevation: 2,
    external_url: null,
    internal_url: null,
    language: 'en',
    latitude: 52.37,
    location_name: core.locationName ?? 'Home',
    longitude: 4.89,
    radius: 100,
    recovery_mode: false,
    safe_mode: false,
    state: core.state,
    time_zone: 'Europe/Amsterdam',
    unit_system: {
      length: 'km',
      accumulated_precipitation: 'mm',
      area: 'm²',
      mass: 'g',
      pressure: 'Pa',
      temperature: '°C',
      volume: 'L',
      wind_speed: 'm/s',
    },
    version: core.version ?? '2025.6.1',
    whitelist_external_dirs: ['/media', join(core.configDir, 'www')],
  };
}
