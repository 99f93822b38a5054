//! A service's history: its audit events, newest first, each with what changed.

use entity::audit_event;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Map, Value, json};

use super::auth::Caller;
use crate::error::AppResult;

/// Fields that change on every write and say nothing on their own.
const NOISE: &[&str] = &[
    "updated_at",
    "updatedAt",
    "version",
    "import_hash",
    "fetched_at",
    "updated_by",
];

/// The events about service `id` (its details, capacity and reports): only for
/// editors and admins of the authority that owns it (`owned::service`).
pub async fn of_service(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: &str,
    limit: u64,
) -> AppResult<Vec<audit_event::Model>> {
    super::owned::service(db, caller, id).await?;
    Ok(audit_event::Entity::find()
        .filter(audit_event::Column::EntityId.eq(id))
        .filter(audit_event::Column::Entity.is_in(["service", "capacity"]))
        .order_by_desc(audit_event::Column::CreatedAt)
        .order_by_desc(audit_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// What differs between `before` and `after`: `{ field: { before, after } }`, the
/// service's own fields flattened beside its parts.
pub fn changes(before: Option<&Value>, after: Option<&Value>) -> Value {
    let flat = |value: Option<&Value>| -> Map<String, Value> {
        let mut out = Map::new();
        if let Some(Value::Object(map)) = value {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("service", Value::Object(fields)) => {
                        out.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
                    }
                    _ => {
                        out.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        out
    };
    let (before, after) = (flat(before), flat(after));
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut changed = Map::new();
    for key in keys {
        if NOISE.contains(&key.as_str()) {
            continue;
        }
        // A field absent on one side reads as null there.
        let b = before.get(key).cloned().unwrap_or(Value::Null);
        let a = after.get(key).cloned().unwrap_or(Value::Null);
        if b != a {
            changed.insert(key.clone(), json!({ "before": b, "after": a }));
        }
    }
    Value::Object(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_the_fields_that_moved_and_skip_the_bookkeeping() {
        let before = json!({ "service": { "name": "Old", "version": 1, "email": null }, "taxonomyTerms": ["a"] });
        let after = json!({ "service": { "name": "New", "version": 2, "email": null }, "taxonomyTerms": ["a", "b"] });
        assert_eq!(
            changes(Some(&before), Some(&after)),
            json!({
                "name": { "before": "Old", "after": "New" },
                "taxonomyTerms": { "before": ["a"], "after": ["a", "b"] }
            })
        );
        assert_eq!(
            changes(None, Some(&json!({ "status": "FULL", "unit": null }))),
            json!({ "status": { "before": null, "after": "FULL" } }),
            "a new record lists only what it sets"
        );
    }
}
