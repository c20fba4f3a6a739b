-- tasks projection: by agent, by status, by time, and the history of state changes.
CREATE TABLE tasks
(
    task_id     uuid PRIMARY KEY,
    tenant_id   text        NOT NULL,
    title       text        NOT NULL,
    description text,
    priority    text        NOT NULL,
    status      text        NOT NULL,
    agent_id    uuid,
    result      text,
    failure     text,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    version     bigint      NOT NULL
);
CREATE TABLE task_history
(
    task_id     uuid        NOT NULL,
    sequence    bigint      NOT NULL,
    event_type  text        NOT NULL,
    status      text        NOT NULL,
    agent_id    uuid,
    occurred_at timestamptz NOT NULL
    -- Its key is in tasks.indexes.sql.
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
