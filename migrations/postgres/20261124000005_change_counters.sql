-- What memory may answer: each instance keeps sessions, memberships and portals in memory and
-- drops them when the 'directory' counter moves. Triggers move it on every change that can take
-- access away or change what a page shows (a session ended, a member removed or changed, a
-- portal changed), whoever made it: any instance, the CLI or a hand-written SQL statement.
-- Instances read the counters a few times a second (`server::auth::directory`).
CREATE TABLE change_counters (
    name TEXT PRIMARY KEY,
    version BIGINT NOT NULL DEFAULT 0
);
INSERT INTO change_counters (name, version) VALUES ('directory', 0);

CREATE FUNCTION directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE change_counters SET version = version + 1 WHERE name = 'directory';
    RETURN NULL;
END
$$;

-- Row triggers: a statement that changes nothing moves nothing.
CREATE TRIGGER sessions_ended AFTER DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION directory_changed();
CREATE TRIGGER members_changed AFTER UPDATE OR DELETE ON members
    FOR EACH ROW EXECUTE FUNCTION directory_changed();
CREATE TRIGGER portals_changed AFTER UPDATE OR DELETE ON portals
    FOR EACH ROW EXECUTE FUNCTION directory_changed();
