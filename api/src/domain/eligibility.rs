//! Fit: how well one service suits one person, criterion by criterion. Pure: no
//! database, no clock but the one passed in. Each criterion the person spoke to gives
//! one reason, MET, NOT_MET or UNKNOWN, with a sentence a link worker can read aloud.
//! A listing silent on a criterion gives UNKNOWN, which never excludes; restricted-to
//! rules exclude (NOT_MET) while suitable-for rules only rank.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::codes::{AccessibilityFeature, DayOfWeek, DeliveryMode, ReferralRoute};
pub use super::person::{Person, PersonQuestion, Window, WindowQuestion};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Criterion {
    Age,
    Gender,
    Circumstances,
    Language,
    Access,
    Cost,
    Availability,
    DeliveryMode,
    ReferralRoute,
    Residency,
    /// Whether the service helps with a need the person has (search adds it).
    Need,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Outcome {
    Met,
    Unknown,
    NotMet,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub criterion: Criterion,
    pub outcome: Outcome,
    pub detail: String,
}

/// A weekly session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub days: Vec<DayOfWeek>,
    pub opens: Option<u16>,
    pub closes: Option<u16>,
    #[serde(with = "crate::domain::wire::date_option")]
    pub valid_from: Option<NaiveDate>,
    #[serde(with = "crate::domain::wire::date_option")]
    pub valid_to: Option<NaiveDate>,
}

/// A price: pence (None when only described) and the circumstances that qualify for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub pence: Option<i64>,
    pub concessions: Vec<String>,
}

/// What a listing says about who it is for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    pub minimum_age: Option<f64>,
    pub maximum_age: Option<f64>,
    pub genders_restricted: Vec<String>,
    pub genders_suitable: Vec<String>,
    pub circumstances_restricted: Vec<String>,
    pub circumstances_suitable: Vec<String>,
    pub languages: Vec<String>,
    pub access: Vec<AccessibilityFeature>,
    pub prices: Vec<Price>,
    pub sessions: Vec<Session>,
    pub delivery_modes: Vec<DeliveryMode>,
    pub referral_routes: Vec<ReferralRoute>,
}

/// The verdict: `suitable` is false exactly when some reason is NOT_MET.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    pub suitable: bool,
    pub reasons: Vec<Reason>,
}

impl Fit {
    pub fn from_reasons(reasons: Vec<Reason>) -> Self {
        let suitable = reasons.iter().all(|r| r.outcome != Outcome::NotMet);
        Self { suitable, reasons }
    }

    pub fn unknowns(&self) -> usize {
        self.reasons
            .iter()
            .filter(|r| r.outcome == Outcome::Unknown)
            .count()
    }
}

/// How people read eligibility codes ("carer" → "carers", "female" → "women"), from
/// the circumstance and gender vocabularies. A code without a name reads as itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Names(BTreeMap<String, String>);

/// No names: codes read as themselves (for ranking, where nothing is read).
static NO_NAMES: Names = Names(BTreeMap::new());

impl Names {
    /// (code, name) pairs; the first name given for a code (any case) wins.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut names = BTreeMap::new();
        for (code, name) in pairs {
            names.entry(code.trim().to_lowercase()).or_insert(name);
        }
        Self(names)
    }

    /// A code as read mid-sentence: its name, lower-cased unless it starts with an
    /// initialism ("LGBTQ+ people" stays), else the code with spaces for dashes.
    fn of(&self, code: &str) -> String {
        let Some(name) = self.0.get(&code.trim().to_lowercase()) else {
            return label(code);
        };
        let mut chars = name.chars();
        match (chars.next(), chars.next()) {
            (Some(first), Some(second)) if !second.is_uppercase() => first
                .to_lowercase()
                .chain(name[first.len_utf8()..].chars())
                .collect(),
            _ => name.clone(),
        }
    }
}

/// Build a reason; the sentence is only written when asked for (`explain`), because
/// search assesses thousands of candidates but shows only a page of them.
fn reason<D: Into<String>>(
    criterion: Criterion,
    outcome: Outcome,
    explain: bool,
    detail: impl FnOnce() -> D,
) -> Reason {
    Reason {
        criterion,
        outcome,
        detail: if explain {
            detail().into()
        } else {
            String::new()
        },
    }
}

