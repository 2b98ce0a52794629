-- Threads: a client's reply to a team message is posted in that message's thread on monday.
ALTER TABLE outbox ADD COLUMN parent_update_id TEXT;
-- Set when an attempt may have reached monday without the portal learning the outcome; the
-- next attempt looks on the board before sending (see the SQLite migration).
ALTER TABLE outbox ADD COLUMN uncertain BIGINT NOT NULL DEFAULT 0;
-- A description longer than monday's long-text column: the update holding all of it.
ALTER TABLE outbox ADD COLUMN description_update_id TEXT;

-- monday's daily call count per instance and UTC day, in tenths; the day's total is the sum.
CREATE TABLE monday_usage (
    day TEXT NOT NULL,
    instance TEXT NOT NULL,
    tenths BIGINT NOT NULL,
    spent_until BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (day, instance)
);
