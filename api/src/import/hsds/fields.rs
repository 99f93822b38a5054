//! One HSDS value at a time, checked with the API's rules (`domain::validate`) and
//! named by its path in the record: text, links, identifiers, phones, dates, times,
//! RRULE days and counts.

use chrono::{DateTime, NaiveDate, Utc};

use super::model;
use crate::domain::codes::DayOfWeek;
use crate::domain::edit::record::FieldError;
use crate::domain::validate;
use crate::error::AppResult;

/// A domain check's answer, its refusal naming the record's path.
pub(super) fn checked<T>(result: AppResult<T>) -> Result<T, FieldError> {
    result.map_err(FieldError::from)
}

pub(super) fn error<T>(
    path: impl Into<String>,
    message: impl Into<String>,
) -> Result<T, FieldError> {
    Err(FieldError {
        path: path.into(),
        message: message.into(),
    })
}

pub(super) fn clean(text: &Option<String>) -> Option<String> {
    text.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// Apply a check to text that may be absent or blank (then None).
pub(super) fn optional(
    text: &Option<String>,
    path: &str,
    check: impl Fn(&str, &str) -> AppResult<String>,
) -> Result<Option<String>, FieldError> {
    clean(text).map(|t| checked(check(path, &t))).transpose()
}

/// A short single line (names, codes, labels), as the API's short fields.
pub(super) fn short(text: &Option<String>, path: &str) -> Result<Option<String>, FieldError> {
    optional(text, path, |p, t| {
        validate::short_text(p, t, validate::MAX_NAME_CHARS)
    })
}

/// Free text with line breaks, as the API's descriptions.
pub(super) fn long(text: &Option<String>, path: &str) -> Result<Option<String>, FieldError> {
    optional(text, path, validate::description)
}

/// An address clients turn into a link: http or https only.
pub(super) fn link(text: &Option<String>, path: &str) -> Result<Option<String>, FieldError> {
    optional(text, path, validate::url)
}

/// A persistent identifier (HSDS `uri`, `term_uri`): a URN, or else an address
/// clients may link to, so http or https.
pub(super) fn identifier(text: &Option<String>, path: &str) -> Result<Option<String>, FieldError> {
    optional(text, path, |p, t| {
        if t.get(..4).is_some_and(|s| s.eq_ignore_ascii_case("urn:")) {
            validate::short_text(p, t, validate::MAX_NAME_CHARS)
        } else {
            validate::url(p, t)
        }
    })
}

/// The first phone number, as the API checks phones (HSDS examples quote them).
pub(super) fn first_phone(
    phones: &[model::Phone],
    path: &str,
) -> Result<Option<String>, FieldError> {
    let Some(phone) = phones.first() else {
        return Ok(None);
    };
    let number = phone
        .number
        .trim_matches(|c| c == '"' || c == ' ')
        .to_string();
    optional(&Some(number), &format!("{path}[0].number"), validate::phone)
}

/// A required name: trimmed, not empty, short, no control characters.
pub(super) fn required(text: &str, path: &str) -> Result<String, FieldError> {
    checked(validate::name(path, text))
}
pub(super) fn date(text: &Option<String>, path: &str) -> Result<Option<NaiveDate>, FieldError> {
    let Some(text) = clean(text) else {
        return Ok(None);
    };
    let day = text.get(..10).unwrap_or(&text);
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map(Some)
        .or_else(|_| error(path, format!("'{text}' is not a date (YYYY-MM-DD)")))
}

/// `valid_from` and `valid_to` under `path`: dates, the end not before the start.
pub(super) fn period(
    from: &Option<String>,
    to: &Option<String>,
    path: &str,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>), FieldError> {
    let (field_from, field_to) = (format!("{path}.valid_from"), format!("{path}.valid_to"));
    let from = date(from, &field_from)?;
    let to = date(to, &field_to)?;
    checked(validate::date_order(&field_from, from, &field_to, to))?;
    Ok((from, to))
}

pub(super) fn timestamp(
    text: &Option<String>,
    path: &str,
) -> Result<Option<DateTime<Utc>>, FieldError> {
    let Some(text) = clean(text) else {
        return Ok(None);
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(&text) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    match date(&Some(text.clone()), path)? {
        Some(day) => Ok(day.and_hms_opt(0, 0, 0).map(|t| t.and_utc())),
        None => error(path, format!("'{text}' is not a timestamp")),
    }
}

/// "HH:MM" or "HH:MM:SS" → "HH:MM:SS".
pub(super) fn clock(text: &Option<String>, path: &str) -> Result<Option<String>, FieldError> {
    optional(text, path, |p, t| {
        validate::time_of_day(p, t).map(validate::stored_time)
    })
}

pub(super) fn byday(text: &Option<String>, path: &str) -> Result<Option<String>, FieldError> {
    let Some(text) = clean(text) else {
        return Ok(None);
    };
    let mut days = Vec::new();
    for part in text.split(',') {
        // RRULE allows an ordinal before the day ("1MO", "-1FR") in monthly rules.
        let part = part.trim();
        let (ordinal, day) =
            part.split_at(part.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(0));
        let digits = ordinal.trim_start_matches(['+', '-']);
        let ordinal_ok = ordinal.len() - digits.len() <= 1
            && digits.len() <= 2
            && digits.bytes().all(|b| b.is_ascii_digit());
        let (true, Some(day)) = (ordinal_ok, DayOfWeek::from_code(day)) else {
            return error(
                path,
                format!("'{part}' is not an RRULE day (MO..SU, or 1MO, -1FR)"),
            );
        };
        let day = format!("{ordinal}{}", day.code());
        if !days.contains(&day) {
            days.push(day);
        }
    }
    Ok(Some(days.join(",")))
}

pub(super) fn count(value: Option<i64>, path: &str) -> Result<Option<i32>, FieldError> {
    match value {
        None => Ok(None),
        Some(v) => match i32::try_from(v) {
            Ok(v) => checked(validate::count(path, v)).map(Some),
            Err(_) if v < 0 => error(path, "must not be negative"),
            Err(_) => error(path, "too large"),
        },
    }
}

/// An organization's register numbers, as stored: `{ scheme, type, identifier }`.
pub(super) fn organization_identifiers(
    items: &[model::OrganizationIdentifier],
    path: &str,
) -> Result<Option<serde_json::Value>, FieldError> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let scheme = short(&item.identifier_scheme, &format!("{at}.identifier_scheme"))?;
        let kind = short(&item.identifier_type, &format!("{at}.identifier_type"))?;
        if scheme.is_none() && kind.is_none() {
            return error(
                format!("{at}.identifier_type"),
                "required: an identifier_type or identifier_scheme",
            );
        }
        let identifier = required(&item.identifier, &format!("{at}.identifier"))?;
        out.push(serde_json::json!({ "scheme": scheme, "type": kind, "identifier": identifier }));
    }
    Ok((!out.is_empty()).then_some(serde_json::Value::Array(out)))
}