fn years(age: f64) -> String {
    if age.fract() == 0.0 {
        format!("{age:.0}")
    } else {
        format!("{age:.1}")
    }
}

pub fn clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn day_name(day: DayOfWeek) -> &'static str {
    match day {
        DayOfWeek::Monday => "Mondays",
        DayOfWeek::Tuesday => "Tuesdays",
        DayOfWeek::Wednesday => "Wednesdays",
        DayOfWeek::Thursday => "Thursdays",
        DayOfWeek::Friday => "Fridays",
        DayOfWeek::Saturday => "Saturdays",
        DayOfWeek::Sunday => "Sundays",
    }
}

fn label(code: &str) -> String {
    code.replace(['-', '_'], " ").to_lowercase()
}

fn pounds(pence: i64) -> String {
    if pence == 0 {
        "free".to_string()
    } else {
        format!("£{}.{:02}", pence / 100, pence % 100)
    }
}

fn contains(list: &[String], value: &str) -> bool {
    list.iter().any(|v| v.eq_ignore_ascii_case(value))
}

fn age(person: f64, listing: &Listing, x: bool) -> Reason {
    let (min, max) = (listing.minimum_age, listing.maximum_age);
    if min.is_none() && max.is_none() {
        return reason(
            Criterion::Age,
            Outcome::Unknown,
            x,
            || "No age range listed",
        );
    }
    let inside = min.is_none_or(|min| person >= min) && max.is_none_or(|max| person <= max);
    let outcome = if inside {
        Outcome::Met
    } else {
        Outcome::NotMet
    };
    reason(Criterion::Age, outcome, x, || {
        let range = match (min, max) {
            (Some(min), Some(max)) => format!("For ages {}–{}", years(min), years(max)),
            (Some(min), None) => format!("For ages {}+", years(min)),
            (None, _) => format!("For ages up to {}", years(max.unwrap_or_default())),
        };
        format!("{range}; you said {}", years(person))
    })
}

/// Gender and circumstance rules alike: a restricted-to list excludes everyone not
/// on it (NOT_MET); a suitable-for list only ranks (UNKNOWN for others); no list is
/// a listing silent on the criterion.
fn rules(
    criterion: Criterion,
    said: &[String],
    restricted: &[String],
    suitable: &[String],
    silent: &'static str,
    names: &Names,
    x: bool,
) -> Reason {
    let (list, prefix, miss) = if !restricted.is_empty() {
        (restricted, "Only for", Outcome::NotMet)
    } else if !suitable.is_empty() {
        (suitable, "Aimed at", Outcome::Unknown)
    } else {
        return reason(criterion, Outcome::Unknown, x, || silent);
    };
    let who = || {
        list.iter()
            .map(|c| names.of(c))
            .collect::<Vec<_>>()
            .join(" or ")
    };
    match said.iter().find(|c| contains(list, c)) {
        Some(c) => reason(criterion, Outcome::Met, x, || {
            format!("{prefix} {}; you said {}", who(), names.of(c))
        }),
        None if miss == Outcome::NotMet => {
            reason(criterion, miss, x, || format!("{prefix} {}", who()))
        }
        None => reason(criterion, miss, x, || {
            format!("{prefix} {}; open to others", who())
        }),
    }
}

fn gender(person: &String, listing: &Listing, names: &Names, x: bool) -> Reason {
    rules(
        Criterion::Gender,
        std::slice::from_ref(person),
        &listing.genders_restricted,
        &listing.genders_suitable,
        "No gender rules listed",
        names,
        x,
    )
}

fn circumstances(person: &[String], listing: &Listing, names: &Names, x: bool) -> Reason {
    rules(
        Criterion::Circumstances,
        person,
        &listing.circumstances_restricted,
        &listing.circumstances_suitable,
        "No circumstances listed",
        names,
        x,
    )
}

/// A language as people name it ("Urdu"), from its ISO 639 code; the code itself
/// when the standard does not know it.
pub fn language_name(code: &str) -> String {
    let code = code.trim().to_ascii_lowercase();
    let known = match code.len() {
        2 => isolang::Language::from_639_1(&code),
        3 => isolang::Language::from_639_3(&code),
        _ => None,
    };
    known.map_or(code, |l| l.to_name().to_string())
}

