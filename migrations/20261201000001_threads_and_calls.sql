-- Threads: a client's reply to a team message is posted in that message's thread on monday.
ALTER TABLE outbox ADD COLUMN parent_update_id TEXT;
-- Set when an attempt may have reached monday without the portal learning the outcome (a lost
-- answer, a timeout, a partial answer): the next attempt looks on the board before sending, so
-- nothing is created twice even after monday's 30-minute idempotency window.
ALTER TABLE outbox ADD COLUMN uncertain INTEGER NOT NULL DEFAULT 0;
-- A description longer than monday's long-text column holds goes, whole, into the item's
-- first update: its id once posted.
ALTER TABLE outbox ADD COLUMN description_update_id TEXT;

-- monday's daily call count as the portal keeps it (in tenths: a rate-limited answer costs a
-- tenth of a call), so a restart does not forget what the day has spent and `doctor` can show
-- it.
CREATE TABLE IF NOT EXISTS monday_usage (
    day TEXT PRIMARY KEY NOT NULL,
    tenths INTEGER NOT NULL
);
