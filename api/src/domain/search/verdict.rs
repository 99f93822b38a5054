//! Quick verdicts for ranking. A search in a town at a million services weighs
//! hundreds of candidates, and `eligibility::assess_into` on each chased a dozen heap
//! lists per listing (the largest cost of a search, measured). So the index keeps a
//! compact, pointer-free copy of each listing's rules (codes interned to bits, a few
//! sessions and prices inline), and a search compiles the person once (`Probe`) to
//! test every candidate with bit operations. Eligibility stays the definition: a
//! listing the compact form cannot hold exactly is `Compact::FULL` and is assessed
//! the long way, and a test checks that both always agree.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::domain::eligibility::{Listing, Person, Window};

/// Sessions and concession prices held inline; a listing with more is assessed in full.
const SESSIONS: usize = 4;
const CONCESSIONS: usize = 2;
/// Distinct codes per vocabulary that fit a 64-bit set.
const CODES: usize = 64;
const NONE_MINUTES: u16 = u16::MAX;

/// Bits for free-text codes (genders, circumstances, languages), compared as
/// eligibility compares them: ignoring ASCII case.
#[derive(Default)]
pub struct Dictionary {
    genders: HashMap<String, u32>,
    circumstances: HashMap<String, u32>,
    languages: HashMap<String, u32>,
}

/// The bits of `codes` in `vocabulary`, adding new codes while there is room; `None`
/// when one does not fit.
fn intern(vocabulary: &mut HashMap<String, u32>, codes: &[String]) -> Option<u64> {
    let mut bits = 0;
    for code in codes {
        // Most codes are lower case already: no copy is made to look them up (a
        // million listings are compacted at start-up).
        let key = folded(code);
        let next = vocabulary.len() as u32;
        let bit = match vocabulary.get(key.as_ref()) {
            Some(&bit) => bit,
            None if vocabulary.len() < CODES => *vocabulary.entry(key.into_owned()).or_insert(next),
            None => return None,
        };
        bits |= 1 << bit;
    }
    Some(bits)
}

/// A code as vocabularies hold it: ignoring ASCII case.
fn folded(code: &str) -> std::borrow::Cow<'_, str> {
    if code.bytes().any(|b| b.is_ascii_uppercase()) {
        code.to_ascii_lowercase().into()
    } else {
        code.into()
    }
}

/// The bits of codes already interned; a code no listing uses matches nothing.
fn lookup(vocabulary: &HashMap<String, u32>, codes: &[String]) -> u64 {
    codes
        .iter()
        .filter_map(|c| vocabulary.get(folded(c).as_ref()))
        .fold(0, |bits, bit| bits | 1 << bit)
}

/// A restricted-to / suitable-for rule pair as bit sets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Rule {
    restricted: u64,
    suitable: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct CompactSession {
    days: u8,
    opens: u16,
    closes: u16,
    /// Days from the common era; `i32::MIN` / `i32::MAX` when open-ended.
    valid_from: i32,
    valid_to: i32,
}

/// One listing's rules, without pointers. `full` marks a listing to assess in full.
#[derive(Clone, Copy, Debug)]
pub struct Compact {
    full: bool,
    minimum_age: Option<f64>,
    maximum_age: Option<f64>,
    genders: Rule,
    circumstances: Rule,
    languages: u64,
    access: u32,
    delivery: u32,
    referral: u32,
    /// The cheapest price open to everyone.
    open_price: Option<i64>,
    /// Prices for some circumstances: (circumstance bits, pence).
    concessions: [(u64, i64); CONCESSIONS],
    concession_count: u8,
    sessions: [CompactSession; SESSIONS],
    session_count: u8,
}

/// Two listings with the same rules share one copy in the index (see `rules`).
impl PartialEq for Compact {
    fn eq(&self, other: &Self) -> bool {
        self.identity() == other.identity()
    }
}

impl Eq for Compact {}

