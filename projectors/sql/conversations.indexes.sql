-- conversations projection: what a rebuild builds after loading a new generation, each index once and
-- sorted instead of row by row: the secondary indexes the query API reads by, and the keys of
-- the insert-only tables (their inserts name no conflict target, and the applied versions
-- already keep each event to one row).
ALTER TABLE messages ADD PRIMARY KEY (conversation_id, message_number);
CREATE INDEX conversations_by_agent ON conversations (tenant_id, agent_id, channel, conversation_id);
