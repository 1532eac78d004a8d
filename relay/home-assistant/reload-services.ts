// Which Home Assistant config domains reload their YAML without a restart, and the service that does
// it: the activation map reloads only the domains listed here, and the client's reload() calls them.
export interface ServiceRef {
  domain: string;
  service: string;
}

/**
 * Which service reloads the YAML of a config domain without a restart. A domain missing here needs a
 * restart. `homeassistant` is the core config (name, location, units, customize, packages' core keys).
 */
export const RELOAD_SERVICES: Readonly<Record<string, ServiceRef>> = Object.freeze({
  homeassistant: { domain: 'homeassistant', service: 'reload_core_config' },
  automation: { domain: 'automation', service: 'reload' },
  script: { domain: 'script', service: 'reload' },
  scene: { domain: 'scene', service: 'reload' },
  group: { domain: 'group', service: 'reload' },
  template: { domain: 'template', service: 'reload' },
  input_boolean: { domain: 'input_boolean', service: 'reload' },
  input_button: { domain: 'input_button', service: 'reload' },
  input_datetime: { domain: 'input_datetime', service: 'reload' },
  input_number: { domain: 'input_number', service: 'reload' },
  input_select: { domain: 'input_select', service: 'reload' },
  input_text: { domain: 'input_text', service: 'reload' },
  timer: { domain: 'timer', service: 'reload' },
  counter: { domain: 'counter', service: 'reload' },
  schedule: { domain: 'schedule', service: 'reload' },
  person: { domain: 'person', service: 'reload' },
  zone: { domain: 'zone', service: 'reload' },
  intent_script: { domain: 'intent_script', service: 'reload' },
  rest: { domain: 'rest', service: 'reload' },
  rest_command: { domain: 'rest_command', service: 'reload' },
  command_line: { domain: 'command_line', service: 'reload' },
  mqtt: { domain: 'mqtt', service: 'reload' },
  frontend: { domain: 'frontend', service: 'reload_themes' },
});

export function reloadServiceFor(domain: string): ServiceRef | undefined {
  return Object.hasOwn(RELOAD_SERVICES, domain) ? RELOAD_SERVICES[domain] : undefined;
}
