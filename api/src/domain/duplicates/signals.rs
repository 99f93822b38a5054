//! Whether two listings are one service, and why: each signal a weight in 0–1 and
//! a detail a person can check; the score combines them as independent evidence
//! (1 − Π(1 − weight)). After ServiceNet's explainable similarity: an editor sees
//! what made a pair, not only a number. Pure: no database, no clock.

use serde::{Deserialize, Serialize};

use crate::spatial::Coordinates;

/// A pair is proposed at this score or more, and only with at least one signal
/// of identity (a name, register number or contact): two groups that share a
/// community centre share its place and postcode and are not one.
pub const PROPOSE_AT: f64 = 0.6;

/// Services further apart than this are not compared (metres).
pub const REACH_METRES: f64 = 1000.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Signal {
    /// The same charity, company or other register number.
    OrganizationIdentifier,
    Name,
    Distance,
    Phone,
    Email,
    WebDomain,
    Postcode,
}

impl Signal {
    fn is_identity(self) -> bool {
        !matches!(self, Self::Distance | Self::Postcode)
    }
}

/// One signal found between two listings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Found {
    pub signal: Signal,
    pub weight: f64,
    pub detail: String,
}

/// What a listing brings to matching, normalised.
#[derive(Clone, Debug, Default)]
pub struct Traits {
    pub name: String,
    pub points: Vec<Coordinates>,
    /// Digits, the last ten (a leading 0 or +44 apart).
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    /// Hosts without `www.`, shared hosting and social sites left out.
    pub domains: Vec<String>,
    /// Upper case, no spaces.
    pub postcodes: Vec<String>,
    /// `SCHEME:NUMBER`, upper case, no spaces.
    pub identifiers: Vec<String>,
}

/// Hosts many unrelated groups share: the same one says nothing.
const SHARED_HOSTS: &[&str] = &[
    "facebook.com",
    "instagram.com",
    "twitter.com",
    "x.com",
    "linktr.ee",
    "eventbrite.co.uk",
    "eventbrite.com",
    "meetup.com",
    "wixsite.com",
    "wordpress.com",
    "google.com",
    "sites.google.com",
    "nhs.uk",
    "gov.uk",
];

pub fn phone(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.strip_prefix("44").map_or(digits.as_str(), |d| d);
    let digits = digits.trim_start_matches('0');
    (digits.len() >= 9).then(|| digits[digits.len().saturating_sub(10)..].to_string())
}

pub fn email(text: &str) -> Option<String> {
    let text = text.trim().to_lowercase();
    text.contains('@').then_some(text)
}

pub fn domain(url: &str) -> Option<String> {
    let host = url::Url::parse(url.trim()).ok()?.host_str()?.to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    let shared = SHARED_HOSTS
        .iter()
        .any(|s| host == *s || host.ends_with(&format!(".{s}")));
    (!shared).then_some(host)
}

pub fn postcode(text: &str) -> Option<String> {
    let code: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    (code.len() >= 5).then_some(code)
}

pub fn identifier(scheme: Option<&str>, number: &str) -> String {
    let clean = |t: &str| {
        t.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase()
    };
    format!("{}:{}", clean(scheme.unwrap_or("")), clean(number))
}

