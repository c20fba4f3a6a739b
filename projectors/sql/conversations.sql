-- conversations projection: per agent and channel, and messages in order (the agents' memory).
CREATE TABLE conversations
(
    conversation_id uuid PRIMARY KEY,
    tenant_id       text        NOT NULL,
    agent_id        uuid        NOT NULL,
    channel         text        NOT NULL,
    customer_ref    text        NOT NULL,
    status          text        NOT NULL,
    message_count   integer     NOT NULL,
    started_at      timestamptz NOT NULL,
    closed_at       timestamptz,
    updated_at      timestamptz NOT NULL,
    version         bigint      NOT NULL
);
CREATE TABLE messages
(
    conversation_id uuid        NOT NULL,
    message_number  integer     NOT NULL,
    direction       text        NOT NULL, -- received | sent
    text            text        NOT NULL,
    occurred_at     timestamptz NOT NULL
    -- Its key is in conversations.indexes.sql.
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
