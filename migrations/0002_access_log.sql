-- The access log of the edge: every sign-in and sign-out of the status page, and every refused
-- token, role or form (401/403), so that "is someone guessing tokens?" has an answer. `who` is the
-- principal's name when the edge knows it; the presented token, or any part of it, is never stored.
-- Entries older than 90 days are pruned as new ones are written.
CREATE TABLE IF NOT EXISTS access_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  action TEXT NOT NULL,
  who TEXT,
  status INTEGER NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  reason TEXT NOT NULL,
  source TEXT
);
CREATE INDEX IF NOT EXISTS access_log_by_time ON access_log (at);