/// Lower case words, punctuation and filler words dropped.
pub fn name_words(name: &str) -> String {
    const FILLER: &[&str] = &["the", "and", "of", "a", "an", "for", "in", "at"];
    name.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !FILLER.contains(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// How alike two names are, 0–1 (bigrams, so word order and a typo cost little).
pub fn name_similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (name_words(a), name_words(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    strsim::sorensen_dice(&a, &b)
}

fn shared<'a>(a: &'a [String], b: &[String]) -> Option<&'a String> {
    a.iter().find(|x| b.contains(x))
}

/// The signals between two listings.
pub fn compare(a: &Traits, b: &Traits) -> Vec<Found> {
    let mut found = Vec::new();
    let mut add = |signal, weight: f64, detail: String| {
        found.push(Found {
            signal,
            weight: (weight * 1000.0).round() / 1000.0,
            detail,
        })
    };
    if let Some(id) = shared(&a.identifiers, &b.identifiers) {
        add(
            Signal::OrganizationIdentifier,
            0.9,
            format!("both organizations are {id}"),
        );
    }
    let similar = name_similarity(&a.name, &b.name);
    if similar >= 0.75 {
        add(
            Signal::Name,
            0.75 * similar,
            format!(
                "names {:.0}% alike: \"{}\" and \"{}\"",
                similar * 100.0,
                a.name,
                b.name
            ),
        );
    }
    let nearest = a
        .points
        .iter()
        .flat_map(|p| b.points.iter().map(move |q| p.distance_metres(*q)))
        .fold(f64::INFINITY, f64::min);
    let near = match nearest {
        m if m <= 50.0 => Some(0.5),
        m if m <= 250.0 => Some(0.3),
        m if m <= REACH_METRES => Some(0.1),
        _ => None,
    };
    if let Some(weight) = near {
        add(
            Signal::Distance,
            weight,
            format!("nearest locations {nearest:.0} m apart"),
        );
    }
    if let Some(phone) = shared(&a.phones, &b.phones) {
        add(
            Signal::Phone,
            0.6,
            format!(
                "same phone number (…{})",
                &phone[phone.len().saturating_sub(4)..]
            ),
        );
    }
    if let Some(email) = shared(&a.emails, &b.emails) {
        add(Signal::Email, 0.6, format!("same email {email}"));
    }
    if let Some(domain) = shared(&a.domains, &b.domains) {
        add(Signal::WebDomain, 0.3, format!("same web domain {domain}"));
    }
    if let Some(code) = shared(&a.postcodes, &b.postcodes) {
        add(Signal::Postcode, 0.2, format!("same postcode {code}"));
    }
    found
}

/// The combined score, 0–1, to four places (cursors compare it exactly).
pub fn score(found: &[Found]) -> f64 {
    let apart: f64 = found.iter().map(|f| 1.0 - f.weight).product();
    ((1.0 - apart) * 10_000.0).round() / 10_000.0
}

/// Whether the signals make a pair worth an editor's look.
pub fn worth_proposing(found: &[Found]) -> bool {
    score(found) >= PROPOSE_AT && found.iter().any(|f| f.signal.is_identity())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lat: f64, lon: f64) -> Coordinates {
        Coordinates::new(lat, lon).unwrap()
    }

    fn walk(name: &str, point: Coordinates) -> Traits {
        Traits {
            name: name.into(),
            points: vec![point],
            ..Traits::default()
        }
    }

    #[test]
    fn the_same_group_from_two_publishers_is_proposed_with_what_made_it() {
        let mut a = walk("The Canal Walk", at(53.4300, -2.3000));
        let mut b = walk("Canal walk", at(53.4301, -2.3001));
        a.identifiers = vec![identifier(Some("GB-CHC"), "123 4567")];
        b.identifiers = vec![identifier(Some("gb-chc"), "1234567")];
        a.phones = phone("0161 912 3456").into_iter().collect();
        b.phones = phone("+44 161 9123456").into_iter().collect();
        let found = compare(&a, &b);
        let signals: Vec<Signal> = found.iter().map(|f| f.signal).collect();
        assert_eq!(
            signals,
            [
                Signal::OrganizationIdentifier,
                Signal::Name,
                Signal::Distance,
                Signal::Phone
            ]
        );
        assert!(worth_proposing(&found));
        assert!(score(&found) > 0.99);
        assert!(found[2].detail.contains("m apart"), "{found:?}");
    }

    #[test]
    fn neighbours_in_one_building_with_different_names_are_not_proposed() {
        let mut a = walk("Knit and natter", at(53.43, -2.30));
        let mut b = walk("Men's shed", at(53.43, -2.30));
        a.postcodes = vec!["M337ZF".into()];
        b.postcodes = vec!["M337ZF".into()];
        let found = compare(&a, &b);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(!worth_proposing(&found));
    }

    #[test]
    fn names_match_across_word_order_case_and_filler_but_not_across_meaning() {
        assert_eq!(
            name_similarity("The Friday Lunch Club", "friday lunch club"),
            1.0
        );
        assert!(name_similarity("Lunch club, Friday", "Friday lunch club") > 0.75);
        assert!(name_similarity("Carers' cafe", "Bereavement support") < 0.4);
    }

    #[test]
    fn shared_hosts_and_short_numbers_say_nothing() {
        assert_eq!(domain("https://www.facebook.com/canalwalk"), None);
        assert_eq!(
            domain("https://www.canalwalk.org.uk/about"),
            Some("canalwalk.org.uk".into())
        );
        assert_eq!(phone("999"), None);
        assert_eq!(phone("07700 900123"), Some("7700900123".into()));
    }
}
