//! Checks for write-API input: each returns the cleaned value or a `BAD_USER_INPUT` error
//! naming the caller's input path. Text is stored as text and never rendered as HTML,
//! so nothing is escaped here; what is refused is what no client should ever send.

use crate::domain::postcode::Postcode;
use crate::error::{AppError, AppResult};
use crate::spatial::{CoordinateError, Coordinates};

/// How an adapter names a request's fields: GraphQL under its argument
/// (`input.ageFrom`), a REST route by its bare query parameter (`ageFrom`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Fields(pub &'static str);

impl Fields {
    pub const GRAPHQL_INPUT: Fields = Fields("input.");
    pub const QUERY: Fields = Fields("");

    pub fn name(&self, field: &str) -> String {
        format!("{}{field}", self.0)
    }
}

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
/// The longest address SMTP allows (RFC 5321 path limit less the angle brackets).
const MAX_EMAIL_CHARS: usize = 254;
const MAX_URL_CHARS: usize = 2_000;
const MAX_AGE: f64 = 130.0;

/// Trimmed, not empty, at most [`MAX_NAME_CHARS`], no control characters.
pub fn name(field: &str, value: &str) -> AppResult<String> {
    let text = short_text(field, value, MAX_NAME_CHARS)?;
    if text.is_empty() {
        return Err(AppError::bad_input(field, "must not be empty"));
    }
    Ok(text)
}

/// Trimmed, at most [`MAX_DESCRIPTION_CHARS`]; line breaks and tabs are the only
/// control characters allowed. May be empty.
pub fn description(field: &str, value: &str) -> AppResult<String> {
    let text = value.trim();
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(AppError::bad_input(
            field,
            "must not contain control characters other than line breaks and tabs",
        ));
    }
    within(field, text, MAX_DESCRIPTION_CHARS)?;
    Ok(text.to_string())
}

/// Trimmed, at most `max_chars`, no control characters. May be empty.
/// Longest words-to-find a search or filter accepts: longer says nothing more, and
/// a pattern of tens of thousands of characters is refused by SQLite's LIKE.
pub const MAX_QUERY_TEXT_CHARS: usize = 200;

/// Text to look for, if any: at most `MAX_QUERY_TEXT_CHARS`, no control characters.
pub fn query_text(field: &str, value: Option<String>) -> AppResult<Option<String>> {
    value
        .map(|v| short_text(field, &v, MAX_QUERY_TEXT_CHARS))
        .transpose()
}

pub fn short_text(field: &str, value: &str, max_chars: usize) -> AppResult<String> {
    // Trimming first lets a pasted trailing newline through; inside, none are allowed.
    let text = value.trim();
    if text.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            field,
            "must not contain control characters",
        ));
    }
    within(field, text, max_chars)?;
    Ok(text.to_string())
}

