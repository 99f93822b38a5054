//! The in-process search index: for every searchable service, its points, categories
//! and what fit needs, in an R*-tree so a search costs what lies in range, not what
//! lies in the table. The database stays the source of truth; the index is rebuilt
//! from it at start-up and follows it as it changes (see `load`).

use std::collections::{BTreeSet, HashMap, HashSet};

use geo::{BoundingRect, MultiPolygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RStarInsertionStrategy, RTree, RTreeParams};

pub use super::entry::{Entry, Packed};
use super::ids::Ids;
use super::nearest::{self, Point, Sighting};
pub use super::reach::{Metres, Reach};
use super::rules::RuleBook;
use super::shapes::Shapes;
pub use super::slots::PAGE;
use super::slots::Slots;
pub use super::terms::TermSet;
use super::terms::term_mask;
pub use super::verdict::Probe;
use super::verdict::{Compact, Dictionary};
use crate::domain::eligibility::Names;
use crate::domain::eligibility::Person;
use crate::domain::needs::Need;
use crate::domain::taxonomy::Term;
use crate::spatial::{self, Coordinates, ROUGH_ERROR};

/// A loaded area, for residency rules and for placing demand.
#[derive(Clone, Debug)]
pub struct Area {
    pub code: String,
    /// As people know it ("Sale Central"), for reasons in words.
    pub name: String,
    pub shape: MultiPolygon<f64>,
    /// Planar area in square degrees: only to prefer the smallest containing area.
    pub size: f64,
}

/// A free slot's rules: none, so it gets no quick verdict.
const NO_RULES: u32 = u32::MAX;

/// The entry's categories as the index's keys, each category keyed once, so
/// filtering hashes nothing.
fn intern(interned: &mut HashMap<String, u32>, entry: &mut Entry) {
    entry.term_keys = (entry.terms.iter())
        .map(|t| match interned.get(&**t) {
            Some(&key) => key,
            None => {
                let key = interned.len() as u32;
                interned.insert(t.to_string(), key);
                key
            }
        })
        .collect();
}

/// A service area's bounding box: (slot, term mask of the entry, shape id).
type AreaBox = GeomWithData<Rectangle<[f64; 2]>, (u32, u64, u32)>;
/// A loaded area's bounding box: its index in `areas`.
type Boxed = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// Wider nodes than rstar's default (6): a town-sized query at a million services
/// then visits a few hundred nodes rather than a few thousand scattered ones
/// (measured: 1.6x faster searches).
pub struct Wide;

impl RTreeParams for Wide {
    const MIN_SIZE: usize = 12;
    const MAX_SIZE: usize = 32;
    const REINSERTION_COUNT: usize = 8;
    type DefaultInsertionStrategy = RStarInsertionStrategy;
}

fn envelope(shape: &MultiPolygon<f64>) -> Option<Rectangle<[f64; 2]>> {
    let rect = shape.bounding_rect()?;
    Some(Rectangle::from_corners(
        [rect.min().x, rect.min().y],
        [rect.max().x, rect.max().y],
    ))
}

#[derive(Default)]
pub struct SearchIndex {
    slots: Slots,
    /// Each slot's rules in compact form, for quick verdicts (see `verdict`): the
    /// id of its set in `rules` (`NO_RULES` for a free slot).
    compact: Vec<u32>,
    rules: RuleBook,
    codes: Dictionary,
    by_id: Ids,
    free: Vec<u32>,
    /// Locations, in one tree per category (`tree_of`): a category search walks only
    /// its categories' trees, so its cost follows the services of those categories in
    /// range rather than every service there (with the bench's ten categories, a
    /// tenth of the points).
    /// A service with two categories is in both trees.
    points: Vec<RTree<Point, Wide>>,
    area_services: RTree<AreaBox>,
    shapes: Shapes,
    remote: BTreeSet<u32>,
    terms: Vec<Term>,
    names: Names,
    interned: HashMap<String, u32>,
    needs: Vec<Need>,
    areas: Vec<Area>,
    area_tree: RTree<Boxed>,
}

