//! Many rows of one table in few statements, for bulk loads, written here rather than
//! by SeaORM's `insert_many`, which built a statement of whatever length a batch had:
//! each was parsed and planned anew, and building it (active models, an expression
//! per value) was a third of an import's own CPU. On SQLite a statement carries a
//! fixed number of rows (64, then powers of two for the rest), so the driver prepares
//! a handful of texts per table once and reuses them, the values the models' own
//! (`ModelTrait::get`), bound as SeaORM binds them. On PostgreSQL a statement carries
//! up to 1,000 rows as one JSON parameter that the server reads into the table's row
//! type (`json_populate_recordset`).

use std::collections::HashSet;

use sea_orm::{
    ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, IdenStatic, Iterable, ModelTrait,
    PrimaryKeyToColumn, PrimaryKeyTrait, Statement, Value,
};

/// Rows per statement, and the most bound values one may carry (SQLite allows
/// 32,766, PostgreSQL 65,535).
const ROWS: usize = 64;
const VALUES: usize = 30_000;
/// Rows per statement on PostgreSQL, which takes them as one JSON parameter.
const JSON_ROWS: usize = 1000;

/// What happens to a row whose key is already stored.
pub enum Conflict<'a, C> {
    /// Update every column but the key and these.
    Update(&'a [C]),
    /// Rows expected to be new: a stored key fails the statement, for the caller to
    /// fall back on `Update`. A plain insert costs PostgreSQL a quarter less than
    /// one with `ON CONFLICT` (measured on the schedule table at a million services).
    Fail,
    /// No key to conflict on (rows with a generated id).
    None,
}

/// Insert `rows`. A generated key (auto-increment) is left to the database. Unless
/// `Conflict::None`, rows repeating a key are dropped (first wins): one statement may
/// not touch a row twice, and services sharing a location repeat its parts.
pub async fn insert<'a, E>(
    db: &impl ConnectionTrait,
    rows: impl IntoIterator<Item = &'a E::Model>,
    conflict: Conflict<'_, E::Column>,
) -> Result<(), DbErr>
where
    E: EntityTrait,
    E::Model: serde::Serialize,
{
    let rows: Vec<&E::Model> = rows.into_iter().collect();
    if rows.is_empty() {
        return Ok(());
    }
    let keys: Vec<E::Column> = E::PrimaryKey::iter().map(|k| k.into_column()).collect();
    let generated = <E::PrimaryKey as PrimaryKeyTrait>::auto_increment();
    let columns: Vec<E::Column> = E::Column::iter()
        .filter(|c| !(generated && keys.iter().any(|k| k.as_str() == c.as_str())))
        .collect();
    let tail = match &conflict {
        Conflict::None | Conflict::Fail => String::new(),
        Conflict::Update(keep) => {
            let fixed: Vec<&str> = keys.iter().chain(keep.iter()).map(|c| c.as_str()).collect();
            let set: Vec<String> = columns
                .iter()
                .filter(|c| !fixed.contains(&c.as_str()))
                .map(|c| format!("\"{0}\" = excluded.\"{0}\"", c.as_str()))
                .collect();
            if set.is_empty() {
                format!(" ON CONFLICT ({}) DO NOTHING", names(&keys))
            } else {
                format!(
                    " ON CONFLICT ({}) DO UPDATE SET {}",
                    names(&keys),
                    set.join(", ")
                )
            }
        }
    };
    let rows: Vec<&E::Model> = match conflict {
        Conflict::None => rows,
        _ => {
            let mut seen = HashSet::with_capacity(rows.len());
            rows.into_iter()
                .filter(|row| seen.insert(keys.iter().map(|k| row.get(*k)).collect::<Vec<Value>>()))
                .collect()
        }
    };
    let table = E::default().table_name();
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            // One parameter a statement: the rows as a JSON array, read into the
            // table's row type by the server. A VALUES list is compiled value by
            // value on every execution, which was most of a PostgreSQL import.
            let sql = format!(
                "INSERT INTO \"{table}\" ({0}) SELECT {0} FROM json_populate_recordset(NULL::\"{table}\", $1::json){tail}",
                names(&columns)
            );
            let statements = rows.chunks(JSON_ROWS).map(|group| {
                let json = serde_json::to_string(group)
                    .map_err(|e| DbErr::Custom(format!("{table} rows as JSON: {e}")))?;
                Ok(Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    sql.clone(),
                    [Value::from(json)],
                ))
            });
            run(db, statements).await
        }
        backend => {
            let head = format!("INSERT INTO \"{table}\" ({}) VALUES ", names(&columns));
            let most = ROWS.min(VALUES / columns.len()).max(1);
            let mut rest = &rows[..];
            let statements = std::iter::from_fn(|| {
                if rest.is_empty() {
                    return None;
                }
                let (these, after) = rest.split_at(group(rest.len(), most));
                rest = after;
                let mut sql = head.clone();
                let mut values = Vec::with_capacity(these.len() * columns.len());
                for (r, row) in these.iter().enumerate() {
                    sql.push_str(if r == 0 { "(" } else { ", (" });
                    for (c, column) in columns.iter().enumerate() {
                        values.push(row.get(*column));
                        sql.push_str(if c == 0 { "?" } else { ", ?" });
                    }
                    sql.push(')');
                }
                sql.push_str(&tail);
                Some(Ok(Statement::from_sql_and_values(backend, sql, values)))
            });
            run(db, statements).await
        }
    }
}

/// Execute the statements in order, building each while the one before runs: the
/// first poll hands a statement to the driver, so the database's work and ours
/// overlap on two cores.
async fn run(
    db: &impl ConnectionTrait,
    mut statements: impl Iterator<Item = Result<Statement, DbErr>>,
) -> Result<(), DbErr> {
    let mut next = statements.next();
    while let Some(statement) = next {
        let (done, following) =
            futures::join!(db.execute_raw(statement?), async { statements.next() });
        done?;
        next = following;
    }
    Ok(())
}

/// How many of `left` rows the next statement takes: `most`, then the largest power
/// of two that fits, so only a few distinct statements exist per table.
fn group(left: usize, most: usize) -> usize {
    if left >= most {
        most
    } else {
        1 << left.ilog2()
    }
}

fn names<C: IdenStatic>(columns: &[C]) -> String {
    columns
        .iter()
        .map(|c| format!("\"{}\"", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::group;

    #[test]
    fn groups_are_the_most_then_powers_of_two() {
        let mut left = 64 * 2 + 45;
        let mut sizes = Vec::new();
        while left > 0 {
            let size = group(left, 64);
            sizes.push(size);
            left -= size;
        }
        assert_eq!(sizes, [64, 64, 32, 8, 4, 1]);
        assert_eq!(group(3, 2), 2);
    }
}
