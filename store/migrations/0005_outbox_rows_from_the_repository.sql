-- The outbox rows are now written by the event repository in the same statement as the
-- events (store/src/event_repository.rs: one data-modifying CTE, one implicit transaction),
-- so the row-by-row PL/pgSQL trigger goes. Every append goes through that repository.
-- The idempotency-key trigger stays: it still runs inside the same statement.
DROP TRIGGER events_outbox ON events;
DROP FUNCTION events_to_outbox();
