-- Client organisations and the people in them.
CREATE TABLE IF NOT EXISTS portals (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    colour TEXT NOT NULL DEFAULT '#0f172a',
    logo_url TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS members (
    portal_id TEXT NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    display_name TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (portal_id, email)
);
CREATE INDEX IF NOT EXISTS members_by_email ON members (email);

-- Magic links: only a hash of the token is stored.
CREATE TABLE IF NOT EXISTS magic_links (
    token_hash TEXT PRIMARY KEY NOT NULL,
    portal_id TEXT NOT NULL,
    email TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);

-- Who did what, when, from where.
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    event TEXT NOT NULL,
    portal_id TEXT,
    email TEXT,
    address TEXT,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_log_by_portal ON audit_log (portal_id, at);