/// Names joined for reading aloud: "English", "English and Polish", "A, B and C".
fn spoken_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn languages(person: &[String], listing: &Listing, x: bool) -> Reason {
    if listing.languages.is_empty() {
        return reason(
            Criterion::Language,
            Outcome::Unknown,
            x,
            || "No languages listed",
        );
    }
    let names = |except: Option<&str>| -> Vec<String> {
        listing
            .languages
            .iter()
            .filter(|l| except.is_none_or(|e| !l.eq_ignore_ascii_case(e)))
            .map(|l| language_name(l))
            .collect()
    };
    match person.iter().find(|l| contains(&listing.languages, l)) {
        Some(l) => reason(Criterion::Language, Outcome::Met, x, || {
            let others = names(Some(l));
            if others.is_empty() {
                format!("In {}", language_name(l))
            } else {
                format!("In {} (also {})", language_name(l), spoken_list(&others))
            }
        }),
        None => reason(Criterion::Language, Outcome::NotMet, x, || {
            format!("Offered in {} only", spoken_list(&names(None)))
        }),
    }
}

fn access(needs: &[AccessibilityFeature], listing: &Listing, x: bool) -> Reason {
    let missing = || needs.iter().filter(|n| !listing.access.contains(n));
    if missing().next().is_none() {
        return reason(Criterion::Access, Outcome::Met, x, || {
            let names: Vec<String> = needs.iter().map(|n| n.name().to_string()).collect();
            spoken_list(&names)
        });
    }
    // A feature not listed is not proof it is absent: ask, don't exclude.
    reason(Criterion::Access, Outcome::Unknown, x, || {
        let names: Vec<String> = missing().map(|m| m.name().to_string()).collect();
        format!("Not listed: {}", spoken_list(&names))
    })
}

fn cost(max: i64, circumstances: &[String], listing: &Listing, x: bool) -> Reason {
    let cheapest = listing
        .prices
        .iter()
        .filter(|p| {
            p.concessions.is_empty() || p.concessions.iter().any(|c| contains(circumstances, c))
        })
        .filter_map(|p| p.pence)
        .min();
    match cheapest {
        None => reason(Criterion::Cost, Outcome::Unknown, x, || "No price listed"),
        Some(pence) if pence <= max => reason(Criterion::Cost, Outcome::Met, x, || {
            format!("Costs {}; you can pay up to {}", pounds(pence), pounds(max))
        }),
        Some(pence) => reason(Criterion::Cost, Outcome::NotMet, x, || {
            format!("Costs {}; you can pay up to {}", pounds(pence), pounds(max))
        }),
    }
}

fn describe_session(session: &Session) -> String {
    let days = session
        .days
        .iter()
        .map(|d| day_name(*d))
        .collect::<Vec<_>>()
        .join(" and ");
    match (session.opens, session.closes) {
        (Some(o), Some(c)) => format!("{days} {}–{}", clock(o), clock(c)),
        (Some(o), None) => format!("{days} from {}", clock(o)),
        _ => days,
    }
}

fn describe_window(w: &Window) -> String {
    if w.from == 0 && w.to >= 24 * 60 {
        day_name(w.day).to_string()
    } else {
        format!(
            "{} {}–{}",
            day_name(w.day),
            clock(w.from),
            clock(w.to.min(24 * 60))
        )
    }
}

