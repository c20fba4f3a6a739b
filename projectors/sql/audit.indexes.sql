-- audit projection: what a rebuild builds after loading a new generation, each index once and
-- sorted instead of row by row: the secondary indexes the query API reads by, and the keys of
-- the insert-only tables (their inserts name no conflict target, and the applied versions
-- already keep each event to one row). Each CREATE may run beside the others; the ALTERs come
-- last and only turn built unique indexes into the table's constraints.
-- Reads by aggregate use the (aggregate_id, sequence) key; by tenant and time, the index below.
CREATE UNIQUE INDEX audit_events_pkey ON audit_events (event_id);
CREATE UNIQUE INDEX audit_events_aggregate_id_sequence_key ON audit_events (aggregate_id, sequence);
CREATE INDEX audit_by_tenant_time ON audit_events (tenant_id, occurred_at, event_id);
ALTER TABLE audit_events ADD PRIMARY KEY USING INDEX audit_events_pkey,
    ADD UNIQUE USING INDEX audit_events_aggregate_id_sequence_key;
