-- The SHA-256 of each verified delivery's body, as received: a signed body GitHub already delivered
-- is a replay whatever X-GitHub-Delivery it comes with, and the webhook endpoint answers it as a
-- duplicate before any target's hub hears of it. Unsigned requests keep NULL (nothing unsigned is
-- read), so the index holds only verified deliveries and the lookup is one index probe.
ALTER TABLE deliveries ADD COLUMN body_sha256 TEXT;
CREATE INDEX IF NOT EXISTS deliveries_by_body ON deliveries (body_sha256) WHERE body_sha256 IS NOT NULL;
