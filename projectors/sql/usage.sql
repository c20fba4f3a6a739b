-- usage projection: per agent and day, messages received/sent, tasks completed/failed, and
-- the LLM tokens the replies consumed (billed).
CREATE TABLE usage_daily
(
    tenant_id          text   NOT NULL,
    agent_id           uuid   NOT NULL,
    day                date   NOT NULL,
    messages_received  bigint NOT NULL DEFAULT 0,
    messages_sent      bigint NOT NULL DEFAULT 0,
    tasks_completed    bigint NOT NULL DEFAULT 0,
    tasks_failed       bigint NOT NULL DEFAULT 0,
    prompt_tokens      bigint NOT NULL DEFAULT 0,
    completion_tokens  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, agent_id, day)
);
-- Which agent a conversation or task belongs to (message events do not name the agent).
CREATE TABLE usage_owners
(
    aggregate_id  uuid PRIMARY KEY,
    agent_id      uuid
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
