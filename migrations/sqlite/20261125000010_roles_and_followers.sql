-- Client organisations: a role per member, the email domains an admin may invite from, and who
-- follows which ticket. Existing members keep seeing every ticket of their portal ('member').
ALTER TABLE members ADD COLUMN role TEXT NOT NULL DEFAULT 'member'
    CHECK (role IN ('admin', 'member', 'requester'));

-- Space-separated domains (`example.com other.org`); NULL: admins may invite any address.
ALTER TABLE portals ADD COLUMN allowed_domains TEXT;

-- A follower sees the ticket (requesters included) and is mailed its changes.
CREATE TABLE followers (
    portal_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    email TEXT NOT NULL,
    added_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (portal_id, ticket_id, email),
    FOREIGN KEY (portal_id, email) REFERENCES members (portal_id, email) ON DELETE CASCADE
);
CREATE INDEX followers_by_member ON followers (portal_id, email);

-- Following changes what a member may see: memory must ask again, on every instance.
CREATE TRIGGER followers_added AFTER INSERT ON followers
BEGIN
    UPDATE change_counters SET version = version + 1 WHERE name = 'directory';
END;

CREATE TRIGGER followers_removed AFTER DELETE ON followers
BEGIN
    UPDATE change_counters SET version = version + 1 WHERE name = 'directory';
END;

-- A new member changes who a portal's people are (the ticket page's colleagues, the header's
-- portal switcher): memory must ask again.
CREATE TRIGGER members_added AFTER INSERT ON members
BEGIN
    UPDATE change_counters SET version = version + 1 WHERE name = 'directory';
END;
