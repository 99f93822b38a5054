//! Locations nearest first, across the trees of the categories asked for. A search
//! stops walking once its page is settled, so at a million services a town-centre
//! search reads about a page of points rather than every one in its radius.
//!
//! Points are unit vectors: the straight line (chord) between two orders them exactly
//! as the great circle on the mean sphere does, which a longitude/latitude tree cannot
//! (a degree of longitude shrinks towards the poles), and the chord gives the rough
//! great-circle metres (`Metres`) without a haversine.

use std::collections::HashSet;

use itertools::Itertools;
use rstar::RTree;
use rstar::primitives::GeomWithData;

use super::index::Wide;
use crate::spatial::{Coordinates, MEAN_RADIUS, ROUGH_ERROR};

/// A location: (slot, index into the entry's locations).
pub type Point = GeomWithData<[f64; 3], (u32, u16)>;

/// Where a point lies on the unit sphere.
pub fn unit(at: Coordinates) -> [f64; 3] {
    let (lat, lon) = (at.latitude.to_radians(), at.longitude.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// Great-circle metres on the mean sphere for a chord between unit vectors.
fn metres_of_chord(chord: f64) -> f64 {
    2.0 * MEAN_RADIUS * (chord / 2.0).min(1.0).asin()
}

/// A service's first sighting on the walk: its slot, the location sighted and the
/// great-circle metres to it (the least of the service's, on the sphere).
pub struct Sighting {
    pub slot: u32,
    pub location: u16,
    pub metres: f64,
}

/// Each service once, at its nearest location by the sphere, nearest first, while
/// the least its exact distance can be is within `radius_metres`; a service is
/// offered to `keep` once (in two categories, it is in two trees) and skipped when
/// refused.
pub fn walk<'a>(
    trees: Vec<&'a RTree<Point, Wide>>,
    at: Coordinates,
    radius_metres: f64,
    keep: impl Fn(u32) -> bool + 'a,
) -> impl Iterator<Item = Sighting> + 'a {
    let q = unit(at);
    let mut seen = HashSet::new();
    trees
        .into_iter()
        .map(|tree| tree.nearest_neighbor_iter_with_distance_2(&q))
        .kmerge_by(|a, b| a.1 < b.1)
        .map(|(point, chord_2)| Sighting {
            slot: point.data.0,
            location: point.data.1,
            metres: metres_of_chord(chord_2.sqrt()),
        })
        .take_while(move |s| s.metres * (1.0 - ROUGH_ERROR) <= radius_metres)
        .filter(move |s| seen.insert(s.slot) && keep(s.slot))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(latitude: f64, longitude: f64) -> Coordinates {
        Coordinates {
            latitude,
            longitude,
        }
    }

    #[test]
    fn the_chord_gives_the_great_circle_of_the_rough_distance() {
        let pairs = [
            (at(53.4808, -2.2426), at(53.4331, -2.3167)),
            (at(51.5074, -0.1278), at(51.5080, -0.1270)),
            (at(60.0, 179.9), at(60.0, -179.9)),
            (at(-33.86, 151.21), at(-33.80, 151.30)),
        ];
        for (a, b) in pairs {
            let [x, y, z] = unit(a);
            let [u, v, w] = unit(b);
            let chord = ((x - u).powi(2) + (y - v).powi(2) + (z - w).powi(2)).sqrt();
            let rough = a.rough_metres(b);
            assert!(
                (metres_of_chord(chord) - rough).abs() < 1e-6 * rough.max(1.0),
                "{a:?} {b:?}: {} vs {rough}",
                metres_of_chord(chord)
            );
        }
    }

    #[test]
    fn the_walk_merges_trees_nearest_first_once_per_service_within_the_radius() {
        let centre = at(53.48, -2.24);
        let near = |slot: u32, metres: f64, location: u16| {
            // Due north: a degree of latitude is ~111 km.
            let c = at(53.48 + metres / 111_000.0, -2.24);
            Point::new(unit(c), (slot, location))
        };
        let first = RTree::bulk_load_with_params(vec![
            near(1, 300.0, 0),
            near(2, 900.0, 0),
            near(3, 5_000.0, 0),
        ]);
        // Service 2 is in both categories, nearer at its second location.
        let second = RTree::bulk_load_with_params(vec![
            near(2, 900.0, 0),
            near(2, 100.0, 1),
            near(4, 600.0, 0),
            near(5, 700.0, 0),
        ]);
        let walked: Vec<(u32, u16)> =
            walk(vec![&first, &second], centre, 2_000.0, |slot| slot != 5)
                .map(|s| (s.slot, s.location))
                .collect();
        assert_eq!(walked, vec![(2, 1), (1, 0), (4, 0)]);
    }
}
