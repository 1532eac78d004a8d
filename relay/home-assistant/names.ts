// The names the relay puts into Home Assistant API paths (entity ids, service names), checked before
// a request is built so a hostile one is refused with a clear error instead of reaching another URL.
import { HomeAssistantError } from './errors.ts';

const ENTITY_ID = /^(?!.+__)(?!_)[\da-z_]+(?<!_)\.(?!_)[\da-z_]+(?<!_)$/;
const SLUG = /^[a-z0-9_]+$/;

export function checkEntityId(entityId: string): void {
  // Also keeps a stray "../" from turning a state write into some other API call.
  if (!ENTITY_ID.test(entityId)) {
    throw new HomeAssistantError('invalid_argument', `"${entityId}" is not an entity id: use domain.object_id in lowercase, like sensor.lanyard_home.`);
  }
}

export function checkServiceName(domain: string, service: string): void {
  if (!SLUG.test(domain) || !SLUG.test(service)) {
    throw new HomeAssistantError('invalid_argument', `"${domain}.${service}" is not a Home Assistant service name (lowercase letters, digits and _).`);
  }
}
