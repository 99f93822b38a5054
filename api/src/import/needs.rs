//! `signpost import need-map`: the needs-to-services map as CSV (`need_code,
//! term_code`, a header row first), replacing the whole map, all or nothing.

use std::io::Read;

use serde::Deserialize;

use crate::error::{AppError, AppResult};

#[derive(Deserialize)]
struct Row {
    need_code: String,
    term_code: String,
}

/// (line, need code, service type code) of each row.
pub fn from_csv(reader: impl Read) -> AppResult<Vec<(usize, String, String)>> {
    let mut csv = csv::Reader::from_reader(reader);
    csv.deserialize::<Row>()
        .enumerate()
        .map(|(i, row)| {
            let line = i + 2;
            let row =
                row.map_err(|e| AppError::bad_input(format!("line {line}"), e.to_string()))?;
            Ok((line, row.need_code, row.term_code))
        })
        .collect()
}
