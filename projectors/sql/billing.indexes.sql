-- billing projection: what a rebuild builds after loading a new generation, each index once and
-- sorted instead of row by row: the secondary indexes the query API reads by. Each
-- CREATE may run beside the others.
CREATE INDEX invoices_by_tenant ON invoices (tenant_id, status, invoice_id);
