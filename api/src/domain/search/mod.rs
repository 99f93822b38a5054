//! Search: "what near my client is suitable for them, has space, and why?".
//! Candidates come from the in-process index (`index`), which follows the database
//! (`load`); each is filtered and assessed (`eligibility`), then ordered: suitable
//! first, then by distance (services reached by area or remotely after those with a
//! distance), then by fewer unknowns, then by id. Cursors carry that sort key, so
//! pages of any size concatenate to the same list.

mod entry;
mod handle;
mod ids;
pub mod index;
pub mod load;
mod nearest;
mod reach;
mod rows;
mod rules;
mod shapes;
mod slots;
mod terms;
mod verdict;

pub use handle::{Opened, SaveError, SearchHandle};

use chrono::{DateTime, Utc};

use self::index::{Reach, SearchIndex};
use super::codes::CapacityStatus;
use super::eligibility::{self, Fit, Outcome, Person, Reason};
use super::paging::{self, Page};
use super::validate::Fields;
use crate::error::{AppError, AppResult};
use crate::spatial::Coordinates;

/// Metres around a place when a caller does not say.
pub const DEFAULT_RADIUS_METRES: i32 = 5000;
/// The widest search: wider says nothing a link worker can use, and costs.
pub const MAX_RADIUS_METRES: i32 = 100_000;

/// A search radius, checked once for every adapter (search, `capacityChanged`).
pub fn radius(field: &str, metres: i32) -> AppResult<f64> {
    if !(1..=MAX_RADIUS_METRES).contains(&metres) {
        return Err(AppError::bad_input(
            field,
            format!("must lie in 1..{MAX_RADIUS_METRES}"),
        ));
    }
    Ok(f64::from(metres))
}

/// A search, validated.
#[derive(Clone, Debug)]
pub struct SearchRequest {
    pub near: Coordinates,
    pub radius_metres: f64,
    pub taxonomy_terms: Vec<String>,
    pub text: Option<String>,
    pub person: Person,
    pub capacity: Option<Vec<CapacityStatus>>,
    pub verified_within_days: Option<u32>,
    pub include_unsuitable: bool,
    /// How the caller's protocol names the search's fields (`input.taxonomyTerms`).
    pub fields: Fields,
}

/// How a found service reaches the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReachKind {
    AtLocation,
    ServiceArea,
    Remote,
}

/// One result.
#[derive(Clone, Debug)]
pub struct Found {
    pub service_id: String,
    pub name: String,
    pub distance_metres: Option<f64>,
    pub reach: ReachKind,
    pub nearest_location_id: Option<String>,
    pub fit: Fit,
    pub cursor: String,
}

/// A page of results.
#[derive(Debug)]
pub struct Results {
    pub found: Vec<Found>,
    pub has_next: bool,
    /// Suitable services in reach as far as the walk went (it stops once the page is
    /// settled): exact when it walked them all, else a lower bound of at least one.
    /// The demand signal asks only whether there was any.
    pub suitable_total: usize,
}

/// Sort key: suitable first, then distance (none last), fewer unknowns, id. Ranking
/// borrows ids from the index (`Key<&str>`); a decoded cursor owns its id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key<I> {
    unsuitable: bool,
    millimetres: u64,
    unknowns: u32,
    id: I,
}

impl<I: AsRef<str>> Key<I> {
    fn borrowed(&self) -> Key<&str> {
        Key {
            unsuitable: self.unsuitable,
            millimetres: self.millimetres,
            unknowns: self.unknowns,
            id: self.id.as_ref(),
        }
    }

    fn encode(&self) -> String {
        paging::encode_cursor(&format!(
            "{}:{}:{}:{}",
            u8::from(self.unsuitable),
            self.millimetres,
            self.unknowns,
            self.id.as_ref()
        ))
    }
}

impl Key<String> {
    fn decode(raw: &str) -> AppResult<Self> {
        let bad = || AppError::bad_input("after", "not a cursor from this search");
        let mut parts = raw.splitn(4, ':');
        let mut next = || parts.next().ok_or_else(bad);
        let unsuitable = match next()? {
            "0" => false,
            "1" => true,
            _ => return Err(bad()),
        };
        let millimetres = next()?.parse().map_err(|_| bad())?;
        let unknowns = next()?.parse().map_err(|_| bad())?;
        let id = next()?.to_string();
        Ok(Self {
            unsuitable,
            millimetres,
            unknowns,
            id,
        })
    }
}