impl std::hash::Hash for Compact {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.identity().hash(state);
    }
}

impl Compact {
    /// Every field, ages by their bits (an age is never NaN: validation refuses it).
    fn identity(&self) -> impl PartialEq + std::hash::Hash + '_ {
        let ages = (
            self.minimum_age.map(f64::to_bits),
            self.maximum_age.map(f64::to_bits),
        );
        let codes = (self.genders, self.circumstances, self.languages);
        let modes = (self.access, self.delivery, self.referral);
        let prices = (self.open_price, self.concessions, self.concession_count);
        let sessions = (self.sessions, self.session_count);
        (self.full, ages, codes, modes, prices, sessions)
    }

    /// The age range (minimum, maximum); `None` for a listing assessed in full.
    pub fn ages(&self) -> Option<(Option<f64>, Option<f64>)> {
        (!self.full).then_some((self.minimum_age, self.maximum_age))
    }

    /// A listing assessed the long way.
    pub const FULL: Compact = Compact {
        full: true,
        minimum_age: None,
        maximum_age: None,
        genders: Rule {
            restricted: 0,
            suitable: 0,
        },
        circumstances: Rule {
            restricted: 0,
            suitable: 0,
        },
        languages: 0,
        access: 0,
        delivery: 0,
        referral: 0,
        open_price: None,
        concessions: [(0, 0); CONCESSIONS],
        concession_count: 0,
        sessions: [CompactSession {
            days: 0,
            opens: 0,
            closes: 0,
            valid_from: 0,
            valid_to: 0,
        }; SESSIONS],
        session_count: 0,
    };

    /// The compact form of a listing, or `FULL` when it does not fit (a residency
    /// rule, which depends on the search's place, is also assessed in full).
    pub fn of(listing: &Listing, has_residency: bool, codes: &mut Dictionary) -> Compact {
        Self::try_of(listing, codes)
            .filter(|_| !has_residency)
            .unwrap_or(Self::FULL)
    }

    fn try_of(listing: &Listing, codes: &mut Dictionary) -> Option<Compact> {
        let mut compact = Compact {
            full: false,
            minimum_age: listing.minimum_age,
            maximum_age: listing.maximum_age,
            genders: Rule {
                restricted: intern(&mut codes.genders, &listing.genders_restricted)?,
                suitable: intern(&mut codes.genders, &listing.genders_suitable)?,
            },
            circumstances: Rule {
                restricted: intern(&mut codes.circumstances, &listing.circumstances_restricted)?,
                suitable: intern(&mut codes.circumstances, &listing.circumstances_suitable)?,
            },
            languages: intern(&mut codes.languages, &listing.languages)?,
            access: listing.access.iter().fold(0, |bits, a| bits | a.bit()),
            delivery: listing.delivery_modes.iter().fold(0, |b, m| b | m.bit()),
            referral: listing.referral_routes.iter().fold(0, |b, r| b | r.bit()),
            ..Self::FULL
        };
        for price in &listing.prices {
            // A price only described (no pence) is no price to compare.
            let Some(pence) = price.pence else { continue };
            if price.concessions.is_empty() {
                compact.open_price = Some(compact.open_price.map_or(pence, |p| p.min(pence)));
                continue;
            }
            let slot = compact
                .concessions
                .get_mut(usize::from(compact.concession_count))?;
            *slot = (intern(&mut codes.circumstances, &price.concessions)?, pence);
            compact.concession_count += 1;
        }
        for session in listing.sessions.iter().filter(|s| !s.days.is_empty()) {
            let slot = compact
                .sessions
                .get_mut(usize::from(compact.session_count))?;
            *slot = CompactSession {
                days: session.days.iter().fold(0, |b, d| b | d.bit() as u8),
                opens: session.opens.unwrap_or(NONE_MINUTES),
                closes: session.closes.unwrap_or(NONE_MINUTES),
                valid_from: session.valid_from.map_or(i32::MIN, day_number),
                valid_to: session.valid_to.map_or(i32::MAX, day_number),
            };
            compact.session_count += 1;
        }
        Some(compact)
    }
}

