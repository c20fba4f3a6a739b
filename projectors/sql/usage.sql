-- usage projection: per agent and day, messages received/sent and tasks completed/failed.
CREATE TABLE usage_daily
(
    tenant_id          text   NOT NULL,
    agent_id           uuid   NOT NULL,
    day                date   NOT NULL,
    messages_received  bigint NOT NULL DEFAULT 0,
    messages_sent      bigint NOT NULL DEFAULT 0,
    tasks_completed    bigint NOT NULL DEFAULT 0,
    tasks_failed       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, agent_id, day)
);
-- Counters are increments, so each aggregate's last applied sequence makes them idempotent.
CREATE TABLE usage_streams
(
    aggregate_id  uuid PRIMARY KEY,
    agent_id      uuid,
    last_sequence bigint NOT NULL
);
