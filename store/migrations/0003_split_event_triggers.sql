-- Two triggers instead of one: every event gets its outbox row from a minimal function, and
-- only commands sent with an Idempotency-Key pay for parsing the metadata to claim the key.
-- Same guarantees as 0002: both run inside the events' own transaction.

DROP TRIGGER events_outbox ON events;
DROP FUNCTION events_after_insert();

CREATE FUNCTION events_to_outbox() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    INSERT INTO outbox (aggregate_type, aggregate_id, sequence)
    VALUES (NEW.aggregate_type, NEW.aggregate_id, NEW.sequence);
    -- Identical notifications of one transaction are delivered once, at commit.
    PERFORM pg_notify('agenthub_outbox', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER events_outbox
    AFTER INSERT
    ON events
    FOR EACH ROW
EXECUTE FUNCTION events_to_outbox();

CREATE FUNCTION events_claim_idempotency_key() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    meta jsonb := NEW.metadata::jsonb;
BEGIN
    IF meta ->> 'idempotency_key' IS NULL THEN
        RETURN NULL; -- the text test of the WHEN clause matched something else
    END IF;
    -- A command appending several events claims its key once and records its last version.
    -- A key claimed by another transaction (committed, or committing concurrently: the insert
    -- waits for it) aborts this one with unique_violation, which postgres-es reports as a
    -- conflict; the API then answers with the first command's answer.
    INSERT INTO idempotency_keys (tenant_id, key, request_hash, aggregate_type, aggregate_id, version)
    VALUES (meta ->> 'tenant_id', meta ->> 'idempotency_key', meta ->> 'request_hash',
            NEW.aggregate_type, NEW.aggregate_id, NEW.sequence)
    ON CONFLICT (tenant_id, key) DO UPDATE SET version = EXCLUDED.version
    WHERE idempotency_keys.txid = pg_current_xact_id();
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'unique_violation',
            MESSAGE = 'idempotency key already used: ' || (meta ->> 'idempotency_key');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_idempotency_key
    AFTER INSERT
    ON events
    FOR EACH ROW
    WHEN (strpos(NEW.metadata::text, '"idempotency_key"') > 0)
EXECUTE FUNCTION events_claim_idempotency_key();
