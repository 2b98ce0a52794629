-- Files clients attach to a new ticket or a message (see the SQLite migration of the same name).
CREATE TABLE attachments (
    id TEXT PRIMARY KEY NOT NULL,
    outbox_id TEXT NOT NULL,
    portal_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'delivered', 'failed')),
    asset_id TEXT,
    uncertain BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    stored BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX attachments_by_outbox ON attachments (outbox_id, position);
CREATE INDEX attachments_to_remove ON attachments (stored, state, delivered_at);

CREATE TABLE attachment_chunks (
    attachment_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (attachment_id, seq)
);
