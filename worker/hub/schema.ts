// The TargetHub's SQLite schema. Created in the constructor; statements are idempotent so a new
// version of the Worker can add to them without a separate migration step.
export const HUB_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deployments (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  sha TEXT NOT NULL,
  ref TEXT NOT NULL,
  trigger TEXT NOT NULL,
  actor TEXT NOT NULL,
  message TEXT NOT NULL,
  author TEXT,
  reason TEXT,
  superseded_by TEXT,
  rollback_of TEXT,
  restore_backup_id TEXT,
  delivery_id TEXT UNIQUE,
  attempt INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  dispatched_at INTEGER,
  started_at INTEGER,
  finished_at INTEGER,
  lease_expires_at INTEGER,
  summary TEXT
);
CREATE INDEX IF NOT EXISTS deployments_by_status ON deployments (status, seq);
CREATE TABLE IF NOT EXISTS steps (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id TEXT NOT NULL,
  step TEXT NOT NULL,
  status TEXT NOT NULL,
  message TEXT NOT NULL,
  at INTEGER NOT NULL,
  duration_ms REAL,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS steps_by_deployment ON steps (deployment_id, seq);
-- What each deployment's step log holds and dropped (worker/hub/step-log.ts): its first events (the
-- head, up to head_until once full), the window of latest ones after it, and the count and bytes
-- of the events the window let go.
CREATE TABLE IF NOT EXISTS step_budgets (
  deployment_id TEXT PRIMARY KEY,
  head_events INTEGER NOT NULL,
  head_bytes INTEGER NOT NULL,
  head_until INTEGER,
  tail_events INTEGER NOT NULL,
  tail_bytes INTEGER NOT NULL,
  dropped_events INTEGER NOT NULL,
  dropped_bytes INTEGER NOT NULL
);
-- The audit trail's table is made (and brought up to date) by worker/hub/audit.ts.
-- The pushes that moved the branch head of a target that does not deploy on push (CI-gated,
-- dispatch), by delivery id, so a redelivery of an older push does not move the head back.
CREATE TABLE IF NOT EXISTS head_deliveries (delivery_id TEXT PRIMARY KEY, seen_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS head_deliveries_by_time ON head_deliveries (seen_at);
-- Every push to the target's branch seen (before -> after), kept ~30 days: GitHub does not deliver
-- pushes in order, and a push whose commit another push already moved the branch on from is
-- older than that one (worker/hub/push-transitions.ts). deployment_id: the deployment it made.
CREATE TABLE IF NOT EXISTS push_transitions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  before_sha TEXT NOT NULL,
  after_sha TEXT NOT NULL,
  deployment_id TEXT,
  seen_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS push_transitions_by_before ON push_transitions (before_sha, seq);
CREATE INDEX IF NOT EXISTS push_transitions_by_time ON push_transitions (seen_at);
-- The message and author of each commit a push moved the branch to, so the head can be moved to a
-- commit that a late push links to (push-transitions.ts) with what a push would have shown.
CREATE TABLE IF NOT EXISTS pushed_commits (sha TEXT PRIMARY KEY, message TEXT NOT NULL, author TEXT, seen_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS pushed_commits_by_time ON pushed_commits (seen_at);
-- Outward (worker/outward/): messages for GitHub, Slack and the signed webhook, kept until
-- delivered so an outage or an eviction loses none; retried from the hub's alarm. A stream is one
-- deployment on one channel: its messages go out strictly in order.
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  stream TEXT NOT NULL,
  channel TEXT NOT NULL,
  deployment_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  what TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  settled_at INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (state, stream, seq);
CREATE INDEX IF NOT EXISTS outbox_by_deployment ON outbox (deployment_id, seq);
-- The last status of each deployment the outside world was told about (and the GitHub state).
CREATE TABLE IF NOT EXISTS outward_announced (deployment_id TEXT PRIMARY KEY, status TEXT NOT NULL, github_state TEXT);
-- The GitHub deployment made for each Lanyard deployment.
CREATE TABLE IF NOT EXISTS github_deployments (deployment_id TEXT PRIMARY KEY, github_id INTEGER NOT NULL, created_at INTEGER NOT NULL);
-- Traces (worker/traces/): what a deployment's trace needs beyond its own row, kept only until the
-- deployment ends and its trace is queued (or not, without OTLP_ENDPOINT): when its webhook
-- arrived, and the spans the relay reported for its steps (times on the relay's clock).
CREATE TABLE IF NOT EXISTS trace_receipts (deployment_id TEXT PRIMARY KEY, received_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS trace_step_spans (
  deployment_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  parent_span_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  step TEXT NOT NULL,
  status TEXT NOT NULL,
  message TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  duration_ms REAL,
  PRIMARY KEY (deployment_id, span_id)
);
`;

/**
 * Columns added to tables an older edge made, once each (ALTER TABLE has no IF NOT EXISTS).
 * deployments.drift_choice: the way on from drift an operator chose for that deployment only
 * (`overwrite` or `keep`; worker/hub/retry.ts), null for the target's own drift policy.
 * deployments.restart_now: 1 when an operator said "restart now" for a deployment waiting for the
 * restart window (worker/hub/restart-windows.ts): it may restart whatever the hour.
 */
const ADDED_COLUMNS: readonly { table: string; column: string; definition: string }[] = [
  { table: 'deployments', column: 'drift_choice', definition: 'TEXT' },
  { table: 'deployments', column: 'restart_now', definition: 'INTEGER NOT NULL DEFAULT 0' },
];

export function addMissingColumns(sql: SqlStorage): void {
  for (const { table, column, definition } of ADDED_COLUMNS) {
    const columns = sql.exec(`SELECT name FROM pragma_table_info('${table}')`).toArray().map((r) => String(r.name));
    if (!columns.includes(column)) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  }
}
