// What Home Assistant's REST API sends back, as zod shapes the client parses every answer with at the
// boundary (an answer that does not fit is a bad_response), and what the client makes of check_config.
import { z } from 'zod';

/** GET /api/config: `state` is RUNNING once HA has started. */
export const HomeAssistantConfigInfo = z.object({
  state: z.string(),
  version: z.string(),
  config_dir: z.string(),
  location_name: z.string().optional(),
});
export type HomeAssistantConfigInfo = z.infer<typeof HomeAssistantConfigInfo>;

/** GET and POST /api/states/<entity_id>. */
export const EntityState = z.object({
  entity_id: z.string(),
  state: z.string(),
  attributes: z.record(z.string(), z.unknown()),
  last_changed: z.string(),
  last_updated: z.string(),
});
export type EntityState = z.infer<typeof EntityState>;

/** POST /api/config/core/check_config. */
export const CheckConfigResponse = z.object({
  result: z.enum(['valid', 'invalid']),
  errors: z.string().nullable(),
  warnings: z.string().nullable().optional(),
});

/** GET /api/: `{"message": "API running."}`. */
export const ApiRunning = z.object({ message: z.string() });
/** POST /api/services/<domain>/<service>: the states the call changed. */
export const ChangedStates = z.array(EntityState);

export type ConfigCheck = { valid: true; warnings?: string } | { valid: false; errors: string; warnings?: string };
