//! Relay paging: page sizes and opaque cursors. A cursor encodes the sort key of the
//! last row seen, so pages stay stable while rows are added elsewhere.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{AppError, AppResult};

pub const DEFAULT_PAGE: usize = 20;
pub const MAX_PAGE: usize = 100;

/// Validated `first` and decoded `after`.
#[derive(Clone, Debug)]
pub struct Page {
    pub first: usize,
    pub after: Option<String>,
}

impl Page {
    pub fn new(first: Option<i32>, after: Option<String>) -> AppResult<Self> {
        let first = match first {
            None => DEFAULT_PAGE,
            Some(n) if n < 0 => return Err(AppError::bad_input("first", "must not be negative")),
            Some(n) if n as usize > MAX_PAGE => {
                return Err(AppError::bad_input("first", format!("at most {MAX_PAGE}")));
            }
            Some(n) => n as usize,
        };
        let after = after.map(|c| decode_cursor(&c)).transpose()?;
        Ok(Self { first, after })
    }
}

pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

pub fn decode_cursor(cursor: &str) -> AppResult<String> {
    URL_SAFE_NO_PAD
        .decode(cursor.as_bytes())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| AppError::bad_input("after", "not a cursor from this API"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(
            decode_cursor(&encode_cursor("abc-123")).ok(),
            Some("abc-123".to_string())
        );
        assert!(decode_cursor("!!!").is_err());
    }

    #[test]
    fn page_size_defaults_to_20_and_refuses_above_100_or_below_0() {
        assert_eq!(Page::new(None, None).map(|p| p.first).ok(), Some(20));
        assert!(Page::new(Some(101), None).is_err());
        assert!(Page::new(Some(-1), None).is_err());
        assert_eq!(Page::new(Some(100), None).map(|p| p.first).ok(), Some(100));
    }
}
