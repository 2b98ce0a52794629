-- The portal's own ticket bookkeeping (the outbox and the status history) as pages read it is
-- kept in memory on SQLite (`server::memory`); these triggers move the 'tickets' counter on
-- every change to it that this instance did not make itself (the CLI, hand-written SQL).
INSERT INTO change_counters (name, version) VALUES ('tickets', 0);

CREATE TRIGGER outbox_added AFTER INSERT ON outbox
BEGIN
    UPDATE change_counters SET version = version + 1 WHERE name = 'tickets';
END;

CREATE TRIGGER outbox_changed AFTER UPDATE ON outbox
BEGIN
    UPDATE change_counters SET version = version + 1 WHERE name = 'tickets';
END;

CREATE TRIGGER outbox_removed AFTER DELETE ON outbox
BEGIN
    UPDATE change_counters SET version = version + 1 WHERE name = 'tickets';
END;

CREATE TRIGGER ticket_events_added AFTER INSERT ON ticket_events
BEGIN
    UPDATE change_counters SET version = version + 1 WHERE name = 'tickets';
END;

CREATE TRIGGER ticket_events_removed AFTER DELETE ON ticket_events
BEGIN
    UPDATE change_counters SET version = version + 1 WHERE name = 'tickets';
END;
