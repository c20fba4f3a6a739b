-- audit projection: what a rebuild builds after loading a new generation, each index once and
-- sorted instead of row by row: the secondary indexes the query API reads by, and the keys of
-- the insert-only tables (their inserts name no conflict target, and the applied versions
-- already keep each event to one row).
ALTER TABLE audit_events ADD PRIMARY KEY (event_id), ADD UNIQUE (aggregate_id, sequence);
CREATE INDEX audit_by_tenant_time ON audit_events (tenant_id, occurred_at, event_id);
CREATE INDEX audit_by_aggregate ON audit_events (tenant_id, aggregate_id, sequence);