/// The coarse cell recorded as demand when no loaded area contains the point
/// (a tenth of a degree: about 11 km north–south), never the point itself.
pub fn grid_cell(at: Coordinates) -> String {
    format!(
        "grid:{:.1}:{:.1}",
        (at.latitude * 10.0).floor() / 10.0,
        (at.longitude * 10.0).floor() / 10.0
    )
}

/// Fit of one entry into `reasons` (a buffer reused across candidates): the
/// person's criteria, plus residency, which depends on where the person is (a
/// listing restricted to residents of an area that is not loaded, or a person whose
/// place is not known, reads UNKNOWN).
fn assess_into(
    index: &SearchIndex,
    person: &Person,
    near: Option<Coordinates>,
    entry: &index::Entry,
    today: chrono::NaiveDate,
    explain: bool,
    reasons: &mut Vec<Reason>,
) {
    let names = explain.then(|| index.names());
    eligibility::assess_into(person, &entry.listing.unpack(), today, names, reasons);
    if let Some(code) = &entry.residency_area {
        let inside = near.and_then(|at| index.resident(code, at));
        let area = index.area(code).map_or(&**code, |a| a.name.as_str());
        reasons.push(eligibility::residency(area, inside, explain));
    }
}

/// Whether a service helps with a need, in words: MET when one of its categories is
/// a type mapped to the need ("Befriending helps with loneliness"), else UNKNOWN —
/// a need is a reason to look, never a rule, so never NOT_MET.
fn need_reason(
    index: &SearchIndex,
    entry: &index::Entry,
    need: &crate::domain::needs::Need,
    serves: &std::collections::HashSet<String>,
) -> Reason {
    let need_name = need.name.to_lowercase();
    match entry.terms.iter().find(|t| serves.contains(&***t)) {
        Some(term) => Reason {
            criterion: eligibility::Criterion::Need,
            outcome: Outcome::Met,
            detail: format!(
                "{} helps with {need_name}",
                index.term_name(term).unwrap_or("This service")
            ),
        },
        None => Reason {
            criterion: eligibility::Criterion::Need,
            outcome: Outcome::Unknown,
            detail: format!("Not listed as helping with {need_name}"),
        },
    }
}

/// How service `id` fits `person` as search would judge it (with sentences), at
/// `near` when the person's place is known. None when the index does not hold it.
pub fn fit_of(
    index: &SearchIndex,
    id: &str,
    person: &Person,
    near: Option<Coordinates>,
    today: chrono::NaiveDate,
) -> Option<Fit> {
    let entry = index.entry_of(id)?;
    let mut reasons = Vec::new();
    assess_into(index, person, near, entry, today, true, &mut reasons);
    Some(Fit::from_reasons(reasons))
}

/// A service in reach that passed the filters, before its distance is exact.
struct Candidate {
    unsuitable: bool,
    unknowns: u32,
    slot: u32,
    reach: Reach,
}

/// Millimetres for the sort key: rounded when exact; `floor` and `ceil` bound it
/// from a rough distance's low and high ends. No distance (`f64::MAX`, see
/// `Reach::low`) saturates to `u64::MAX`, so it sorts last.
fn millimetres(metres: f64, round: fn(f64) -> f64) -> u64 {
    round(metres * 1000.0) as u64
}

/// Put a candidate on the page being chosen (`best`, kept sorted and at most `wanted`
/// long) when its exact key comes after the cursor.
fn consider<'a>(
    index: &'a SearchIndex,
    near: Coordinates,
    after: Option<&Key<String>>,
    wanted: usize,
    best: &mut Vec<(Key<&'a str>, u32, Reach)>,
    candidate: Candidate,
) {
    let Some(entry) = index.entry(candidate.slot) else {
        return;
    };
    let reach = index.exact(near, candidate.slot, candidate.reach);
    let key = Key {
        unsuitable: candidate.unsuitable,
        millimetres: millimetres(reach.metres().unwrap_or(f64::MAX), f64::round),
        unknowns: candidate.unknowns,
        id: &*entry.id,
    };
    if after.is_some_and(|after| key <= after.borrowed()) {
        return;
    }
    let at = best.partition_point(|(k, ..)| *k < key);
    best.insert(at, (key, candidate.slot, reach));
    best.truncate(wanted);
}

