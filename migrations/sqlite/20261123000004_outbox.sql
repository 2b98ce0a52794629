-- Tickets and replies clients wrote: saved here first, then sent to monday with the row id as
-- the Idempotency-Key, retried until monday accepts them. Delivered reply rows are also the
-- record of which monday updates the portal wrote (the clients' side of a conversation).
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('ticket', 'reply')),
    portal_id TEXT NOT NULL,
    author_email TEXT NOT NULL,
    author_name TEXT,
    -- reply: the ticket it answers; ticket: the item monday created
    item_id TEXT,
    title TEXT,
    description TEXT,
    priority TEXT,
    body TEXT,
    -- ticket: the item id; reply: the update id
    monday_id TEXT,
    state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_by_portal ON outbox (portal_id, kind, state);
CREATE INDEX IF NOT EXISTS outbox_by_item ON outbox (item_id, kind);

-- Status changes seen through webhooks, for a ticket's timeline.
CREATE TABLE IF NOT EXISTS ticket_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL,
    portal_id TEXT NOT NULL,
    status TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ticket_events_by_item ON ticket_events (item_id, id);

-- Webhook deliveries already handled (monday retries for 30 minutes); kept at least a day.
CREATE TABLE IF NOT EXISTS webhook_receipts (
    trigger_uuid TEXT PRIMARY KEY NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_receipts_age ON webhook_receipts (received_at);