/// Counts characters, not bytes: a limit should not be tighter for "é" than for "e".
fn within(field: &str, text: &str, max_chars: usize) -> AppResult<()> {
    if text.chars().count() > max_chars {
        return Err(AppError::bad_input(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    Ok(())
}

/// A plausible address, not a proof of delivery: one '@', a local part without
/// spaces, and an ASCII domain with at least one dot (internationalised domains
/// must be given in their `xn--` form). Returned trimmed, with the domain lower-cased.
pub fn email(field: &str, value: &str) -> AppResult<String> {
    let text = value.trim();
    if text.chars().count() > MAX_EMAIL_CHARS {
        return Err(AppError::bad_input(
            field,
            format!("must be at most {MAX_EMAIL_CHARS} characters"),
        ));
    }
    let refused =
        || AppError::bad_input(field, "must be an email address such as name@example.org");
    let (local, domain) = text.split_once('@').ok_or_else(refused)?;
    let local_ok = !local.is_empty()
        && !local
            .chars()
            .any(|c| c == '@' || c.is_whitespace() || c.is_control());
    let domain_ok = domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !local_ok || !domain_ok {
        return Err(refused());
    }
    Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// Digits with the usual punctuation; 7 to 15 digits (15 is the E.164 maximum).
pub fn phone(field: &str, value: &str) -> AppResult<String> {
    let text = value.trim();
    let allowed = text.char_indices().all(|(i, c)| {
        c.is_ascii_digit() || matches!(c, ' ' | '(' | ')' | '-' | '.') || (c == '+' && i == 0)
    });
    if !allowed {
        return Err(AppError::bad_input(
            field,
            "may contain only digits, spaces, ( ) - . and a leading +",
        ));
    }
    let digits = text.chars().filter(char::is_ascii_digit).count();
    if !(7..=15).contains(&digits) {
        return Err(AppError::bad_input(field, "must have 7 to 15 digits"));
    }
    Ok(text.to_string())
}

/// An absolute http(s) address with a host. Other schemes (`javascript:`, `data:`,
/// `file:`) are refused because clients turn these values into links.
pub fn url(field: &str, value: &str) -> AppResult<String> {
    let text = value.trim();
    let too_long =
        || AppError::bad_input(field, format!("must be at most {MAX_URL_CHARS} characters"));
    if text.chars().count() > MAX_URL_CHARS {
        return Err(too_long());
    }
    let parsed = url::Url::parse(text).map_err(|_| {
        AppError::bad_input(
            field,
            "must be a full http or https address, such as https://example.org",
        )
    })?;
    // The parser lower-cases the scheme, so "JAVASCRIPT:" is caught here too.
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(AppError::bad_input(
            field,
            "must be an http or https address",
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(AppError::bad_input(field, "must name a host"));
    }
    // Serialising may percent-encode, so the stored form is measured as well.
    if parsed.as_str().len() > MAX_URL_CHARS {
        return Err(too_long());
    }
    Ok(parsed.as_str().to_string())
}

pub fn postcode(field: &str, value: &str) -> AppResult<Postcode> {
    Postcode::parse(value).map_err(|message| AppError::bad_input(field, message))
}

/// `field` is the prefix holding both halves, e.g. "input.locations[0]".
pub fn coordinates(field: &str, latitude: f64, longitude: f64) -> AppResult<Coordinates> {
    Coordinates::new(latitude, longitude).map_err(|e| match e {
        CoordinateError::Latitude(v) => AppError::bad_input(
            format!("{field}.latitude"),
            format!("{v} is outside -90..90"),
        ),
        CoordinateError::Longitude(v) => AppError::bad_input(
            format!("{field}.longitude"),
            format!("{v} is outside -180..180"),
        ),
    })
}

/// An ISO 639 language code (two or three letters), lower-cased.
pub fn language_code(field: &str, value: &str) -> AppResult<String> {
    let code = value.trim().to_ascii_lowercase();
    if !(2..=3).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(AppError::bad_input(
            field,
            format!("'{value}' is not an ISO 639 language code (such as en, pl, urd)"),
        ));
    }
    Ok(code)
}

pub fn age(field: &str, value: f64) -> AppResult<f64> {
    if !value.is_finite() || !(0.0..=MAX_AGE).contains(&value) {
        return Err(AppError::bad_input(
            field,
            format!("{value} is outside 0..{MAX_AGE}"),
        ));
    }
    Ok(value)
}

pub fn age_range(
    field_min: &str,
    min: Option<f64>,
    field_max: &str,
    max: Option<f64>,
) -> AppResult<(Option<f64>, Option<f64>)> {
    let min = min.map(|v| age(field_min, v)).transpose()?;
    let max = max.map(|v| age(field_max, v)).transpose()?;
    if let (Some(lo), Some(hi)) = (min, max)
        && lo > hi
    {
        // Name the other input as the caller knows it, without its path prefix.
        let max_name = last_segment(field_max);
        return Err(AppError::bad_input(
            field_min,
            format!("must not be above {max_name} {hi}"),
        ));
    }
    Ok((min, max))
}

/// A time of day, "HH:MM" or "HH:MM:SS": the one parser every adapter and import uses.
pub fn time_of_day(field: &str, text: &str) -> AppResult<chrono::NaiveTime> {
    let text = text.trim();
    chrono::NaiveTime::parse_from_str(text, "%H:%M")
        .or_else(|_| chrono::NaiveTime::parse_from_str(text, "%H:%M:%S"))
        .map_err(|_| AppError::bad_input(field, format!("'{text}' is not a time (HH:MM)")))
}

/// A time of day as stored ("HH:MM:SS", so text order is time order).
pub fn stored_time(time: chrono::NaiveTime) -> String {
    time.format("%H:%M:%S").to_string()
}

/// The last segment of a field path: how a message names the other field of a pair.
fn last_segment(field: &str) -> &str {
    field.rsplit('.').next().unwrap_or(field)
}

/// A session closes after it opens (stored times compare as text).
pub fn closes_after_opens(
    field_opens: &str,
    opens: Option<&str>,
    field_closes: &str,
    closes: Option<&str>,
) -> AppResult<()> {
    if let (Some(open), Some(close)) = (opens, closes)
        && close <= open
    {
        let message = format!("must be after {}", last_segment(field_opens));
        return Err(AppError::bad_input(field_closes, message));
    }
    Ok(())
}

/// A period does not end before it starts.
pub fn date_order(
    field_from: &str,
    from: Option<chrono::NaiveDate>,
    field_to: &str,
    to: Option<chrono::NaiveDate>,
) -> AppResult<()> {
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        let message = format!("must not be before {}", last_segment(field_from));
        return Err(AppError::bad_input(field_to, message));
    }
    Ok(())
}

/// Minutes since midnight.
pub fn minutes_of(time: chrono::NaiveTime) -> u16 {
    use chrono::Timelike;
    (time.hour() * 60 + time.minute()) as u16
}

pub fn count(field: &str, value: i32) -> AppResult<i32> {
    if value < 0 {
        return Err(AppError::bad_input(field, "must not be negative"));
    }
    Ok(value)
}

pub fn available_within_maximum(
    field_available: &str,
    available: Option<i32>,
    maximum: Option<i32>,
) -> AppResult<()> {
    if let (Some(available), Some(maximum)) = (available, maximum)
        && available > maximum
    {
        return Err(AppError::bad_input(
            field_available,
            format!("must not be above the maximum, {maximum}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field a refusal names; panics if the result was accepted.
    fn refused<T: std::fmt::Debug>(result: AppResult<T>) -> String {
        match result {
            Err(AppError::BadUserInput { field, .. }) => field,
            other => panic!("expected BadUserInput, got {other:?}"),
        }
    }

    #[test]
    fn names_are_trimmed_and_limited_in_characters_not_bytes() {
        assert_eq!(name("n", "  Food bank \n").unwrap(), "Food bank");
        let at_limit = "é".repeat(MAX_NAME_CHARS);
        assert_eq!(name("n", &at_limit).unwrap(), at_limit);
        let over = "é".repeat(MAX_NAME_CHARS + 1);
        assert_eq!(refused(name("input.name", &over)), "input.name");
        assert_eq!(refused(name("input.name", "   ")), "input.name");
    }

    #[test]
    fn names_refuse_control_characters() {
        for bad in [
            "\u{7}",
            "Red\u{1b}[31m",
            "a\tb",
            "a\nb",
            "a\u{7f}b",
            "a\u{85}b",
        ] {
            assert_eq!(refused(name("n", bad)), "n", "{bad:?}");
        }
    }

    #[test]
    fn short_text_allows_empty_but_keeps_its_limit() {
        assert_eq!(short_text("s", "  ", 5).unwrap(), "");
        assert_eq!(short_text("s", " abcde ", 5).unwrap(), "abcde");
        assert_eq!(refused(short_text("s", "abcdef", 5)), "s");
        assert_eq!(refused(short_text("s", "a\u{0}b", 5)), "s");
    }

    #[test]
    fn descriptions_keep_line_breaks_and_tabs_only() {
        assert_eq!(description("d", "  ").unwrap(), "");
        assert_eq!(
            description("d", " Line one\r\nLine two\tend \n").unwrap(),
            "Line one\r\nLine two\tend"
        );
        assert_eq!(refused(description("d", "bell\u{7}")), "d");
        assert_eq!(refused(description("d", "\u{1b}[31mred")), "d");
        let at_limit = "é".repeat(MAX_DESCRIPTION_CHARS);
        assert!(description("d", &at_limit).is_ok());
        assert_eq!(refused(description("d", &format!("{at_limit}é"))), "d");
    }

    #[test]
    fn emails_keep_the_local_part_and_lower_case_the_domain() {
        assert_eq!(email("e", " jo@Example.ORG ").unwrap(), "jo@example.org");
        assert_eq!(
            email("e", "Jo.Smith+help@mail.xn--bcher-kva.example").unwrap(),
            "Jo.Smith+help@mail.xn--bcher-kva.example"
        );
    }

    #[test]
    fn things_that_are_not_emails_are_refused() {
        for bad in [
            "",
            "a@b",
            "x @y.org",
            "@example.org",
            "jo",
            "jo@@example.org",
            "jo@x@example.org",
            "jo@-example.org",
            "jo@example-.org",
            "jo@example..org",
            "jo@example.org.",
            "jo@exa_mple.org",
            "jo@bücher.example",
            "jo\u{7}@example.org",
        ] {
            assert_eq!(refused(email("input.email", bad)), "input.email", "{bad:?}");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        assert_eq!(refused(email("e", &long)), "e");
    }

    #[test]
    fn phones_allow_usual_punctuation_and_count_digits() {
        assert_eq!(phone("p", " 0161 234 5678 ").unwrap(), "0161 234 5678");
        assert_eq!(
            phone("p", "+44 (0)161 234 5678").unwrap(),
            "+44 (0)161 234 5678"
        );
        assert!(phone("p", "0161.234-5678").is_ok());
        for bad in [
            "",
            "123",
            "0161-abc",
            "0161 234 5678 ext 2",
            "44+161 234 5678",
            "++44 161 234 5678",
            "1234567890123456",
        ] {
            assert_eq!(refused(phone("input.phone", bad)), "input.phone", "{bad:?}");
        }
    }

    #[test]
    fn urls_must_be_http_or_https_with_a_host() {
        assert_eq!(
            url("u", " https://example.org/x ").unwrap(),
            "https://example.org/x"
        );
        assert_eq!(
            url("u", "HTTP://Example.ORG").unwrap(),
            "http://example.org/"
        );
        for bad in [
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            " javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "ftp://example.org/file",
            "file:///etc/passwd",
            "mailto:jo@example.org",
            "example.org",
            "/relative/path",
            "https://",
            "",
        ] {
            assert_eq!(refused(url("input.url", bad)), "input.url", "{bad:?}");
        }
        let long = format!("https://example.org/{}", "a".repeat(MAX_URL_CHARS));
        assert_eq!(refused(url("u", &long)), "u");
    }

    #[test]
    fn scheme_refusal_says_http_or_https_only() {
        match url("u", "javascript:alert(1)") {
            Err(AppError::BadUserInput { message, .. }) => {
                assert!(message.contains("http or https"), "{message}");
            }
            other => panic!("expected BadUserInput, got {other:?}"),
        }
    }

    #[test]
    fn postcodes_are_normalised_or_refused() {
        assert_eq!(postcode("pc", "m320jg").unwrap().as_str(), "M32 0JG");
        assert_eq!(
            refused(postcode("input.postcode", "hello")),
            "input.postcode"
        );
    }

    #[test]
    fn coordinates_name_the_half_that_is_wrong() {
        let c = coordinates("p", 53.45, -2.3).unwrap();
        assert_eq!((c.latitude, c.longitude), (53.45, -2.3));
        assert!(coordinates("p", -90.0, 180.0).is_ok());
        assert_eq!(refused(coordinates("p", 100.0, 0.0)), "p.latitude");
        assert_eq!(refused(coordinates("p", f64::NAN, 0.0)), "p.latitude");
        assert_eq!(refused(coordinates("p", 0.0, -180.5)), "p.longitude");
        assert_eq!(
            refused(coordinates("input.locations[0]", 0.0, f64::INFINITY)),
            "input.locations[0].longitude"
        );
    }

    #[test]
    fn ages_are_between_0_and_130() {
        assert_eq!(age("a", 0.0).unwrap(), 0.0);
        assert_eq!(age("a", 130.0).unwrap(), 130.0);
        assert_eq!(age("a", 17.5).unwrap(), 17.5);
        for bad in [131.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(refused(age("a", bad)), "a", "{bad}");
        }
    }

    #[test]
    fn age_ranges_check_each_end_and_their_order() {
        let (min, max) = ("input.minimumAge", "input.maximumAge");
        assert_eq!(
            age_range(min, Some(18.0), max, Some(65.0)).unwrap(),
            (Some(18.0), Some(65.0))
        );
        assert_eq!(
            age_range(min, Some(18.0), max, Some(18.0)).unwrap(),
            (Some(18.0), Some(18.0))
        );
        assert_eq!(age_range(min, None, max, None).unwrap(), (None, None));
        assert_eq!(
            age_range(min, Some(65.0), max, None).unwrap(),
            (Some(65.0), None)
        );
        assert_eq!(refused(age_range(min, Some(-1.0), max, None)), min);
        assert_eq!(refused(age_range(min, None, max, Some(131.0))), max);
        match age_range(min, Some(65.0), max, Some(18.0)) {
            Err(AppError::BadUserInput { field, message }) => {
                assert_eq!(field, min);
                assert_eq!(message, "must not be above maximumAge 18");
            }
            other => panic!("expected BadUserInput, got {other:?}"),
        }
    }

    #[test]
    fn times_of_day_take_minutes_or_seconds_and_name_the_field() {
        assert_eq!(minutes_of(time_of_day("t", " 09:30 ").unwrap()), 570);
        assert_eq!(
            stored_time(time_of_day("t", "18:00:00").unwrap()),
            "18:00:00"
        );
        for bad in ["", "9", "25:00", "10:60", "noon", "10:00pm"] {
            assert_eq!(
                refused(time_of_day("input.opensAt", bad)),
                "input.opensAt",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn counts_are_not_negative() {
        assert_eq!(count("c", 0).unwrap(), 0);
        assert_eq!(count("c", 12).unwrap(), 12);
        assert_eq!(refused(count("input.available", -1)), "input.available");
    }

    #[test]
    fn available_must_not_exceed_maximum() {
        let f = "input.available";
        assert!(available_within_maximum(f, Some(3), Some(3)).is_ok());
        assert!(available_within_maximum(f, Some(5), None).is_ok());
        assert!(available_within_maximum(f, None, Some(3)).is_ok());
        assert_eq!(refused(available_within_maximum(f, Some(5), Some(3))), f);
    }
}
