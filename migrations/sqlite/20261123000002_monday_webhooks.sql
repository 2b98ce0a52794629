-- Webhooks the portal registered on monday. monday's `webhooks` query does not return URLs,
-- so this record is how `setup-board` and `doctor` know which webhooks point at this portal.
CREATE TABLE IF NOT EXISTS monday_webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    board_id TEXT NOT NULL,
    event TEXT NOT NULL,
    url_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