fn availability(windows: &[Window], listing: &Listing, today: NaiveDate, x: bool) -> Reason {
    // Sessions running today; an iterator, not a list: ranking calls this per candidate.
    let current = || {
        listing.sessions.iter().filter(|s| {
            !s.days.is_empty()
                && s.valid_from.is_none_or(|f| f <= today)
                && s.valid_to.is_none_or(|t| t >= today)
        })
    };
    if current().next().is_none() {
        return reason(
            Criterion::Availability,
            Outcome::Unknown,
            x,
            || "No opening times listed",
        );
    }
    let you = || {
        windows
            .iter()
            .map(describe_window)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let fits = |s: &Session, w: &Window| {
        s.days.contains(&w.day)
            && s.opens.is_none_or(|o| o >= w.from)
            && s.closes.or(s.opens).is_none_or(|c| c <= w.to)
    };
    for session in current() {
        if windows.iter().any(|w| fits(session, w)) {
            return reason(Criterion::Availability, Outcome::Met, x, || {
                format!("Open {}; you said {}", describe_session(session), you())
            });
        }
    }
    let open = || {
        current()
            .map(describe_session)
            .collect::<Vec<_>>()
            .join(", ")
    };
    reason(Criterion::Availability, Outcome::NotMet, x, || {
        format!("Open {}; you said {}", open(), you())
    })
}

fn delivery(person: &[DeliveryMode], listing: &Listing, x: bool) -> Reason {
    if listing.delivery_modes.is_empty() {
        return reason(
            Criterion::DeliveryMode,
            Outcome::Unknown,
            x,
            || "How it is delivered is not listed",
        );
    }
    let offered = || {
        listing
            .delivery_modes
            .iter()
            .map(|m| label(m.code()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match person.iter().find(|m| listing.delivery_modes.contains(m)) {
        Some(m) => reason(Criterion::DeliveryMode, Outcome::Met, x, || {
            format!("Offered {}", label(m.code()))
        }),
        None => reason(Criterion::DeliveryMode, Outcome::NotMet, x, || {
            format!("Offered {} only", offered())
        }),
    }
}

fn referral(route: ReferralRoute, listing: &Listing, x: bool) -> Reason {
    if listing.referral_routes.is_empty() {
        return reason(
            Criterion::ReferralRoute,
            Outcome::Unknown,
            x,
            || "Referral routes not listed",
        );
    }
    let accepted = || {
        listing
            .referral_routes
            .iter()
            .map(|r| label(r.code()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let outcome = if listing.referral_routes.contains(&route) {
        Outcome::Met
    } else {
        Outcome::NotMet
    };
    reason(Criterion::ReferralRoute, outcome, x, || {
        format!("Accepts referrals: {}", accepted())
    })
}

/// Assess a listing for a person on `today`, with sentences.
/// A residency rule judged for a place: `inside` says whether the place lies in the
/// area (None when the area's boundary is not loaded: UNKNOWN, never a refusal).
pub fn residency(area_code: &str, inside: Option<bool>, explain: bool) -> Reason {
    let (outcome, detail) = match inside {
        Some(true) => (
            Outcome::Met,
            format!("For residents of {area_code}; this place is inside"),
        ),
        Some(false) => (
            Outcome::NotMet,
            format!("For residents of {area_code}; this place is outside"),
        ),
        None => (Outcome::Unknown, format!("For residents of {area_code}")),
    };
    Reason {
        criterion: Criterion::Residency,
        outcome,
        detail: if explain { detail } else { String::new() },
    }
}

pub fn assess(person: &Person, listing: &Listing, today: NaiveDate) -> Vec<Reason> {
    assess_with(person, listing, today, Some(&NO_NAMES))
}

/// Assess a listing, its sentences naming codes by `explain`'s names; with `explain`
/// None the details are left empty (for ranking).
pub fn assess_with(
    person: &Person,
    listing: &Listing,
    today: NaiveDate,
    explain: Option<&Names>,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    assess_into(person, listing, today, explain, &mut reasons);
    reasons
}

/// `assess_with` into a buffer the caller reuses: search ranks thousands of
/// candidates and need not allocate a list for each.
pub fn assess_into(
    person: &Person,
    listing: &Listing,
    today: NaiveDate,
    explain: Option<&Names>,
    reasons: &mut Vec<Reason>,
) {
    let x = explain.is_some();
    let names = explain.unwrap_or(&NO_NAMES);
    reasons.clear();
    if let Some(a) = person.age {
        reasons.push(age(a, listing, x));
    }
    if let Some(g) = &person.gender {
        reasons.push(gender(g, listing, names, x));
    }
    if let Some(c) = &person.circumstances {
        reasons.push(circumstances(c, listing, names, x));
    }
    if let Some(l) = person.languages.as_deref().filter(|l| !l.is_empty()) {
        reasons.push(languages(l, listing, x));
    }
    if let Some(needs) = person.access_needs.as_deref().filter(|n| !n.is_empty()) {
        reasons.push(access(needs, listing, x));
    }
    if let Some(max) = person.max_cost_pence {
        reasons.push(cost(
            max,
            person.circumstances.as_deref().unwrap_or_default(),
            listing,
            x,
        ));
    }
    if let Some(windows) = person.availability.as_deref().filter(|w| !w.is_empty()) {
        reasons.push(availability(windows, listing, today, x));
    }
    if let Some(modes) = person.delivery_modes.as_deref().filter(|m| !m.is_empty()) {
        reasons.push(delivery(modes, listing, x));
    }
    if let Some(route) = person.referral_route {
        reasons.push(referral(route, listing, x));
    }
}

#[cfg(test)]
mod residency_tests {
    use super::*;

    #[test]
    fn names_read_mid_sentence_and_codes_without_one_read_as_themselves() {
        let names = Names::new([
            ("Carer".to_string(), "Carers".to_string()),
            ("lgbtq".to_string(), "LGBTQ+ people".to_string()),
            (
                "carer".to_string(),
                "Ignored: the first name wins".to_string(),
            ),
        ]);
        assert_eq!(names.of("carer"), "carers");
        assert_eq!(names.of(" CARER "), "carers");
        assert_eq!(names.of("lgbtq"), "LGBTQ+ people");
        assert_eq!(names.of("young_carer"), "young carer");
    }

    #[test]
    fn residency_is_met_inside_not_met_outside_and_unknown_without_the_boundary() {
        assert_eq!(
            residency("E08000009", Some(true), true).outcome,
            Outcome::Met
        );
        let outside = residency("E08000009", Some(false), true);
        assert_eq!(outside.outcome, Outcome::NotMet);
        assert_eq!(
            outside.detail,
            "For residents of E08000009; this place is outside"
        );
        assert_eq!(residency("E08000009", None, true).outcome, Outcome::Unknown);
        assert_eq!(residency("E08000009", Some(false), false).detail, "");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap_or_default()
    }

    fn only(person: Person, listing: &Listing) -> Reason {
        let mut reasons = assess(&person, listing, today());
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        reasons.remove(0)
    }

    fn outcome(person: Person, listing: &Listing) -> Outcome {
        only(person, listing).outcome
    }

    #[test]
    fn a_person_who_says_nothing_gets_no_reasons_and_fits() {
        let fit = Fit::from_reasons(assess(&Person::default(), &Listing::default(), today()));
        assert!(fit.suitable);
        assert!(fit.reasons.is_empty());
    }

    #[test]
    fn age_is_met_inside_the_range_not_met_outside_and_unknown_when_silent() {
        let listing = Listing {
            minimum_age: Some(65.0),
            maximum_age: Some(100.0),
            ..Listing::default()
        };
        let at = |age| Person {
            age: Some(age),
            ..Person::default()
        };
        assert_eq!(outcome(at(70.0), &listing), Outcome::Met);
        assert_eq!(outcome(at(64.5), &listing), Outcome::NotMet);
        assert_eq!(
            outcome(at(65.0), &listing),
            Outcome::Met,
            "bounds are inclusive"
        );
        assert_eq!(outcome(at(30.0), &Listing::default()), Outcome::Unknown);
        assert_eq!(
            only(at(70.0), &listing).detail,
            "For ages 65–100; you said 70"
        );
    }

    #[test]
    fn gender_restrictions_exclude_while_suitability_only_ranks() {
        let women_only = Listing {
            genders_restricted: vec!["female".into()],
            ..Listing::default()
        };
        let aimed_at_men = Listing {
            genders_suitable: vec!["male".into()],
            ..Listing::default()
        };
        let said = |g: &str| Person {
            gender: Some(g.into()),
            ..Person::default()
        };
        assert_eq!(outcome(said("Female"), &women_only), Outcome::Met);
        assert_eq!(outcome(said("male"), &women_only), Outcome::NotMet);
        assert_eq!(outcome(said("female"), &aimed_at_men), Outcome::Unknown);
        assert_eq!(outcome(said("male"), &aimed_at_men), Outcome::Met);
        assert_eq!(outcome(said("male"), &Listing::default()), Outcome::Unknown);
    }

    #[test]
    fn circumstances_restricted_to_carers_exclude_non_carers() {
        let carers = Listing {
            circumstances_restricted: vec!["carer".into()],
            ..Listing::default()
        };
        let veterans_welcome = Listing {
            circumstances_suitable: vec!["veteran".into()],
            ..Listing::default()
        };
        let has = |c: &[&str]| Person {
            circumstances: Some(c.iter().map(|s| s.to_string()).collect()),
            ..Person::default()
        };
        assert_eq!(outcome(has(&["carer"]), &carers), Outcome::Met);
        assert_eq!(outcome(has(&[]), &carers), Outcome::NotMet);
        assert_eq!(
            outcome(has(&["bereaved"]), &veterans_welcome),
            Outcome::Unknown
        );
        assert_eq!(outcome(has(&["veteran"]), &veterans_welcome), Outcome::Met);
        assert_eq!(
            outcome(has(&["carer"]), &Listing::default()),
            Outcome::Unknown
        );
    }

    #[test]
    fn language_is_met_when_any_spoken_language_is_offered() {
        let listing = Listing {
            languages: vec!["en".into(), "ur".into()],
            ..Listing::default()
        };
        let speaks = |l: &[&str]| Person {
            languages: Some(l.iter().map(|s| s.to_string()).collect()),
            ..Person::default()
        };
        assert_eq!(outcome(speaks(&["pl", "UR"]), &listing), Outcome::Met);
        assert_eq!(outcome(speaks(&["pl"]), &listing), Outcome::NotMet);
        assert_eq!(
            outcome(speaks(&["pl"]), &Listing::default()),
            Outcome::Unknown
        );
    }

    #[test]
    fn reasons_name_languages_and_access_in_words_not_codes() {
        let listing = Listing {
            languages: vec!["en".into(), "ur".into(), "pol".into()],
            access: vec![
                AccessibilityFeature::StepFree,
                AccessibilityFeature::HearingLoop,
            ],
            ..Listing::default()
        };
        let detail = |person: Person| assess(&person, &listing, today())[0].detail.clone();
        let speaks = |l: &str| Person {
            languages: Some(vec![l.into()]),
            ..Person::default()
        };
        assert_eq!(detail(speaks("ur")), "In Urdu (also English and Polish)");
        assert_eq!(
            detail(speaks("ar")),
            "Offered in English, Urdu and Polish only"
        );
        let needs = |a: Vec<AccessibilityFeature>| Person {
            access_needs: Some(a),
            ..Person::default()
        };
        assert_eq!(
            detail(needs(vec![AccessibilityFeature::StepFree])),
            "Step-free access"
        );
        assert_eq!(
            detail(needs(vec![
                AccessibilityFeature::HearingLoop,
                AccessibilityFeature::QuietSpace
            ])),
            "Not listed: Quiet space"
        );
        assert_eq!(language_name("xx"), "xx", "an unknown code stays a code");
    }

    #[test]
    fn access_needs_are_met_when_listed_and_unknown_otherwise() {
        let listing = Listing {
            access: vec![AccessibilityFeature::StepFree],
            ..Listing::default()
        };
        let needs = |n: &[AccessibilityFeature]| Person {
            access_needs: Some(n.to_vec()),
            ..Person::default()
        };
        assert_eq!(
            outcome(needs(&[AccessibilityFeature::StepFree]), &listing),
            Outcome::Met
        );
        assert_eq!(
            outcome(
                needs(&[
                    AccessibilityFeature::StepFree,
                    AccessibilityFeature::HearingLoop
                ]),
                &listing
            ),
            Outcome::Unknown
        );
    }

    #[test]
    fn cost_counts_free_as_zero_and_concessions_for_the_persons_circumstances() {
        let listing = Listing {
            prices: vec![
                Price {
                    pence: Some(500),
                    concessions: vec![],
                },
                Price {
                    pence: Some(100),
                    concessions: vec!["carer".into()],
                },
            ],
            ..Listing::default()
        };
        let person = |max, c: &[&str]| Person {
            max_cost_pence: Some(max),
            circumstances: Some(c.iter().map(|s| s.to_string()).collect()),
            ..Person::default()
        };
        let cost_of = |p: Person, l: &Listing| {
            assess(&p, l, today())
                .into_iter()
                .find(|r| r.criterion == Criterion::Cost)
                .map(|r| r.outcome)
        };
        assert_eq!(cost_of(person(200, &[]), &listing), Some(Outcome::NotMet));
        assert_eq!(
            cost_of(person(200, &["carer"]), &listing),
            Some(Outcome::Met),
            "the concession counts"
        );
        assert_eq!(cost_of(person(500, &[]), &listing), Some(Outcome::Met));
        let free = Listing {
            prices: vec![Price {
                pence: Some(0),
                concessions: vec![],
            }],
            ..Listing::default()
        };
        assert_eq!(cost_of(person(0, &[]), &free), Some(Outcome::Met));
        assert_eq!(
            cost_of(person(0, &[]), &Listing::default()),
            Some(Outcome::Unknown)
        );
    }

    #[test]
    fn availability_matches_sessions_inside_the_persons_windows() {
        let listing = Listing {
            sessions: vec![Session {
                days: vec![DayOfWeek::Tuesday],
                opens: Some(600),
                closes: Some(720),
                valid_from: None,
                valid_to: None,
            }],
            ..Listing::default()
        };
        let free = |day, from, to| Person {
            availability: Some(vec![Window { day, from, to }]),
            ..Person::default()
        };
        let mornings = only(free(DayOfWeek::Tuesday, 0, 720), &listing);
        assert_eq!(mornings.outcome, Outcome::Met);
        assert_eq!(
            mornings.detail,
            "Open Tuesdays 10:00–12:00; you said Tuesdays 00:00–12:00"
        );
        assert_eq!(
            outcome(free(DayOfWeek::Tuesday, 780, 1440), &listing),
            Outcome::NotMet
        );
        assert_eq!(
            outcome(free(DayOfWeek::Monday, 0, 1440), &listing),
            Outcome::NotMet
        );
        assert_eq!(
            outcome(free(DayOfWeek::Monday, 0, 1440), &Listing::default()),
            Outcome::Unknown
        );
        let expired = Listing {
            sessions: vec![Session {
                valid_to: NaiveDate::from_ymd_opt(2020, 1, 1),
                ..listing.sessions[0].clone()
            }],
            ..Listing::default()
        };
        assert_eq!(
            outcome(free(DayOfWeek::Tuesday, 0, 1440), &expired),
            Outcome::Unknown,
            "past sessions do not count"
        );
    }

    #[test]
    fn delivery_mode_and_referral_route_each_have_three_outcomes() {
        let listing = Listing {
            delivery_modes: vec![DeliveryMode::Telephone],
            referral_routes: vec![ReferralRoute::Gp],
            ..Listing::default()
        };
        let by = |m| Person {
            delivery_modes: Some(vec![m]),
            ..Person::default()
        };
        assert_eq!(outcome(by(DeliveryMode::Telephone), &listing), Outcome::Met);
        assert_eq!(
            outcome(by(DeliveryMode::InPerson), &listing),
            Outcome::NotMet
        );
        assert_eq!(
            outcome(by(DeliveryMode::InPerson), &Listing::default()),
            Outcome::Unknown
        );
        let via = |r| Person {
            referral_route: Some(r),
            ..Person::default()
        };
        assert_eq!(outcome(via(ReferralRoute::Gp), &listing), Outcome::Met);
        assert_eq!(
            outcome(via(ReferralRoute::SelfReferral), &listing),
            Outcome::NotMet
        );
        assert_eq!(
            outcome(via(ReferralRoute::Gp), &Listing::default()),
            Outcome::Unknown
        );
    }

    #[test]
    fn unsuitable_exactly_when_a_reason_is_not_met() {
        let listing = Listing {
            minimum_age: Some(65.0),
            ..Listing::default()
        };
        let person = Person {
            age: Some(30.0),
            gender: Some("male".into()),
            ..Person::default()
        };
        let fit = Fit::from_reasons(assess(&person, &listing, today()));
        assert!(!fit.suitable);
        assert_eq!(fit.unknowns(), 1);
    }
}
