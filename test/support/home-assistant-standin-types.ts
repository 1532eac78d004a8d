// What the Home Assistant stand-in is told and what it records: its options, HA's shapes.

/** Home Assistant's CoreState values, as `/api/config` reports them in `state`. */
export type CoreState = 'NOT_RUNNING' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'FINAL_WRITE' | 'STOPPED';

export interface EntityState {
  entity_id: string;
  state: string;
  attributes: Record<string, unknown>;
  last_changed: string;
  last_reported: string;
  last_updated: string;
  context: { id: string; parent_id: null; user_id: string | null };
}

export interface RecordedServiceCall {
  domain: string;
  service: string;
  /** The JSON body, `{}` when there was none. */
  data: Record<string, unknown>;
  at: Date;
}

export interface StateWrite {
  state: string;
  attributes: Record<string, unknown>;
  at: Date;
  /** `api`: written through POST /api/states (what the relay does); `test`: set by the test itself. */
  by: 'api' | 'test';
}

/** A persistent notification shown in HA, whether the relay created it or HA did (invalid config). */
export interface ShownNotification {
  title: string | undefined;
  message: string;
  notificationId: string | undefined;
  at: Date;
}

export interface InitialEntity {
  entity_id: string;
  state: string;
  attributes?: Record<string, unknown>;
}

export interface HomeAssistantStandInOptions {
  /** The config folder `check_config` reads (`configuration.yaml` and whatever it includes). */
  configDir: string;
  /** The only bearer token accepted (a long-lived access token in real life). */
  token: string;
  /** The token the Supervisor stand-in accepts (an add-on's SUPERVISOR_TOKEN). Default `standin-supervisor-token`. */
  supervisorToken?: string;
  /** How long a restart keeps the API down. Default 300 ms. */
  restartDelayMs?: number;
  /**
   * How long the old instance keeps answering, still saying RUNNING, after a restart was asked for.
   * A real HA (notably under the Supervisor) does this for a moment; clients must not take it for
   * "already back". Default 0.
   */
  lingerAfterRestartMs?: number;
  /** After coming back, how long `/api/config` says `STARTING` before `RUNNING`. Default 0. */
  startingMs?: number;
  /**
   * What "down" looks like. `refuse` (default): the port is closed, like HA Core restarting on a
   * plain install. `bad_gateway`: every request answers 502, like the Supervisor's proxy
   * (`http://supervisor/core`) while Core restarts.
   */
  whileDown?: 'refuse' | 'bad_gateway';
  /** Like HA, refuse `homeassistant.restart` (500) when the config is invalid. Default true. */
  restartChecksConfig?: boolean;
  entities?: InitialEntity[];
  version?: string;
  locationName?: string;
  /** Start misbehaving right away; same meaning as the methods of the same name. */
  failCheckConfig?: string | true;
  neverComeBack?: boolean;
  answer500?: RegExp | true;
  hang?: RegExp | true;
}

export interface CheckConfigResult {
  result: 'valid' | 'invalid';
  errors: string | null;
  warnings: string | null;
}
