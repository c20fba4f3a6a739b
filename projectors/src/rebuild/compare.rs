//! The check before a swap: the rebuilt generation against the live one, table by table.

use sqlx::{PgConnection, PgPool};

use crate::{Generation, ProjectorError};

/// Row counts and per-row checksums, table by table; a description of each table that differs.
/// Each row's checksum is PostgreSQL's 64-bit hash of the whole row (`hash_record_extended`,
/// every column hashed by its type's hash function), hashed once more before a table's are
/// summed (the row hash mixes its columns' hashes linearly, so values swapped between rows
/// could cancel out in the sum). Neither side is sorted nor printed as text: the comparison
/// runs while the live projector waits on its offsets' lock, and the md5 of each row's text
/// took seconds per million rows.
pub(super) async fn compare(
    db: &mut PgConnection,
    pool: &PgPool,
    live: Generation,
    new: Generation,
) -> Result<Vec<String>, ProjectorError> {
    let mut differences = Vec::new();
    for table in live.projection.tables() {
        // Identifiers come from fixed names and generation numbers: safe to splice.
        let (old, fresh) = (
            format!("{}.{table}", live.schema()),
            format!("{}.{table}", new.schema()),
        );
        let checksum = |t: &str| {
            format!(
                "SELECT count(*), coalesce(sum(hashint8extended(hash_record_extended(x, 0), 0)), 0)::text FROM {t} x"
            )
        };
        // The live side is summed in the locked snapshot; the rebuilt side, which nothing but
        // this rebuild writes and which holds everything it applied, on another connection at
        // the same time (the comparison of a million rows is then as long as one side's sum).
        let (old_sql, new_sql) = (checksum(&old), checksum(&fresh));
        let ((old_count, old_sum), (new_count, new_sum)): ((i64, String), (i64, String)) = tokio::try_join!(
            sqlx::query_as(&old_sql).fetch_one(&mut *db),
            sqlx::query_as(&new_sql).fetch_one(pool),
        )?;
        if old_count != new_count || old_sum != new_sum {
            // Rows of different shapes (a changed table) cannot be compared row by row; the
            // savepoint keeps that failure from aborting the transaction the swap needs.
            sqlx::query("SAVEPOINT compare_rows")
                .execute(&mut *db)
                .await?;
            let differing: Result<i64, sqlx::Error> = sqlx::query_scalar(&format!(
                "SELECT count(*) FROM ((SELECT * FROM {old} EXCEPT SELECT * FROM {fresh}) UNION ALL (SELECT * FROM {fresh} EXCEPT SELECT * FROM {old})) d"
            ))
            .fetch_one(&mut *db)
            .await;
            let rows = match differing {
                Ok(count) => {
                    sqlx::query("RELEASE SAVEPOINT compare_rows")
                        .execute(&mut *db)
                        .await?;
                    format!("{count} rows differ")
                }
                // EXCEPT over different column counts (42601) or types (42804).
                Err(sqlx::Error::Database(error))
                    if matches!(error.code().as_deref(), Some("42601" | "42804")) =>
                {
                    sqlx::query("ROLLBACK TO SAVEPOINT compare_rows")
                        .execute(&mut *db)
                        .await?;
                    "the tables' columns differ".to_owned()
                }
                Err(other) => return Err(other.into()),
            };
            differences.push(format!(
                "{table}: live has {old_count} rows, rebuilt has {new_count}; {rows}"
            ));
        }
    }
    Ok(differences)
}
