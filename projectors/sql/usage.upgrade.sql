-- Generations created before token usage was recorded: the same columns, zero for the
-- history they already hold (earlier MessageSent records carry no token counts, so a rebuild
-- would give the same zeros).
ALTER TABLE usage_daily
    ADD COLUMN IF NOT EXISTS prompt_tokens     bigint NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS completion_tokens bigint NOT NULL DEFAULT 0;
