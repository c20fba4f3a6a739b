-- audit projection: every event of a tenant, filterable by aggregate, type and time.
CREATE TABLE audit_events
(
    event_id       uuid        NOT NULL,
    tenant_id      text        NOT NULL,
    aggregate_type text        NOT NULL,
    aggregate_id   uuid        NOT NULL,
    sequence       bigint      NOT NULL,
    event_type     text        NOT NULL,
    occurred_at    timestamptz NOT NULL,
    correlation_id text        NOT NULL,
    payload        jsonb       NOT NULL
    -- Its keys are in audit.indexes.sql.
);
-- The version of each aggregate this generation has applied: a re-delivered or re-published
-- event (sequence <= version) changes nothing, and read-your-writes waits on it.
CREATE TABLE stream_versions
(
    aggregate_id uuid PRIMARY KEY,
    -- Read-your-writes answers only about the caller's own tenant's aggregates.
    tenant_id    text   NOT NULL,
    version      bigint NOT NULL
);
