-- Threads: a client's reply to a team message is posted in that message's thread on monday.
ALTER TABLE outbox ADD COLUMN parent_update_id TEXT;
-- Set when an attempt may have reached monday without the portal learning the outcome (a lost
-- answer, a timeout, a partial answer): the next attempt looks on the board before sending, so
-- nothing is created twice even after monday's 30-minute idempotency window.
ALTER TABLE outbox ADD COLUMN uncertain INTEGER NOT NULL DEFAULT 0;
-- A description longer than monday's long-text column holds goes, whole, into the item's
-- first update: its id once posted.
ALTER TABLE outbox ADD COLUMN description_update_id TEXT;

-- monday's daily call count, one row per instance and UTC day (in tenths: a rate-limited
-- answer costs a tenth of a call). monday counts per account, so the day's total is the sum
-- over every instance, and a restarted instance (a new id) still counts what its predecessor
-- spent. `spent_until` (Unix seconds) is set while monday says the day is spent.
CREATE TABLE IF NOT EXISTS monday_usage (
    day TEXT NOT NULL,
    instance TEXT NOT NULL,
    tenths INTEGER NOT NULL,
    spent_until INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (day, instance)
);
