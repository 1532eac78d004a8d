-- The status page's "Webhook deliveries" section reads the newest deliveries of one repository on
-- every view of a target page. GitHub treats repository names case-insensitively, so the page
-- compares with NOCASE, and this index is in that collation: the read is an index range in time
-- order, never a scan of the whole ledger.
CREATE INDEX IF NOT EXISTS deliveries_by_repo ON deliveries (repo COLLATE NOCASE, received_at DESC, id DESC);
