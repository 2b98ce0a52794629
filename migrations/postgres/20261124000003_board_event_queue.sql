-- monday's webhooks, as any instance received them, waiting for the instance that processes
-- them all (the holder of the leader's advisory lock). A row leaves once processed.
CREATE TABLE board_event_queue (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
