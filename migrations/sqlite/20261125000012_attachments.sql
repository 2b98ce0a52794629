-- Files clients attach to a new ticket or a message. The bytes are kept here, in chunks, from
-- the upload until monday has the file and the grace period (`ATTACHMENT_KEEP_HOURS`) has
-- passed, so whichever instance runs the outbox can deliver them and any instance can serve
-- them meanwhile. A ticket's files go on the update holding its description
-- (`outbox.description_update_id`); a message's on the message's own update.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY NOT NULL,
    outbox_id TEXT NOT NULL,
    portal_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'delivered', 'failed')),
    -- monday's asset once delivered: downloads stream from its `public_url` after the bytes go
    asset_id TEXT,
    -- an upload may have reached monday without the answer reaching us: look before resending
    uncertain INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER,
    -- 0 once the chunks are removed
    stored INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX attachments_by_outbox ON attachments (outbox_id, position);
CREATE INDEX attachments_to_remove ON attachments (stored, state, delivered_at);

CREATE TABLE attachment_chunks (
    attachment_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (attachment_id, seq)
);