impl SearchIndex {
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.len() == 0
    }

    /// Slots in use or free: `entry` answers for every slot below this.
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    pub fn entry(&self, slot: u32) -> Option<&Entry> {
        self.slots.get(slot)
    }

    /// Every service in the index with its slot (for whole-map questions such as gaps).
    pub fn entries(&self) -> impl Iterator<Item = (u32, &Entry)> {
        self.slots.iter()
    }

    /// Loaded areas, in code order.
    pub fn areas(&self) -> &[Area] {
        &self.areas
    }

    pub fn set_terms(&mut self, terms: Vec<Term>) {
        self.names = crate::domain::taxonomy::eligibility_names(&terms);
        self.terms = terms;
    }

    /// Names of circumstances and genders, for reasons in words.
    pub fn names(&self) -> &Names {
        &self.names
    }

    pub fn needs(&self) -> &[Need] {
        &self.needs
    }

    pub fn set_needs(&mut self, needs: Vec<Need>) {
        self.needs = needs;
    }

    /// The needs with these codes (any case), each with the ids of the service types
    /// that help with it and all their descendants; Err lists unknown codes.
    pub fn needs_asked(
        &self,
        codes: &[String],
    ) -> Result<Vec<(&Need, HashSet<String>)>, Vec<String>> {
        Ok(self
            .needs_named(codes)?
            .into_iter()
            .map(|need| {
                // A mapped type the index does not hold yet is left out, not a
                // reason to drop the whole need.
                let known: Vec<String> = need
                    .serves
                    .iter()
                    .filter(|id| self.terms.iter().any(|t| &t.id == *id))
                    .cloned()
                    .collect();
                let serves =
                    crate::domain::taxonomy::expand(&self.terms, &known).unwrap_or_default();
                (need, serves)
            })
            .collect())
    }

    /// The needs with these codes (any case); Err lists unknown codes.
    fn needs_named(&self, codes: &[String]) -> Result<Vec<&Need>, Vec<String>> {
        let mut asked = Vec::new();
        let mut unknown = Vec::new();
        for code in codes {
            match self
                .needs
                .iter()
                .find(|n| n.code.eq_ignore_ascii_case(code.trim()))
            {
                Some(need) => asked.push(need),
                None => unknown.push(code.clone()),
            }
        }
        if unknown.is_empty() {
            Ok(asked)
        } else {
            Err(unknown)
        }
    }

    /// The codes of the service types mapped to these needs (not their descendants):
    /// what a need question stands for in demand and in gaps. Err lists unknown needs.
    pub fn need_type_codes(&self, codes: &[String]) -> Result<Vec<String>, Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        // Only the mapped types themselves: no expansion to descendants here.
        for need in self.needs_named(codes)? {
            for id in &need.serves {
                if let Some(term) = self.terms.iter().find(|t| &t.id == id)
                    && !out.contains(&term.code)
                {
                    out.push(term.code.clone());
                }
            }
        }
        Ok(out)
    }

    /// A term's name, for reasons in words.
    pub fn term_name(&self, id: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.name.as_str())
    }

    pub fn set_areas(&mut self, mut areas: Vec<Area>) {
        areas.sort_by(|a, b| a.code.cmp(&b.code));
        self.area_tree = RTree::bulk_load(
            areas
                .iter()
                .enumerate()
                .filter_map(|(i, a)| Some(GeomWithData::new(envelope(&a.shape)?, i as u32)))
                .collect(),
        );
        self.areas = areas;
    }

    /// Replace the whole index (start-up), building the trees in bulk. Slots follow
    /// the order of the chunks (see `Entry::locality`), a chunk a page where it lies
    /// (`Slots`). The trees are built on a second thread while the ids and compact
    /// rules are filled in.
    pub fn rebuild(&mut self, chunks: Vec<Vec<Entry>>) {
        let total = chunks.iter().map(Vec::len).sum();
        (self.slots, self.free) = Slots::from_chunks(chunks);
        self.remote.clear();
        self.shapes = Shapes::default();
        let mut points: Vec<Vec<Point>> = Vec::new();
        let mut boxes = Vec::new();
        for (slot, entry) in self.slots.iter_mut() {
            intern(&mut self.interned, entry);
            for (tree, point) in Self::points_of(entry, slot) {
                if points.len() <= tree {
                    points.resize_with(tree + 1, Vec::new);
                }
                points[tree].push(point);
            }
            boxes.extend(Self::boxes_of(entry, slot, |shape| {
                Some(self.shapes.add(shape))
            }));
            if entry.is_national_remote() {
                self.remote.insert(slot);
            }
        }
        let trees = std::thread::scope(|scope| {
            let trees = scope.spawn(|| {
                (
                    points
                        .into_iter()
                        .map(RTree::bulk_load_with_params)
                        .collect(),
                    RTree::bulk_load(boxes),
                )
            });
            let mut by_id = Ids::with_capacity(total);
            let mut codes = Dictionary::default();
            let mut rules = RuleBook::default();
            self.compact = vec![NO_RULES; self.slots.len()];
            // Listings repeat (a provider's many sessions, a region's price lists): the
            // rules of each distinct one are compiled once. Decoding every listing
            // was a fifth of a restart at a million services.
            let mut compiled: HashMap<(&[u8], bool), Compact, foldhash::fast::RandomState> =
                HashMap::default();
            for (slot, entry) in self.slots.iter() {
                by_id.insert(&self.slots, slot);
                let key = (entry.listing.bytes(), entry.residency_area.is_some());
                let compact = *compiled
                    .entry(key)
                    .or_insert_with(|| Self::compact_of(entry, &mut codes));
                self.compact[slot as usize] = rules.add(compact);
            }
            self.by_id = by_id;
            self.codes = codes;
            self.rules = rules;
            trees.join()
        });
        match trees {
            Ok((points, areas)) => (self.points, self.area_services) = (points, areas),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// The tree holding the locations of services with this category (by term key).
    fn tree_of(key: u32) -> usize {
        key as usize + 1
    }

    /// The entry's locations, each with the tree it goes in: one per category, or
    /// tree 0 for a service with none.
    fn points_of(entry: &Entry, slot: u32) -> impl Iterator<Item = (usize, Point)> + '_ {
        let uncategorised = entry.term_keys.is_empty().then_some(0);
        let categories = entry.term_keys.iter().map(|&key| Self::tree_of(key));
        uncategorised
            .into_iter()
            .chain(categories)
            .flat_map(move |tree| {
                entry.locations.iter().enumerate().map(move |(i, (_, c))| {
                    (tree, GeomWithData::new(nearest::unit(*c), (slot, i as u16)))
                })
            })
    }

    /// The entry's service-area boxes, each with the id `shape_id` gives its shape.
    fn boxes_of(
        entry: &Entry,
        slot: u32,
        mut shape_id: impl FnMut(&MultiPolygon<f64>) -> Option<u32>,
    ) -> Vec<AreaBox> {
        let mask = term_mask(entry.term_keys.iter().copied());
        entry
            .service_areas
            .iter()
            .filter_map(|shape| {
                let rect = envelope(shape)?;
                Some(GeomWithData::new(rect, (slot, mask, shape_id(shape)?)))
            })
            .collect()
    }

    pub fn remove(&mut self, id: &str) {
        let Some(slot) = self.by_id.remove(&self.slots, id) else {
            return;
        };
        let rules = std::mem::replace(&mut self.compact[slot as usize], NO_RULES);
        self.rules.release(rules);
        if let Some(entry) = self.slots.take(slot) {
            for (tree, point) in Self::points_of(&entry, slot) {
                self.points[tree].remove(&point);
            }
            for boxed in Self::boxes_of(&entry, slot, |shape| self.shapes.find(shape)) {
                self.area_services.remove(&boxed);
                self.shapes.release(boxed.data.2);
            }
        }
        self.remote.remove(&slot);
        self.free.push(slot);
    }

    fn compact_of(entry: &Entry, codes: &mut Dictionary) -> Compact {
        let listing = entry.listing.unpack();
        Compact::of(&listing, entry.residency_area.is_some(), codes)
    }

    /// The person compiled for `verdict`.
    pub fn probe(&self, person: &Person, today: chrono::NaiveDate) -> Probe {
        Probe::new(person, &self.codes, today)
    }

    /// Whether a slot's service suits the probed person, and how many criteria are
    /// unknown, from its compact rules; `None` when it must be assessed in full.
    pub fn verdict(&self, slot: u32, probe: &Probe) -> Option<(bool, u32)> {
        probe.verdict(self.rules.get(*self.compact.get(slot as usize)?)?)
    }

    /// A slot's age range (minimum, maximum) from its compact rules; `None` when they
    /// do not hold it (a listing assessed in full).
    pub fn ages(&self, slot: u32) -> Option<(Option<f64>, Option<f64>)> {
        self.rules.get(*self.compact.get(slot as usize)?)?.ages()
    }

    /// Insert or replace one service.
    pub fn upsert(&mut self, mut entry: Entry) {
        self.remove(&entry.id);
        intern(&mut self.interned, &mut entry);
        if self.free.is_empty() {
            self.free.extend(self.slots.grow());
            self.compact.resize(self.slots.len(), NO_RULES);
        }
        let Some(slot) = self.free.pop() else {
            return;
        };
        let rules = Self::compact_of(&entry, &mut self.codes);
        self.compact[slot as usize] = self.rules.add(rules);
        for (tree, point) in Self::points_of(&entry, slot) {
            if self.points.len() <= tree {
                self.points.resize_with(tree + 1, RTree::new_with_params);
            }
            self.points[tree].insert(point);
        }
        for boxed in Self::boxes_of(&entry, slot, |shape| Some(self.shapes.add(shape))) {
            self.area_services.insert(boxed);
        }
        if entry.is_national_remote() {
            self.remote.insert(slot);
        }
        self.slots.put(slot, entry);
        self.by_id.insert(&self.slots, slot);
    }

    /// How service `id` reaches `at`, if it does (for one change, not a search).
    pub fn reach_of(
        &self,
        id: &str,
        at: Coordinates,
        radius_metres: f64,
        terms: Option<&TermSet>,
    ) -> Option<Reach> {
        let slot = self.by_id.get(&self.slots, id)?;
        self.reach(at, radius_metres, terms, |found| found == slot)
            .into_iter()
            .find(|(found, _)| *found == slot)
            .map(|(_, reach)| reach)
    }

    /// The codes and all their descendants as a set entries can be tested against
    /// without hashing; Err lists unknown codes.
    pub fn expand_terms(&self, codes: &[String]) -> Result<TermSet, Vec<String>> {
        let found = crate::domain::taxonomy::expand(&self.terms, codes)?;
        let mut wanted = vec![false; self.interned.len()];
        for id in &found {
            if let Some(&key) = self.interned.get(id) {
                wanted[key as usize] = true;
            }
        }
        Ok(TermSet::new(wanted))
    }

    /// The smallest loaded area containing a point.
    pub fn area_at(&self, at: Coordinates) -> Option<&Area> {
        let p = [at.longitude, at.latitude];
        self.area_tree
            .locate_all_at_point(&p)
            .map(|b| &self.areas[b.data as usize])
            .filter(|a| spatial::contains(&a.shape, at))
            .min_by(|a, b| a.size.total_cmp(&b.size))
    }

    /// The codes of every loaded area containing a point (of every area type).
    pub fn areas_containing(&self, at: Coordinates) -> Vec<String> {
        let p = [at.longitude, at.latitude];
        self.area_tree
            .locate_all_at_point(&p)
            .map(|b| &self.areas[b.data as usize])
            .filter(|a| spatial::contains(&a.shape, at))
            .map(|a| a.code.clone())
            .collect()
    }

    /// What the index holds for service `id`.
    pub fn entry_of(&self, id: &str) -> Option<&Entry> {
        self.entry(self.by_id.get(&self.slots, id)?)
    }

    /// Whether a residency rule admits a point: `None` when the area is not loaded.
    pub fn resident(&self, area_code: &str, at: Coordinates) -> Option<bool> {
        let area = self.area(area_code)?;
        Some(spatial::contains(&area.shape, at))
    }

    /// A loaded area by its code (`areas` are kept in code order).
    pub fn area(&self, code: &str) -> Option<&Area> {
        let at = self
            .areas
            .binary_search_by(|a| a.code.as_str().cmp(code))
            .ok()?;
        self.areas.get(at)
    }

    /// Every service that reaches `at` and passes `keep`, with exact distances.
    pub fn reach(
        &self,
        at: Coordinates,
        radius_metres: f64,
        terms: Option<&TermSet>,
        keep: impl Fn(u32) -> bool + Copy,
    ) -> Vec<(u32, Reach)> {
        self.reach_nearest(at, radius_metres, terms, keep)
            .map(|(slot, reach)| (slot, self.exact(at, slot, reach)))
            .collect()
    }

    /// The reach made exact: the geodesic distance to its location.
    pub fn exact(&self, at: Coordinates, slot: u32, reach: Reach) -> Reach {
        match reach {
            Reach::AtLocation(m, i) if !m.exact => {
                let there = self
                    .entry(slot)
                    .and_then(|e| e.locations.get(usize::from(i)))
                    .map(|(_, c)| *c);
                let metres = there.map_or(m.metres, |c| at.distance_metres(c));
                Reach::AtLocation(
                    Metres {
                        metres,
                        exact: true,
                    },
                    i,
                )
            }
            _ => reach,
        }
    }

    /// Every service that reaches `at` and passes `keep`, lazily, by the least its
    /// distance can be (`Reach::low`): first those at a location within
    /// `radius_metres` (nearest location wins), then those whose service area holds
    /// the point, then remote ones with no service area whose residency rule (if any)
    /// admits it. `terms` limits it to those categories, exactly: only their trees are
    /// walked, and service areas and remote services are checked against them;
    /// `keep` (given the slot, so it reads the entry only if it must) runs before any
    /// distance is computed. Distances are rough where the rough figure settles the
    /// radius (see `Metres`); `exact` finishes one.
    pub fn reach_nearest<'a>(
        &'a self,
        at: Coordinates,
        radius_metres: f64,
        terms: Option<&'a TermSet>,
        keep: impl Fn(u32) -> bool + Copy + 'a,
    ) -> impl Iterator<Item = (u32, Reach)> + 'a {
        let trees: Vec<&RTree<Point, Wide>> = match terms {
            Some(set) => set
                .keys()
                .filter_map(|key| self.points.get(Self::tree_of(key)))
                .collect(),
            None => self.points.iter().collect(),
        };
        let mut walk = nearest::walk(trees, at, radius_metres, keep);
        let mut located = HashSet::new();
        let mut rest: Option<std::vec::IntoIter<(u32, Reach)>> = None;
        std::iter::from_fn(move || {
            if rest.is_none() {
                for sighting in walk.by_ref() {
                    let slot = sighting.slot;
                    if let Some(reach) = self.settle(at, radius_metres, sighting) {
                        located.insert(slot);
                        return Some((slot, reach));
                    }
                }
                rest = Some(self.reach_elsewhere(at, terms, keep, &located).into_iter());
            }
            rest.as_mut()?.next()
        })
    }

    /// A sighted service's reach at its nearest location, if within the radius. The
    /// sphere and the ellipsoid can disagree on which of two close locations is
    /// nearer: then each that could be is measured exactly.
    fn settle(&self, at: Coordinates, radius_metres: f64, sighting: Sighting) -> Option<Reach> {
        let locations = &self.entry(sighting.slot)?.locations;
        let rough = Metres {
            metres: sighting.metres,
            exact: false,
        };
        let (metres, i) = if locations.len() > 1 {
            locations
                .iter()
                .enumerate()
                .filter(|(_, (_, c))| at.rough_metres(*c) * (1.0 - ROUGH_ERROR) <= rough.high())
                .map(|(i, (_, c))| {
                    let exact = Metres {
                        metres: at.distance_metres(*c),
                        exact: true,
                    };
                    (exact, i as u16)
                })
                .min_by(|a, b| a.0.metres.total_cmp(&b.0.metres))?
        } else if rough.high() <= radius_metres {
            (rough, sighting.location)
        } else {
            let (_, c) = locations.get(usize::from(sighting.location))?;
            let exact = Metres {
                metres: at.distance_metres(*c),
                exact: true,
            };
            (exact, sighting.location)
        };
        (metres.high() <= radius_metres).then_some(Reach::AtLocation(metres, i))
    }

    /// Services reaching `at` other than at a location (`located` holds those that
    /// do): by a service area holding the point, or remotely.
    fn reach_elsewhere(
        &self,
        at: Coordinates,
        terms: Option<&TermSet>,
        keep: impl Fn(u32) -> bool,
        located: &HashSet<u32>,
    ) -> Vec<(u32, Reach)> {
        let mut found = Vec::new();
        // A service reached at a location is not reached again.
        let at_location = |slot: u32| located.contains(&slot);
        let p = [at.longitude, at.latitude];
        // The mask rules most other categories out; past 64 terms it can let some in.
        let mask = terms.map(TermSet::mask);
        let in_category = |slot: u32| {
            terms.is_none_or(|set| {
                set.mask_is_exact() || self.entry(slot).is_some_and(|e| set.matches(e))
            })
        };
        let mut inside: HashMap<u32, bool> = HashMap::new();
        let mut by_area: Vec<u32> = self
            .area_services
            .locate_all_at_point(&p)
            .filter(|boxed| mask.is_none_or(|wanted| wanted & boxed.data.1 != 0))
            .filter(|boxed| {
                let shape = boxed.data.2;
                *inside.entry(shape).or_insert_with(|| {
                    self.shapes
                        .get(shape)
                        .is_some_and(|s| spatial::contains(s, at))
                })
            })
            .map(|boxed| boxed.data.0)
            .collect();
        by_area.sort_unstable();
        by_area.dedup();
        by_area.retain(|&slot| !at_location(slot) && in_category(slot) && keep(slot));
        let remote: Vec<u32> = self
            .remote
            .iter()
            .copied()
            // National remote services have no service area, so none is in `by_area`.
            .filter(|&slot| !at_location(slot))
            .filter(|&slot| {
                self.entry(slot).is_some_and(|entry| {
                    terms.is_none_or(|set| set.matches(entry))
                        && entry
                            .residency_area
                            .as_deref()
                            .is_none_or(|code| self.resident(code, at).unwrap_or(true))
                }) && keep(slot)
            })
            .collect();
        found.extend(by_area.into_iter().map(|slot| (slot, Reach::ServiceArea)));
        found.extend(remote.into_iter().map(|slot| (slot, Reach::Remote)));
        found
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::domain::eligibility::Listing;
    use chrono::{DateTime, Utc};

    /// A service at `at` in these categories, with a silent listing.
    pub(crate) fn entry(id: &str, terms: &[&str], at: Coordinates) -> Entry {
        Entry {
            id: id.into(),
            name: id.into(),
            listing: Packed::of(&Listing::default()),
            locations: Box::new([(format!("{id}-loc").into(), at)]),
            terms: terms.iter().map(|&t| t.into()).collect(),
            term_keys: Box::default(),
            text: Box::default(),
            capacity: None,
            last_verified_at: None,
            updated_at: DateTime::<Utc>::MIN_UTC,
            service_areas: Box::default(),
            remote: false,
            residency_area: None,
        }
    }

    fn term(id: &str, parent: Option<&str>) -> Term {
        Term {
            id: id.into(),
            code: id.into(),
            parent_id: parent.map(Into::into),
            vocabulary: "test".into(),
            name: id.into(),
        }
    }

    /// Ids in reach of `at` under `codes` (all services for none), each once.
    fn found(index: &SearchIndex, at: Coordinates, codes: &[&str]) -> Vec<String> {
        let codes: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
        let set = (!codes.is_empty()).then(|| {
            index
                .expand_terms(&codes)
                .unwrap_or_else(|unknown| panic!("unknown {unknown:?}"))
        });
        let mut ids: Vec<String> = index
            .reach(at, 1000.0, set.as_ref(), |_| true)
            .into_iter()
            .filter_map(|(slot, _)| Some(index.entry(slot)?.id.to_string()))
            .collect();
        ids.sort();
        ids
    }

    /// Held in locality order, a category's services in one neighbourhood sit
    /// together, apart from other categories and other towns.
    #[test]
    fn locality_groups_a_category_then_a_neighbourhood() {
        let at = |lat, lon| Coordinates::new(lat, lon).unwrap_or_else(|_| unreachable!());
        let mut entries = [
            entry("sale-walk", &["walk"], at(53.425, -2.32)),
            entry("london-walk", &["walk"], at(51.5, -0.12)),
            entry("sale-debt", &["debt"], at(53.425, -2.32)),
            entry("leeds-walk", &["walk"], at(53.8, -1.55)),
            entry("sale-walk-2", &["walk"], at(53.426, -2.321)),
            entry("nowhere", &[], at(53.425, -2.32)),
        ];
        entries.sort_by_cached_key(Entry::locality);
        let ids: Vec<&str> = entries.iter().map(|e| &*e.id).collect();
        let sale = ids.iter().position(|id| *id == "sale-walk");
        let sale_2 = ids.iter().position(|id| *id == "sale-walk-2");
        assert_eq!(
            sale.zip(sale_2).map(|(a, b)| a.abs_diff(b)),
            Some(1),
            "{ids:?}"
        );
        assert_eq!(ids[0], "nowhere", "no category first");
        assert_eq!(ids[1], "sale-debt", "{ids:?}");
    }

    /// Past 64 terms two categories can share a mask bit: a service area of the
    /// other category is still left out, as are its locations.
    #[test]
    fn categories_stay_exact_past_64_terms() {
        let at = Coordinates::new(53.45, -2.3).unwrap_or_else(|_| unreachable!());
        let square = geo::MultiPolygon::new(vec![geo::Polygon::new(
            geo::LineString::from(vec![(-2.4, 53.4), (-2.2, 53.4), (-2.2, 53.5), (-2.4, 53.5)]),
            vec![],
        )]);
        let names: Vec<String> = (0..70).map(|i| format!("t{i}")).collect();
        let mut entries: Vec<Entry> = names
            .iter()
            .map(|name| entry(&format!("at-{name}"), &[name.as_str()], at))
            .collect();
        let mut area = entry("area-t65", &["t65"], at);
        area.locations = Box::default();
        area.service_areas = Box::new([square]);
        entries.push(area);
        let mut index = SearchIndex::default();
        index.rebuild(vec![entries]);
        index.set_terms(names.iter().map(|n| term(n, None)).collect());
        // t1 and t65 share bit 1 of the mask.
        assert_eq!(found(&index, at, &["t1"]), ["at-t1"]);
        assert_eq!(found(&index, at, &["t65"]), ["area-t65", "at-t65"]);
    }

    /// Locations live in one tree per category: a search walks only its categories'
    /// trees (a parent term's children too), a service in two categories is found
    /// once, and a change of category or a removal leaves nothing behind.
    #[test]
    fn category_trees_follow_every_change() {
        let at = Coordinates::new(53.45, -2.3).unwrap_or_else(|_| unreachable!());
        let mut index = SearchIndex::default();
        index.rebuild(vec![vec![
            entry("a", &["walk"], at),
            entry("b", &["debt"], at),
            entry("c", &["walk", "debt"], at),
            entry("d", &[], at),
        ]]);
        index.set_terms(vec![
            term("social", None),
            term("walk", Some("social")),
            term("debt", None),
            term("art", Some("social")),
        ]);
        assert_eq!(found(&index, at, &["walk"]), ["a", "c"]);
        assert_eq!(found(&index, at, &["debt"]), ["b", "c"]);
        assert_eq!(found(&index, at, &["social"]), ["a", "c"]);
        assert_eq!(found(&index, at, &["walk", "debt"]), ["a", "b", "c"]);
        assert_eq!(found(&index, at, &[]), ["a", "b", "c", "d"]);

        // A category seen first on a write gets its own tree.
        index.upsert(entry("a", &["art"], at));
        index.upsert(entry("e", &["art", "walk"], at));
        assert_eq!(found(&index, at, &["walk"]), ["c", "e"]);
        assert_eq!(found(&index, at, &["art"]), ["a", "e"]);
        assert_eq!(found(&index, at, &["social"]), ["a", "c", "e"]);
        index.remove("c");
        index.upsert(entry("d", &["debt"], at));
        assert_eq!(found(&index, at, &["debt"]), ["b", "d"]);
        assert_eq!(found(&index, at, &[]), ["a", "b", "d", "e"]);
        assert_eq!(index.len(), 4);
    }

    /// Rules are compiled once per distinct listing: services sharing a listing share
    /// its rules, and a residency rule or another listing still gets its own.
    #[test]
    fn a_shared_listing_gives_the_same_rules_and_a_different_one_its_own() {
        let at = Coordinates::new(53.45, -2.3).unwrap_or_else(|_| unreachable!());
        let aged = |id: &str, minimum: f64| {
            let mut e = entry(id, &["walk"], at);
            e.listing = Packed::of(&Listing {
                minimum_age: Some(minimum),
                ..Listing::default()
            });
            e
        };
        let mut resident = aged("resident", 18.0);
        resident.residency_area = Some("E01000001".into());
        let mut index = SearchIndex::default();
        index.rebuild(vec![vec![
            aged("a", 18.0),
            aged("b", 18.0),
            resident,
            aged("older", 65.0),
        ]]);
        let ages = |id: &str| {
            let slot = index.entries().find(|(_, e)| &*e.id == id).map(|(s, _)| s);
            slot.and_then(|slot| index.ages(slot))
        };
        assert_eq!(ages("a"), Some((Some(18.0), None)));
        assert_eq!(ages("b"), Some((Some(18.0), None)));
        assert_eq!(ages("older"), Some((Some(65.0), None)));
        // A residency rule is assessed in full: no compact ages.
        assert_eq!(ages("resident"), None);
    }
}
