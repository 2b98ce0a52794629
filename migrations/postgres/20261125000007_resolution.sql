-- Clients resolve, reopen and rate their tickets (see the SQLite migration of the same name).
ALTER TABLE outbox ADD COLUMN action TEXT CHECK (action IN ('resolve', 'reopen', 'rate'));
ALTER TABLE outbox ADD COLUMN action_value TEXT;

CREATE TABLE ratings (
    portal_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    email TEXT NOT NULL,
    score TEXT NOT NULL CHECK (score IN ('good', 'bad')),
    comment TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (portal_id, ticket_id)
);
