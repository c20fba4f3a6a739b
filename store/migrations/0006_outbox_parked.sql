-- Events the relay cannot publish however often it tries: a row that does not decode, an event
-- its schema cannot encode, a record larger than the producer accepts. The relay moves such a
-- row here (same id) instead of retrying it forever with everything else waiting behind it.
-- While an aggregate has a parked event, its later outbox rows stay in the outbox unread, so
-- consumers never see an aggregate's events out of order; an operator re-queues the parked
-- row (back into the outbox under its id, so it goes out first) once the cause is fixed.
CREATE TABLE outbox_parked
(
    id             bigint PRIMARY KEY,
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    sequence       bigint      NOT NULL,
    enqueued_at    timestamptz NOT NULL,
    reason         text        NOT NULL,
    parked_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_parked_by_aggregate ON outbox_parked (aggregate_type, aggregate_id);
