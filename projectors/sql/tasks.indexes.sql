-- tasks projection: what a rebuild builds after loading a new generation, each index once and
-- sorted instead of row by row: the secondary indexes the query API reads by, and the keys of
-- the insert-only tables (their inserts name no conflict target, and the applied versions
-- already keep each event to one row). Each CREATE may run beside the others; the ALTERs come
-- last and only turn built unique indexes into the table's constraints.
CREATE UNIQUE INDEX task_history_pkey ON task_history (task_id, sequence);
CREATE INDEX tasks_by_tenant ON tasks (tenant_id, task_id);
CREATE INDEX tasks_by_agent ON tasks (tenant_id, agent_id, task_id);
CREATE INDEX tasks_by_status ON tasks (tenant_id, status, task_id);
ALTER TABLE task_history ADD PRIMARY KEY USING INDEX task_history_pkey;
