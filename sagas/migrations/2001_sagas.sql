-- Saga instances, their step log, and the intake consumer's offsets.

CREATE TABLE saga_instances
(
    saga_id         uuid PRIMARY KEY,
    saga_type       text        NOT NULL,
    -- What the saga is about (a task id, a conversation message): one saga per type and correlation.
    correlation_id  text        NOT NULL,
    tenant_id       text        NOT NULL,
    status          text        NOT NULL, -- running | compensating | completed | compensated | parked | cancelled
    step            text        NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    data            jsonb       NOT NULL,
    -- Durable deadline: checked by the executor, so a restart does not forget it.
    deadline_at     timestamptz,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (saga_type, correlation_id)
);
CREATE INDEX saga_instances_due ON saga_instances (next_attempt_at) WHERE status IN ('running', 'compensating');
CREATE INDEX saga_instances_by_status ON saga_instances (status, saga_id);

-- What each saga did: the command or call, with its idempotency key and outcome.
CREATE TABLE saga_steps
(
    saga_id         uuid        NOT NULL REFERENCES saga_instances (saga_id),
    seq             integer     NOT NULL,
    step            text        NOT NULL,
    action          text        NOT NULL,
    idempotency_key text,
    outcome         text        NOT NULL, -- ok | transient | rejected | compensated | parked | ...
    detail          text,
    at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (saga_id, seq)
);

-- The intake consumer's next offsets, committed with the saga rows they created.
CREATE TABLE saga_offsets
(
    topic       text    NOT NULL,
    partition   integer NOT NULL,
    next_offset bigint  NOT NULL,
    PRIMARY KEY (topic, partition)
);
