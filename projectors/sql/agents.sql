-- agents projection: list and detail, with open and completed task counts.
CREATE TABLE agents
(
    agent_id      uuid PRIMARY KEY,
    tenant_id     text        NOT NULL,
    name          text        NOT NULL,
    industry      text        NOT NULL,
    provider      text        NOT NULL,
    model         text        NOT NULL,
    temperature   double precision NOT NULL,
    max_tokens    integer     NOT NULL,
    system_prompt text        NOT NULL,
    status        text        NOT NULL,
    deployed_at   timestamptz,
    -- Set by the deployment workflow.
    knowledge_base_id        text,
    widget_embed_code        text,
    status_before_deployment text,
    last_deployment_failure  text,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    version       bigint      NOT NULL
);
-- Where each task stands for its agent; counts are derived from it.
CREATE TABLE agent_tasks
(
    task_id   uuid PRIMARY KEY,
    tenant_id text    NOT NULL,
    agent_id  uuid,
    state     text    NOT NULL, -- unassigned | open | completed | closed
    version   bigint  NOT NULL
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
