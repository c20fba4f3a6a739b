-- Projector bookkeeping, shared by every projection and generation.

-- Which generation of each projection serves queries, and which one is being built.
-- A generation's tables live in the schema rm_<projection>_g<generation>.
CREATE TABLE projection_generations
(
    projection          text PRIMARY KEY,
    live_generation     integer     NOT NULL,
    building_generation integer,
    swapped_at          timestamptz NOT NULL DEFAULT now()
);

-- The next offset to apply per partition: committed in the same transaction as the read
-- model rows it produced. This, not Kafka's committed offset, is the source of truth.
CREATE TABLE projection_offsets
(
    projection  text        NOT NULL,
    generation  integer     NOT NULL,
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    next_offset bigint      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, generation, topic, partition)
);

-- Records a projection could not decode or apply, written in the batch's transaction;
-- also forwarded to the <prefix>.dlq.<projection> topic.
CREATE TABLE projection_dead_letters
(
    id          bigserial PRIMARY KEY,
    projection  text        NOT NULL,
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    "offset"    bigint      NOT NULL,
    record_key  text,
    payload     bytea,
    headers     jsonb       NOT NULL DEFAULT '{}',
    error       text        NOT NULL,
    failed_at   timestamptz NOT NULL DEFAULT now(),
    retried_at  timestamptz,
    forwarded   boolean     NOT NULL DEFAULT false,
    UNIQUE (projection, topic, partition, "offset")
);
