-- Client organisations (see the SQLite migration of the same name).
ALTER TABLE members ADD COLUMN role TEXT NOT NULL DEFAULT 'member'
    CHECK (role IN ('admin', 'member', 'requester'));

ALTER TABLE portals ADD COLUMN allowed_domains TEXT;

CREATE TABLE followers (
    portal_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    email TEXT NOT NULL,
    added_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (portal_id, ticket_id, email),
    FOREIGN KEY (portal_id, email) REFERENCES members (portal_id, email) ON DELETE CASCADE
);
CREATE INDEX followers_by_member ON followers (portal_id, email);

CREATE TRIGGER followers_changed AFTER INSERT OR DELETE ON followers
    FOR EACH ROW EXECUTE FUNCTION directory_changed();

CREATE TRIGGER members_added AFTER INSERT ON members
    FOR EACH ROW EXECUTE FUNCTION directory_changed();
