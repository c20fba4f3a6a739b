-- The transactional outbox and idempotency keys, both written by a trigger on `events`.
--
-- Why a trigger: postgres-es opens and commits its own transaction when it appends events,
-- so code outside it cannot add rows to that transaction. An AFTER INSERT trigger runs inside
-- it: an event row, its outbox row and its idempotency key commit together or not at all.
-- No dual write, nothing lost between commit and publish.

-- One row per event not yet acknowledged by the broker. The relay deletes a row only after
-- the broker acknowledged the record. `id` orders rows of one aggregate in commit order:
-- appends to one aggregate are serialised by the events primary key.
CREATE TABLE outbox
(
    id             bigserial PRIMARY KEY,
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    sequence       bigint      NOT NULL,
    enqueued_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The first answer to a command sent with an Idempotency-Key, per tenant.
CREATE TABLE idempotency_keys
(
    tenant_id      text        NOT NULL,
    key            text        NOT NULL,
    request_hash   text        NOT NULL,
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    version        bigint      NOT NULL,
    txid           xid8        NOT NULL DEFAULT pg_current_xact_id(),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);

CREATE FUNCTION events_after_insert() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    meta            jsonb := NEW.metadata::jsonb;
    idempotency_key text  := meta ->> 'idempotency_key';
BEGIN
    INSERT INTO outbox (aggregate_type, aggregate_id, sequence)
    VALUES (NEW.aggregate_type, NEW.aggregate_id, NEW.sequence);
    -- Identical notifications of one transaction are delivered once, at commit.
    PERFORM pg_notify('agenthub_outbox', '');

    IF idempotency_key IS NOT NULL THEN
        -- A command appending several events claims its key once and records its last version.
        -- A key claimed by another transaction (committed, or committing concurrently: the
        -- insert waits for it) aborts this one with unique_violation, which postgres-es
        -- reports as a conflict; the API then answers with the first command's answer.
        INSERT INTO idempotency_keys (tenant_id, key, request_hash, aggregate_type, aggregate_id, version)
        VALUES (meta ->> 'tenant_id', idempotency_key, meta ->> 'request_hash',
                NEW.aggregate_type, NEW.aggregate_id, NEW.sequence)
        ON CONFLICT (tenant_id, key) DO UPDATE SET version = EXCLUDED.version
        WHERE idempotency_keys.txid = pg_current_xact_id();
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'unique_violation',
                MESSAGE = 'idempotency key already used: ' || idempotency_key;
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_outbox
    AFTER INSERT
    ON events
    FOR EACH ROW
EXECUTE FUNCTION events_after_insert();
