-- Notifications by email (src/server/notify). Each change worth telling a member about is an
-- event, saved before anything is sent. Events go into a mail by their channel: one ticket of
-- one member (coalesced within a short window) or one member's daily digest. A mail collects
-- while `open_key` is set; sealing clears it (so the next event starts a new mail) and fixes
-- the mail's events; then it is sent under a lease, like the outbox, exactly once.
CREATE TABLE notify_mails (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    open_key TEXT UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('ticket', 'digest')),
    portal_id TEXT NOT NULL,
    email TEXT NOT NULL,
    ticket_id TEXT,
    state TEXT NOT NULL DEFAULT 'collecting'
        CHECK (state IN ('collecting', 'waiting', 'sent', 'failed', 'dropped')),
    due_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at BIGINT NOT NULL,
    claimed_by TEXT,
    lease_until BIGINT,
    unsubscribe_hash TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX notify_mails_due ON notify_mails (state, due_at);
CREATE INDEX notify_mails_waiting ON notify_mails (state, next_attempt_at);
CREATE INDEX notify_mails_unsubscribe ON notify_mails (unsubscribe_hash);
CREATE INDEX notify_mails_by_ticket ON notify_mails (ticket_id, seq);

CREATE TABLE notify_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel TEXT NOT NULL,
    mail_id TEXT,
    portal_id TEXT NOT NULL,
    email TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    ticket_title TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notify_events_open ON notify_events (channel, mail_id);
CREATE INDEX notify_events_by_mail ON notify_events (mail_id, seq);

-- What each member wants mailed; members without a row get their portal's default.
CREATE TABLE notify_prefs (
    portal_id TEXT NOT NULL,
    email TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('all', 'replies', 'digest', 'none')),
    digest_hour BIGINT NOT NULL DEFAULT 8,
    utc_offset_minutes BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (portal_id, email)
);
ALTER TABLE portals ADD COLUMN notify_default TEXT;

-- A link in a notification opens one ticket: the magic link remembers which.
ALTER TABLE magic_links ADD COLUMN ticket_id TEXT;
