//! Per-operation size limits: aliases, root fields, fields in all (fragments counted
//! where they are spread), depth, and operations per document. Introspection fields
//! are walked but not counted, so GraphiQL's deep introspection query passes (the
//! introspection switch governs it). Checked right after parsing, before validation or execution, so an
//! alias flood or a fragment bomb costs a walk of at most a few thousand nodes.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

pub const MAX_ALIASES: usize = 30;
pub const MAX_ROOT_FIELDS: usize = 20;
pub const MAX_FIELDS: usize = 200;
pub const MAX_OPERATIONS: usize = 10;
pub const MAX_INTROSPECTION_DEPTH: usize = 16;
/// Selections visited before giving up: bounds fragments that spread others many times.
const MAX_VISITS: usize = 5_000;

/// The code these refusals carry (the HTTP layer answers them with 400).
pub const CODE: &str = "OPERATION_TOO_LARGE";

#[derive(Default)]
struct Count {
    aliases: usize,
    fields: usize,
    visits: usize,
}

fn walk<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    count: &mut Count,
    spreading: &mut Vec<&'a str>,
    introspection: bool,
    depth: usize,
) -> Result<usize, String> {
    // Returns the fields directly in this set (through fragments), for the root count.
    let mut here = 0;
    for selection in &set.items {
        count.visits += 1;
        if count.visits > MAX_VISITS {
            return Err("the operation is too large to check".into());
        }
        match &selection.node {
            Selection::Field(field) => {
                here += 1;
                // Introspection (GraphiQL's query is ~250 fields) is governed by the
                // introspection switch, not the field budget; it is still walked.
                let name = field.node.name.node.as_str();
                let introspection = introspection || name == "__schema" || name == "__type";
                // Introspection nests deeper (type references inside type
                // references: GraphiQL's query is 13 levels), but not without end.
                let limit = if introspection {
                    MAX_INTROSPECTION_DEPTH
                } else {
                    count.fields += 1;
                    super::MAX_DEPTH
                };
                if depth + 1 > limit {
                    return Err(format!(
                        "the query is nested too deep (more than {limit} levels)"
                    ));
                }
                if field.node.alias.is_some() {
                    count.aliases += 1;
                }
                if count.fields > MAX_FIELDS {
                    return Err(format!("more than {MAX_FIELDS} fields in one operation"));
                }
                if count.aliases > MAX_ALIASES {
                    return Err(format!("more than {MAX_ALIASES} aliases in one operation"));
                }
                walk(
                    document,
                    &field.node.selection_set.node,
                    count,
                    spreading,
                    introspection,
                    depth + 1,
                )?;
            }
            Selection::InlineFragment(fragment) => {
                here += walk(
                    document,
                    &fragment.node.selection_set.node,
                    count,
                    spreading,
                    introspection,
                    depth,
                )?;
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if spreading.contains(&name) {
                    return Err(format!("fragment {name} spreads itself"));
                }
                // An unknown fragment is left to validation, which names it.
                if let Some(fragment) = document.fragments.get(name) {
                    spreading.push(name);
                    here += walk(
                        document,
                        &fragment.node.selection_set.node,
                        count,
                        spreading,
                        introspection,
                        depth,
                    )?;
                    spreading.pop();
                }
            }
        }
    }
    Ok(here)
}

/// Check every operation of a parsed document against the limits.
pub fn check(document: &ExecutableDocument) -> Result<(), String> {
    let operations: Vec<_> = document.operations.iter().collect();
    if operations.len() > MAX_OPERATIONS {
        return Err(format!(
            "more than {MAX_OPERATIONS} operations in one document"
        ));
    }
    for (_, operation) in operations {
        let mut count = Count::default();
        let root = walk(
            document,
            &operation.node.selection_set.node,
            &mut count,
            &mut Vec::new(),
            false,
            0,
        )?;
        if root > MAX_ROOT_FIELDS {
            return Err(format!(
                "more than {MAX_ROOT_FIELDS} root fields in one operation"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(query: &str) -> Result<(), String> {
        check(&async_graphql::parser::parse_query(query).map_err(|e| e.to_string())?)
    }

    #[test]
    fn ordinary_queries_pass() {
        assert!(
            verdict("{ services(first: 5) { edges { node { id name organization { name } } } } }")
                .is_ok()
        );
        assert!(verdict("query A { me { role } } query B { me { role } }").is_ok());
    }

    #[test]
    fn floods_and_bombs_are_refused_by_name() {
        let aliases: String = (0..31).map(|i| format!("a{i}: __typename ")).collect();
        assert!(
            verdict(&format!("{{ {aliases} }}"))
                .unwrap_err()
                .contains("aliases")
        );
        let roots: String = (0..21).map(|_| "__typename ").collect();
        assert!(
            verdict(&format!("{{ {roots} }}"))
                .unwrap_err()
                .contains("root fields")
        );
        let nested = "{ services { edges { node { id name } } } }";
        let many: String = (0..70)
            .map(|i| format!("s{i}: service(id: \"x\") {{ id name }} "))
            .collect();
        assert!(verdict(&format!("{{ {many} }}")).is_err());
        assert!(verdict(nested).is_ok());
        let ops: String = (0..11)
            .map(|i| format!("query Q{i} {{ me {{ role }} }} "))
            .collect();
        assert!(verdict(&ops).unwrap_err().contains("operations"));
        // Each fragment spreads the next twice: 2^20 fields if expanded.
        let mut bomb = String::from("{ ...F0 } ");
        for i in 0..20 {
            bomb.push_str(&format!(
                "fragment F{i} on Query {{ ...F{} ...F{} }} ",
                i + 1,
                i + 1
            ));
        }
        bomb.push_str("fragment F20 on Query { __typename }");
        assert!(verdict(&bomb).is_err());
        assert!(
            verdict("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
                .unwrap_err()
                .contains("spreads itself")
        );
    }
}
