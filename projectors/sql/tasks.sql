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
CREATE INDEX tasks_by_tenant ON tasks (tenant_id, task_id);
CREATE INDEX tasks_by_agent ON tasks (tenant_id, agent_id, task_id);
CREATE INDEX tasks_by_status ON tasks (tenant_id, status, task_id);
CREATE TABLE task_history
(
    task_id     uuid        NOT NULL,
    sequence    bigint      NOT NULL,
    event_type  text        NOT NULL,
    status      text        NOT NULL,
    agent_id    uuid,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (task_id, sequence)
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
