-- conversations projection: what a rebuild builds after loading a new generation, each index once and
-- sorted instead of row by row: the secondary indexes the query API reads by, and the keys of
-- the insert-only tables (their inserts name no conflict target, and the applied versions
-- already keep each event to one row). Each CREATE may run beside the others; the ALTERs come
-- last and only turn built unique indexes into the table's constraints.
CREATE UNIQUE INDEX messages_pkey ON messages (conversation_id, message_number);
CREATE INDEX conversations_by_agent ON conversations (tenant_id, agent_id, channel, conversation_id);
ALTER TABLE messages ADD PRIMARY KEY USING INDEX messages_pkey;
