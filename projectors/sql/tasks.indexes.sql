-- tasks projection: what a rebuild builds after loading a new generation, each index once and
-- sorted instead of row by row: the secondary indexes the query API reads by, and the keys of
-- the insert-only tables (their inserts name no conflict target, and the applied versions
-- already keep each event to one row).
ALTER TABLE task_history ADD PRIMARY KEY (task_id, sequence);
CREATE INDEX tasks_by_tenant ON tasks (tenant_id, task_id);
CREATE INDEX tasks_by_agent ON tasks (tenant_id, agent_id, task_id);
CREATE INDEX tasks_by_status ON tasks (tenant_id, status, task_id);
