-- The ledger of webhook deliveries: every request to /webhooks/github, verified or not, and what
-- became of it, so that "why didn't my push deploy?" has an answer.
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id TEXT,
  received_at INTEGER NOT NULL,
  event TEXT,
  action TEXT,
  repo TEXT,
  ref TEXT,
  sha TEXT,
  verified INTEGER NOT NULL,
  verdict TEXT NOT NULL,
  reason TEXT NOT NULL,
  status INTEGER NOT NULL,
  deployments TEXT NOT NULL DEFAULT '[]',
  source TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_by_time ON deliveries (received_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS deliveries_by_delivery_id ON deliveries (delivery_id);
