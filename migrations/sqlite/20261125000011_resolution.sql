-- Clients resolve, reopen and rate their tickets. Each is a message on the ticket (an outbox
-- row of kind 'reply') that also changes a column when it reaches monday: `action` says which
-- ('resolve', 'reopen', 'rate'; NULL for a plain message), `action_value` the rating.
ALTER TABLE outbox ADD COLUMN action TEXT CHECK (action IN ('resolve', 'reopen', 'rate'));
ALTER TABLE outbox ADD COLUMN action_value TEXT;

-- The ticket's current rating (one per ticket, the latest wins; a reopen removes it).
CREATE TABLE ratings (
    portal_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    email TEXT NOT NULL,
    score TEXT NOT NULL CHECK (score IN ('good', 'bad')),
    comment TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (portal_id, ticket_id)
);
