-- billing projection: invoices per tenant with status; totals are summed per currency.
CREATE TABLE invoices
(
    invoice_id        uuid PRIMARY KEY,
    tenant_id         text        NOT NULL,
    status            text        NOT NULL, -- issued | paid | voided
    currency          text        NOT NULL,
    total_minor       bigint      NOT NULL,
    period_start      date        NOT NULL,
    period_end        date        NOT NULL,
    line_items        jsonb       NOT NULL,
    payment_reference text,
    void_reason       text,
    issued_at         timestamptz NOT NULL,
    paid_at           timestamptz,
    voided_at         timestamptz,
    version           bigint      NOT NULL
);
-- The version of each aggregate this generation has applied: a re-delivered or re-published
-- event (sequence <= version) changes nothing, and read-your-writes waits on it.
CREATE TABLE stream_versions
(
    aggregate_id uuid PRIMARY KEY,
    -- Read-your-writes answers only about the caller's own tenant's aggregates.
    tenant_id    text   NOT NULL,
    version      bigint NOT NULL
);
