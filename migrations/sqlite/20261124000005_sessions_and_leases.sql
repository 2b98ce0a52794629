-- The portal's own session store (src/server/db/sessions.rs) replaces tower-sessions' SQLite
-- store: the same table on both databases, with the member each session signs in, so that
-- removing a member can end every session of theirs. Sessions of the old store end here.
DROP TABLE IF EXISTS tower_sessions;
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY NOT NULL,
    data TEXT NOT NULL,
    expiry_date INTEGER NOT NULL,
    portal_id TEXT,
    email TEXT
);
CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expiry_date);
CREATE INDEX IF NOT EXISTS sessions_by_member ON sessions (portal_id, email);

-- The outbox gets a sequence (delivery order, on both databases: PostgreSQL has no rowid) and
-- a lease: the instance that claims a row holds it until `lease_until`; if it dies, another
-- instance takes the row over once the lease has run out.
CREATE TABLE outbox_v2 (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
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
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER,
    claimed_by TEXT,
    lease_until INTEGER
);
INSERT INTO outbox_v2 (id, kind, portal_id, author_email, author_name, item_id, title,
                       description, priority, body, monday_id, state, attempts, last_error,
                       next_attempt_at, created_at, delivered_at)
SELECT id, kind, portal_id, author_email, author_name, item_id, title, description, priority,
       body, monday_id, state, attempts, last_error, next_attempt_at, created_at, delivered_at
FROM outbox ORDER BY created_at, rowid;
DROP TABLE outbox;
ALTER TABLE outbox_v2 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_portal ON outbox (portal_id, kind, state);
CREATE INDEX outbox_by_item ON outbox (item_id, kind);
CREATE INDEX outbox_by_monday_id ON outbox (monday_id);
