//! The ORUK query parameters, each read and checked by its name: a bad one is a 400
//! naming it (`RestError::parameter`).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::{Refusal, bad};
use crate::domain::codes::DayOfWeek;

const DEFAULT_PER_PAGE: u64 = 50;
const MAX_PER_PAGE: u64 = 100;

pub(super) fn text<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

pub(super) fn number(params: &HashMap<String, String>, name: &str) -> Result<Option<f64>, Refusal> {
    text(params, name)
        .map(|v| match v.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(n),
            _ => Err(bad(name, format!("'{v}' is not a number"))),
        })
        .transpose()
}

pub(super) fn time(
    params: &HashMap<String, String>,
    name: &str,
) -> Result<Option<String>, Refusal> {
    text(params, name)
        .map(|v| {
            crate::domain::validate::time_of_day(name, v)
                .map(crate::domain::validate::stored_time)
                .map_err(|_| bad(name, format!("'{v}' is not a time (HH:MM)")))
        })
        .transpose()
}

pub(super) fn day(params: &HashMap<String, String>) -> Result<Option<DayOfWeek>, Refusal> {
    text(params, "day")
        .map(|v| {
            DayOfWeek::from_code(v)
                .or_else(|| {
                    DayOfWeek::ALL
                        .iter()
                        .copied()
                        .find(|d| format!("{d:?}").eq_ignore_ascii_case(v))
                })
                .ok_or_else(|| {
                    bad(
                        "day",
                        format!("'{v}' is not a day (MO..SU or Monday..Sunday)"),
                    )
                })
        })
        .transpose()
}

pub(super) fn moment(
    params: &HashMap<String, String>,
    name: &str,
) -> Result<Option<DateTime<Utc>>, Refusal> {
    text(params, name)
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .ok()
                .or_else(|| {
                    NaiveDate::parse_from_str(v, "%Y-%m-%d")
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                        .map(|t| t.and_utc())
                })
                .ok_or_else(|| bad(name, format!("'{v}' is not a date-time (RFC 3339) or date")))
        })
        .transpose()
}

/// `page` (from 1) and `per_page` (1..100).
pub(super) fn paging(params: &HashMap<String, String>) -> Result<(u64, u64), Refusal> {
    let whole = |name: &str, default: u64, max: u64| match text(params, name) {
        None => Ok(default),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(bad(
                name,
                format!("'{v}' must be a whole number in 1..{max}"),
            )),
        },
    };
    Ok((
        whole("page", 1, u64::from(u32::MAX))?,
        whole("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)?,
    ))
}
