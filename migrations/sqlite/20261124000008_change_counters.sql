-- What memory may answer: each instance keeps sessions, memberships and portals in memory and
-- drops them when the 'directory' counter moves. Triggers move it on every change that can take
-- access away or change what a page shows (a session ended, a member removed or changed, a
-- portal changed), whoever made it: this instance, another one, the CLI or a hand-written SQL
-- statement. Instances read the counters a few times a second (`server::auth::directory`).
CREATE TABLE change_counters (
    name TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL DEFAULT 0
);
INSERT INTO change_counters (name, version) VALUES ('directory', 0);

CREATE TRIGGER sessions_ended AFTER DELETE ON sessions
BEGIN
    UPDATE change_counters SET version = version + 1 WHERE name = 'directory';
END;

CREATE TRIGGER members_changed AFTER UPDATE ON members
BEGIN
    UPDATE change_counters SET version = version + 1 WHERE name = 'directory';
END;

CREATE TRIGGER members_removed AFTER DELETE ON members
BEGIN
    UPDATE change_counters SET version = version + 1 WHERE name = 'directory';
END;

CREATE TRIGGER portals_changed AFTER UPDATE ON portals
BEGIN
    UPDATE change_counters SET version = version + 1 WHERE name = 'directory';
END;

CREATE TRIGGER portals_removed AFTER DELETE ON portals
BEGIN
    UPDATE change_counters SET version = version + 1 WHERE name = 'directory';
END;
