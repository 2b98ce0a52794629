-- The portal's schema on PostgreSQL: the same tables as on SQLite (migrations/sqlite), with
-- BIGINT for every integer (timestamps are Unix seconds, as on SQLite) and identity columns
-- for sequences. Several portal instances share it.

-- Browser sessions (src/server/db/sessions.rs), with the member each one signs in.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    expiry_date BIGINT NOT NULL,
    portal_id TEXT,
    email TEXT
);
CREATE INDEX sessions_expiry ON sessions (expiry_date);
CREATE INDEX sessions_by_member ON sessions (portal_id, email);

-- Webhooks the portal registered on monday (monday's `webhooks` query does not return URLs).
CREATE TABLE monday_webhooks (
    id TEXT PRIMARY KEY,
    board_id TEXT NOT NULL,
    event TEXT NOT NULL,
    url_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Client organisations and the people in them.
CREATE TABLE portals (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    colour TEXT NOT NULL DEFAULT '#0f172a',
    logo_url TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE members (
    portal_id TEXT NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    display_name TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (portal_id, email)
);
CREATE INDEX members_by_email ON members (email);

-- Magic links: only a hash of the token is stored.
CREATE TABLE magic_links (
    token_hash TEXT PRIMARY KEY,
    portal_id TEXT NOT NULL,
    email TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- Who did what, when, from where.
CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    event TEXT NOT NULL,
    portal_id TEXT,
    email TEXT,
    address TEXT,
    detail TEXT
);
CREATE INDEX audit_log_by_portal ON audit_log (portal_id, at);
CREATE INDEX audit_log_by_age ON audit_log (at);

-- What clients wrote, on its way to monday (see the SQLite migrations for the columns).
CREATE TABLE outbox (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('ticket', 'reply')),
    portal_id TEXT NOT NULL,
    author_email TEXT NOT NULL,
    author_name TEXT,
    item_id TEXT,
    title TEXT,
    description TEXT,
    priority TEXT,
    body TEXT,
    monday_id TEXT,
    state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'delivered', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    claimed_by TEXT,
    lease_until BIGINT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_portal ON outbox (portal_id, kind, state);
CREATE INDEX outbox_by_item ON outbox (item_id, kind);
CREATE INDEX outbox_by_monday_id ON outbox (monday_id);

-- Status changes seen through webhooks, for a ticket's timeline.
CREATE TABLE ticket_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id TEXT NOT NULL,
    portal_id TEXT NOT NULL,
    status TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX ticket_events_by_item ON ticket_events (item_id, id);

-- Webhook deliveries already handled, shared by every instance (monday retries for 30 minutes).
CREATE TABLE webhook_receipts (
    trigger_uuid TEXT PRIMARY KEY,
    received_at BIGINT NOT NULL
);
CREATE INDEX webhook_receipts_age ON webhook_receipts (received_at);

-- Rate limits every instance counts together: hits per key in fixed windows.
CREATE TABLE rate_limit_hits (
    key TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits BIGINT NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limit_hits_age ON rate_limit_hits (window_start);

-- What one instance tells the others (live events, fresh tickets), read after a NOTIFY.
CREATE TABLE cluster_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    origin TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX cluster_events_age ON cluster_events (created_at);
