-- Records the intake could not decode (not a registry outage: that is retried). Kept so a
-- skipped record is visible and countable instead of a line in a log.
CREATE TABLE saga_dead_letters
(
    id          bigserial PRIMARY KEY,
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    "offset"    bigint      NOT NULL,
    error       text        NOT NULL,
    payload     bytea       NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (topic, partition, "offset")
);

-- Workers claim the oldest due saga first, so a burst drains saga by saga rather than step by
-- step across all of them (which made every saga wait for the whole backlog).
CREATE INDEX saga_instances_due_oldest ON saga_instances (created_at) WHERE status IN ('running', 'compensating');

-- The trace of the event that started the saga, continued by its steps and commands.
ALTER TABLE saga_instances ADD COLUMN traceparent text;
