-- The outbox row stays in the events' transaction; the NOTIFY leaves it. A NOTIFY makes the
-- commit take PostgreSQL's global notify lock until its WAL record is flushed, which
-- serialised every command's commit. The command-api now wakes the relay after the commit
-- (in process when its relay leads, else one coalesced NOTIFY; messaging/src/relay/signal.rs),
-- and the relay polls as a fallback.

CREATE OR REPLACE FUNCTION events_to_outbox() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    INSERT INTO outbox (aggregate_type, aggregate_id, sequence)
    VALUES (NEW.aggregate_type, NEW.aggregate_id, NEW.sequence);
    RETURN NULL;
END
$$;
