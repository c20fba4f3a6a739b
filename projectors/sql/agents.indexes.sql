-- agents projection: what a rebuild builds after loading a new generation, each index once and
-- sorted instead of row by row: the secondary indexes the query API reads by. Each
-- CREATE may run beside the others.
CREATE INDEX agents_by_tenant ON agents (tenant_id, agent_id);
CREATE INDEX agent_tasks_by_agent ON agent_tasks (agent_id, state);