fn day_number(date: NaiveDate) -> i32 {
    chrono::Datelike::num_days_from_ce(&date)
}

/// The person, compiled once per search against the index's dictionary.
pub struct Probe {
    age: Option<f64>,
    /// `Some(bits)` for each criterion the person spoke to.
    gender: Option<u64>,
    circumstances: Option<u64>,
    /// Circumstances for concessions (none when not said).
    concessions: u64,
    languages: Option<u64>,
    access: Option<u32>,
    max_cost_pence: Option<i64>,
    windows: Vec<Window>,
    delivery: Option<u32>,
    referral: Option<u32>,
    today: i32,
}

impl Probe {
    pub fn new(person: &Person, codes: &Dictionary, today: NaiveDate) -> Probe {
        let circumstances = person
            .circumstances
            .as_deref()
            .map(|c| lookup(&codes.circumstances, c));
        Probe {
            age: person.age,
            gender: person
                .gender
                .as_ref()
                .map(|g| lookup(&codes.genders, std::slice::from_ref(g))),
            circumstances,
            concessions: circumstances.unwrap_or(0),
            languages: person
                .languages
                .as_deref()
                .filter(|l| !l.is_empty())
                .map(|l| lookup(&codes.languages, l)),
            access: person
                .access_needs
                .as_deref()
                .filter(|n| !n.is_empty())
                .map(|n| n.iter().fold(0, |b, a| b | a.bit())),
            max_cost_pence: person.max_cost_pence,
            windows: person.availability.clone().unwrap_or_default(),
            delivery: person
                .delivery_modes
                .as_deref()
                .filter(|m| !m.is_empty())
                .map(|m| m.iter().fold(0, |b, d| b | d.bit())),
            referral: person.referral_route.map(|r| r.bit()),
            today: day_number(today),
        }
    }

    /// Whether the listing suits the person and how many criteria are unknown, as
    /// `eligibility::assess_into` would find; `None` for a listing held in full.
    pub fn verdict(&self, c: &Compact) -> Option<(bool, u32)> {
        if c.full {
            return None;
        }
        let mut not_met = false;
        let mut unknowns = 0;
        let mut tally = |outcome: Option<bool>| match outcome {
            Some(true) => {}
            Some(false) => not_met = true,
            None => unknowns += 1,
        };
        if let Some(age) = self.age {
            tally(if c.minimum_age.is_none() && c.maximum_age.is_none() {
                None
            } else {
                Some(
                    c.minimum_age.is_none_or(|min| age >= min)
                        && c.maximum_age.is_none_or(|max| age <= max),
                )
            });
        }
        if let Some(said) = self.gender {
            tally(rule(said, c.genders));
        }
        if let Some(said) = self.circumstances {
            tally(rule(said, c.circumstances));
        }
        if let Some(said) = self.languages {
            tally((c.languages != 0).then_some(said & c.languages != 0));
        }
        if let Some(needs) = self.access {
            // Features not listed are asked about, never excluded.
            tally((needs & !c.access == 0).then_some(true));
        }
        if let Some(max) = self.max_cost_pence {
            let concession = c.concessions[..usize::from(c.concession_count)]
                .iter()
                .filter(|(bits, _)| bits & self.concessions != 0)
                .map(|(_, pence)| *pence);
            let cheapest = c.open_price.into_iter().chain(concession).min();
            tally(cheapest.map(|pence| pence <= max));
        }
        if !self.windows.is_empty() {
            let mut current = c.sessions[..usize::from(c.session_count)]
                .iter()
                .filter(|s| s.valid_from <= self.today && s.valid_to >= self.today)
                .peekable();
            tally(current.peek().is_some().then(|| {
                current.any(|s| {
                    self.windows.iter().any(|w| {
                        let closes = if s.closes == NONE_MINUTES {
                            s.opens
                        } else {
                            s.closes
                        };
                        s.days & w.day.bit() as u8 != 0
                            && (s.opens == NONE_MINUTES || s.opens >= w.from)
                            && (closes == NONE_MINUTES || closes <= w.to)
                    })
                })
            }));
        }
        if let Some(modes) = self.delivery {
            tally((c.delivery != 0).then_some(modes & c.delivery != 0));
        }
        if let Some(route) = self.referral {
            tally((c.referral != 0).then_some(route & c.referral != 0));
        }
        Some((!not_met, unknowns))
    }
}