/// Run a search over the index.
pub fn run(
    index: &SearchIndex,
    request: &SearchRequest,
    page: &Page,
    now: DateTime<Utc>,
) -> AppResult<Results> {
    let asked = request.person.needs.as_deref().unwrap_or_default();
    let needs = index.needs_asked(asked).map_err(|unknown| {
        AppError::bad_input(
            request.fields.name("person.needs"),
            format!("unknown need: {} (see `needs`)", unknown.join(", ")),
        )
    })?;
    let unknown_terms = |unknown: Vec<String>| {
        AppError::bad_input(
            request.fields.name("taxonomyTerms"),
            format!("unknown taxonomy term: {}", unknown.join(", ")),
        )
    };
    // Needs widen the categories to the types that help with them, alongside any
    // asked for by name.
    let wanted_terms = if request.taxonomy_terms.is_empty() && needs.is_empty() {
        None
    } else {
        index
            .expand_terms(&request.taxonomy_terms)
            .map_err(unknown_terms)?;
        let mut codes = request.taxonomy_terms.clone();
        codes.extend(needs.iter().flat_map(|(_, serves)| serves.iter().cloned()));
        Some(index.expand_terms(&codes).map_err(unknown_terms)?)
    };
    let after = page.after.as_deref().map(Key::decode).transpose()?;
    let text = request
        .text
        .as_deref()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty());
    // Days beyond the calendar's range mean "verified ever", not an overflow.
    let verified_after = request.verified_within_days.map(|d| {
        now.checked_sub_signed(chrono::TimeDelta::days(i64::from(d)))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    });
    let today = now.date_naive();

    // Categories are settled by `reach_nearest`; most searches filter on nothing else
    // the compact rules do not hold, and then no candidate's entry is read until the
    // page is chosen.
    let reads_entries = text.is_some() || request.capacity.is_some() || verified_after.is_some();
    let keep = |slot: u32| {
        if !reads_entries {
            return true;
        }
        index.entry(slot).is_some_and(|entry| {
            text.as_deref().is_none_or(|text| entry.text.contains(text))
                && request
                    .capacity
                    .as_ref()
                    .is_none_or(|statuses| statuses.contains(&entry.capacity_status(now)))
                && verified_after
                    .is_none_or(|after| entry.last_verified_at.is_some_and(|v| v >= after))
        })
    };
    let probe = index.probe(&request.person, today);
    let mut reasons = Vec::new();
    let mut verdict = |slot: u32| {
        index.verdict(slot, &probe).or_else(|| {
            let entry = index.entry(slot)?;
            assess_into(
                index,
                &request.person,
                Some(request.near),
                entry,
                today,
                false,
                &mut reasons,
            );
            let unknowns = reasons.iter().filter(|r| r.outcome == Outcome::Unknown);
            Some((
                reasons.iter().all(|r| r.outcome != Outcome::NotMet),
                unknowns.count() as u32,
            ))
        })
    };
    let reached = index.reach_nearest(
        request.near,
        request.radius_metres,
        wanted_terms.as_ref(),
        keep,
    );
    // Walk nearest first by the least each distance can be, judging fit as we go and
    // making distances exact as they come: once the next one's least key is past the
    // last key of a full page, nothing further can enter it, so a page costs about a
    // page of verdicts and geodesics however many services are in range. Suitable
    // services rank before unsuitable ones, which (when asked for) are walked after.
    let wanted = page.first + 1;
    let mut best: Vec<(Key<&str>, u32, Reach)> = Vec::with_capacity(wanted + 1);
    let settled = |best: &[(Key<&str>, u32, Reach)], unsuitable: bool, reach: &Reach| {
        let least = (unsuitable, millimetres(reach.low(), f64::floor));
        best.len() == wanted
            && best
                .last()
                .is_some_and(|(last, ..)| least > (last.unsuitable, last.millimetres))
    };
    // Before the cursor, by the most each distance can be.
    let before_cursor = |unsuitable: bool, reach: &Reach| {
        after.as_ref().is_some_and(|after| {
            (unsuitable, millimetres(reach.high(), f64::ceil))
                < (after.unsuitable, after.millimetres)
        })
    };
    // A cursor among suitable services means an earlier page held one.
    let mut suitable_total = usize::from(after.as_ref().is_some_and(|a| !a.unsuitable));
    let mut unsuitable = Vec::new();
    let mut walked_all = true;
    for (slot, reach) in reached {
        if settled(&best, false, &reach) {
            walked_all = false;
            break;
        }
        // Had it been suitable it would come before the cursor; unsuitable, it is not
        // wanted: either way no verdict is needed.
        if !request.include_unsuitable && before_cursor(false, &reach) {
            continue;
        }
        let Some((suitable, unknowns)) = verdict(slot) else {
            continue;
        };
        let candidate = Candidate {
            unsuitable: !suitable,
            unknowns,
            slot,
            reach,
        };
        if !suitable {
            if request.include_unsuitable {
                unsuitable.push(candidate);
            }
            continue;
        }
        suitable_total += 1;
        if !before_cursor(false, &reach) {
            consider(
                index,
                request.near,
                after.as_ref(),
                wanted,
                &mut best,
                candidate,
            );
        }
    }
    // Unsuitable services follow every suitable one: only when all were walked.
    if walked_all {
        for candidate in unsuitable {
            if settled(&best, true, &candidate.reach) {
                break;
            }
            if !before_cursor(true, &candidate.reach) {
                consider(
                    index,
                    request.near,
                    after.as_ref(),
                    wanted,
                    &mut best,
                    candidate,
                );
            }
        }
    }
    let has_next = best.len() > page.first;
    let found = best
        .into_iter()
        .take(page.first)
        .filter_map(|(key, slot, reach)| {
            let entry = index.entry(slot)?;
            // Now write the sentences, for the page only.
            let mut reasons = Vec::new();
            assess_into(
                index,
                &request.person,
                Some(request.near),
                entry,
                today,
                true,
                &mut reasons,
            );
            reasons.extend(
                needs
                    .iter()
                    .map(|(need, serves)| need_reason(index, entry, need, serves)),
            );
            let (distance_metres, reach, nearest_location_id) = match reach {
                Reach::AtLocation(metres, i) => (
                    Some(metres.metres),
                    ReachKind::AtLocation,
                    entry
                        .locations
                        .get(i as usize)
                        .map(|(id, _)| id.to_string()),
                ),
                Reach::ServiceArea => (None, ReachKind::ServiceArea, None),
                Reach::Remote => (None, ReachKind::Remote, None),
            };
            Some(Found {
                service_id: entry.id.to_string(),
                name: entry.name.to_string(),
                distance_metres,
                reach,
                nearest_location_id,
                fit: Fit::from_reasons(reasons),
                cursor: key.encode(),
            })
        })
        .collect();
    Ok(Results {
        found,
        has_next,
        suitable_total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_keys_round_trip_and_order_suitable_then_distance_then_unknowns_then_id() {
        let key = |u, mm, unk, id: &str| Key {
            unsuitable: u,
            millimetres: mm,
            unknowns: unk,
            id: id.into(),
        };
        let k = key(false, 1200, 2, "svc:with:colons");
        let decoded = paging::decode_cursor(&k.encode()).and_then(|raw| Key::decode(&raw));
        assert_eq!(decoded.ok(), Some(k));
        let mut keys = [
            key(true, 1, 0, "a"),
            key(false, u64::MAX, 0, "b"),
            key(false, 5, 1, "c"),
            key(false, 5, 0, "d"),
        ];
        keys.sort();
        let ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
        assert_eq!(ids, ["d", "c", "b", "a"]);
    }

    fn entry(id: String, at: Coordinates, minimum_age: Option<f64>) -> index::Entry {
        let mut entry = index::tests::entry(&id, &[], at);
        entry.listing = index::Packed::of(&crate::domain::eligibility::Listing {
            minimum_age,
            ..Default::default()
        });
        entry
    }

    /// Pages of every size, walked with cursors, against all in-range services
    /// sorted by their exact geodesic distance: the rough-first ranking must never
    /// change the order or the set, even where rough and exact disagree.
    #[test]
    fn ranking_by_rough_distances_pages_exactly_as_a_full_exact_sort() {
        let near = Coordinates::new(53.45, -2.3).unwrap_or_else(|_| unreachable!());
        let mut seed: u64 = 7;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut entries = Vec::new();
        for i in 0..400 {
            // A ring of near-equal distances in every direction (where the sphere
            // and the ellipsoid disagree most about order), ties, and a scatter.
            let (metres, bearing) = match i % 4 {
                0 => (2000.0 + next() * 5.0, next() * std::f64::consts::TAU),
                1 => (1500.0, f64::from(i % 3) * 2.0),
                _ => (next() * 5200.0, next() * std::f64::consts::TAU),
            };
            let at = Coordinates::new(
                near.latitude + metres * bearing.cos() / 111_200.0,
                near.longitude
                    + metres * bearing.sin() / (111_200.0 * near.latitude.to_radians().cos()),
            )
            .unwrap_or_else(|_| unreachable!());
            let minimum_age = (i % 5 == 0).then_some(60.0);
            entries.push(entry(format!("s{i:03}"), at, minimum_age));
        }
        let mut expected: Vec<(bool, u64, String)> = entries
            .iter()
            .map(|e| {
                let m = near.distance_metres(e.locations[0].1);
                (
                    e.listing.unpack().minimum_age.is_some(),
                    (m * 1000.0).round() as u64,
                    e.id.to_string(),
                    m,
                )
            })
            .filter(|(.., m)| *m <= 5000.0)
            .map(|(u, mm, id, _)| (u, mm, id))
            .collect();
        expected.sort();
        let mut index = SearchIndex::default();
        index.rebuild(vec![entries]);
        let request = SearchRequest {
            near,
            radius_metres: 5000.0,
            taxonomy_terms: vec![],
            text: None,
            person: Person {
                age: Some(30.0),
                ..Default::default()
            },
            capacity: None,
            verified_within_days: None,
            include_unsuitable: true,
            fields: Fields::GRAPHQL_INPUT,
        };
        for size in [1, 3, 7, 20, 100] {
            let mut got = Vec::new();
            let mut after = None;
            loop {
                let page = Page {
                    first: size,
                    after: after.take(),
                };
                let results =
                    run(&index, &request, &page, Utc::now()).unwrap_or_else(|e| panic!("{e:?}"));
                for found in &results.found {
                    let mm = (found.distance_metres.unwrap_or(f64::NAN) * 1000.0).round() as u64;
                    got.push((!found.fit.suitable, mm, found.service_id.clone()));
                }
                match results.found.last() {
                    Some(last) if results.has_next => {
                        after = paging::decode_cursor(&last.cursor).ok()
                    }
                    _ => break,
                }
            }
            assert_eq!(got, expected, "pages of {size}");
        }
    }

    /// A service with several locations at near-equal distances in different
    /// directions (where rough and exact disagree about which is nearest) reports the
    /// exact distance to its truly nearest one.
    #[test]
    fn the_nearest_of_a_services_locations_is_decided_by_exact_distance() {
        let near = Coordinates::new(53.45, -2.3).unwrap_or_else(|_| unreachable!());
        let mut entries = Vec::new();
        for i in 0..50 {
            let mut e = entry(format!("m{i:02}"), near, None);
            e.locations = (0..6)
                .map(|k| {
                    let bearing = f64::from(k) * 1.047 + f64::from(i) * 0.01;
                    let metres = 3000.0 + f64::from(k) * 2.0;
                    let at = Coordinates::new(
                        near.latitude + metres * bearing.cos() / 111_200.0,
                        near.longitude
                            + metres * bearing.sin()
                                / (111_200.0 * near.latitude.to_radians().cos()),
                    )
                    .unwrap_or_else(|_| unreachable!());
                    (format!("m{i:02}-{k}").into(), at)
                })
                .collect();
            entries.push(e);
        }
        let truth: Vec<f64> = entries
            .iter()
            .map(|e| {
                e.locations
                    .iter()
                    .map(|(_, c)| near.distance_metres(*c))
                    .fold(f64::MAX, f64::min)
            })
            .collect();
        let mut index = SearchIndex::default();
        index.rebuild(vec![entries]);
        let mut found = index.reach(near, 5000.0, None, |_| true);
        found.sort_by_key(|(slot, _)| *slot);
        assert_eq!(found.len(), truth.len());
        for ((_, reach), expected) in found.iter().zip(&truth) {
            assert_eq!(reach.metres(), Some(*expected));
        }
    }

    #[test]
    fn demand_is_placed_in_a_coarse_cell_never_at_the_point() {
        let at = Coordinates {
            latitude: 53.4567,
            longitude: -2.3456,
        };
        assert_eq!(grid_cell(at), "grid:53.4:-2.4");
    }
}