/// Restricted-to excludes those not on it; suitable-for only ranks; silence is unknown.
fn rule(said: u64, rule: Rule) -> Option<bool> {
    if rule.restricted != 0 {
        Some(said & rule.restricted != 0)
    } else if rule.suitable != 0 && said & rule.suitable != 0 {
        Some(true)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::codes::{AccessibilityFeature, DayOfWeek, DeliveryMode, ReferralRoute};
    use crate::domain::eligibility::{self, Fit, Price, Session};

    /// A small deterministic generator (no dependency for one test).
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) as usize) % n
        }

        fn chance(&mut self, percent: usize) -> bool {
            self.below(100) < percent
        }

        fn some<T: Copy>(&mut self, from: &[T], most: usize) -> Vec<T> {
            (0..self.below(most + 1))
                .map(|_| from[self.below(from.len())])
                .collect()
        }

        fn codes(&mut self, from: &[&str], most: usize) -> Vec<String> {
            self.some(from, most)
                .into_iter()
                .map(String::from)
                .collect()
        }
    }

    const GENDERS: &[&str] = &["female", "Male", "non-binary", "MALE"];
    const CIRCUMSTANCES: &[&str] = &["carer", "veteran", "Unemployed", "bereaved", "CARER"];
    const LANGUAGES: &[&str] = &["en", "cy", "PL", "ur", "so"];

    fn listing(r: &mut Rng) -> Listing {
        let minutes = |r: &mut Rng| (r.below(4) > 0).then(|| (r.below(24 * 4) * 15) as u16);
        let date = |r: &mut Rng| {
            r.chance(20).then(|| {
                NaiveDate::from_ymd_opt(2026, 1 + r.below(12) as u32, 1).unwrap_or_default()
            })
        };
        Listing {
            minimum_age: r.chance(40).then(|| (r.below(80) as f64) / 2.0),
            maximum_age: r.chance(30).then(|| 40.0 + r.below(60) as f64),
            genders_restricted: if r.chance(20) {
                r.codes(GENDERS, 2)
            } else {
                vec![]
            },
            genders_suitable: if r.chance(20) {
                r.codes(GENDERS, 2)
            } else {
                vec![]
            },
            circumstances_restricted: if r.chance(20) {
                r.codes(CIRCUMSTANCES, 2)
            } else {
                vec![]
            },
            circumstances_suitable: if r.chance(20) {
                r.codes(CIRCUMSTANCES, 2)
            } else {
                vec![]
            },
            languages: r.codes(LANGUAGES, 2),
            access: r.some(AccessibilityFeature::ALL, 3),
            prices: (0..r.below(3))
                .map(|_| Price {
                    pence: (r.below(5) > 0).then(|| (r.below(6) * 100) as i64),
                    concessions: if r.chance(40) {
                        r.codes(CIRCUMSTANCES, 2)
                    } else {
                        vec![]
                    },
                })
                .collect(),
            sessions: (0..r.below(4))
                .map(|_| Session {
                    days: r.some(DayOfWeek::ALL, 2),
                    opens: minutes(r),
                    closes: minutes(r),
                    valid_from: date(r),
                    valid_to: date(r),
                })
                .collect(),
            delivery_modes: r.some(DeliveryMode::ALL, 2),
            referral_routes: r.some(ReferralRoute::ALL, 2),
        }
    }

    fn person(r: &mut Rng) -> Person {
        Person {
            age: r.chance(70).then(|| r.below(190) as f64 / 2.0),
            gender: r
                .chance(40)
                .then(|| GENDERS[r.below(GENDERS.len())].to_string()),
            circumstances: r
                .chance(50)
                .then(|| r.codes(&["carer", "VETERAN", "refugee"], 2)),
            languages: r.chance(60).then(|| r.codes(&["EN", "pl", "ar"], 2)),
            access_needs: r.chance(40).then(|| r.some(AccessibilityFeature::ALL, 2)),
            // Needs rank nothing: the compact and full verdicts ignore them alike.
            needs: r.chance(30).then(|| vec!["loneliness".to_string()]),
            max_cost_pence: r.chance(60).then(|| (r.below(5) * 100) as i64),
            availability: r.chance(60).then(|| {
                (0..r.below(3))
                    .map(|_| {
                        let from = (r.below(12 * 4) * 15) as u16;
                        Window {
                            day: DayOfWeek::ALL[r.below(7)],
                            from,
                            to: from + (r.below(12 * 4) * 15) as u16,
                        }
                    })
                    .collect()
            }),
            delivery_modes: r.chance(40).then(|| r.some(DeliveryMode::ALL, 2)),
            referral_route: r
                .chance(40)
                .then(|| ReferralRoute::ALL[r.below(ReferralRoute::ALL.len())]),
        }
    }

    /// Across many random listings and people, a compact verdict is always the
    /// verdict of the full assessment.
    #[test]
    fn compact_verdicts_agree_with_the_full_assessment() {
        let mut r = Rng(42);
        let mut codes = Dictionary::default();
        let listings: Vec<Listing> = (0..400).map(|_| listing(&mut r)).collect();
        let compact: Vec<Compact> = listings
            .iter()
            .map(|l| Compact::of(l, false, &mut codes))
            .collect();
        let today = NaiveDate::from_ymd_opt(2026, 6, 15).unwrap_or_default();
        let (mut checked, mut unsuitable) = (0, 0);
        for _ in 0..300 {
            let person = person(&mut r);
            let probe = Probe::new(&person, &codes, today);
            for (listing, compact) in listings.iter().zip(&compact) {
                let Some(quick) = probe.verdict(compact) else {
                    continue;
                };
                let fit =
                    Fit::from_reasons(eligibility::assess_with(&person, listing, today, None));
                assert_eq!(
                    quick,
                    (fit.suitable, fit.unknowns() as u32),
                    "{person:?} {listing:?}"
                );
                checked += 1;
                unsuitable += usize::from(!fit.suitable);
            }
        }
        assert!(checked > 100_000, "most listings fit the compact form");
        assert!(unsuitable > checked / 10 && unsuitable < checked * 9 / 10);
    }

    #[test]
    fn listings_beyond_the_compact_form_are_assessed_in_full() {
        let mut codes = Dictionary::default();
        let session = Session {
            days: vec![DayOfWeek::Monday],
            opens: None,
            closes: None,
            valid_from: None,
            valid_to: None,
        };
        let busy = Listing {
            sessions: vec![session; SESSIONS + 1],
            ..Listing::default()
        };
        assert!(Compact::of(&busy, false, &mut codes).full);
        assert!(Compact::of(&Listing::default(), true, &mut codes).full);
        let many: Vec<String> = (0..=CODES).map(|i| format!("lang{i}")).collect();
        let babel = Listing {
            languages: many,
            ..Listing::default()
        };
        assert!(Compact::of(&babel, false, &mut codes).full);
        let probe = Probe::new(&Person::default(), &codes, NaiveDate::MIN);
        assert_eq!(probe.verdict(&Compact::FULL), None);
        assert_eq!(
            probe.verdict(&Compact::of(&Listing::default(), false, &mut codes)),
            Some((true, 0))
        );
    }
}
