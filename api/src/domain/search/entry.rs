//! What the index holds for one service: its points, categories, capacity and the
//! listing fit is judged on. Saved as is in the index snapshot.

use chrono::{DateTime, Utc};
use geo::MultiPolygon;

use crate::domain::codes::CapacityStatus;
use crate::domain::eligibility::Listing;
use crate::spatial::Coordinates;

/// Everything search needs about one service.
/// Saved as is by `snapshot` (bump `snapshot::FORMAT` when its shape changes).
/// Strings and lists are boxed slices: held a million times, a `String` or `Vec`'s
/// spare capacity word costs 8 MB each, and none of them grows once built.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    pub id: Box<str>,
    /// As listed: a search page's `service { id name }` is answered from here.
    pub name: Box<str>,
    /// Kept encoded: `listing.unpack()` reads it.
    pub listing: Packed,
    /// (location id, point).
    pub locations: Box<[(Box<str>, Coordinates)]>,
    /// Category term ids.
    pub terms: Box<[Box<str>]>,
    /// The same, interned by the index (filled on insert) so filtering hashes nothing.
    #[serde(skip)]
    pub term_keys: Box<[u32]>,
    /// Lower-case name and description, for `text`.
    pub text: Box<str>,
    /// Recorded status, when it expires, and the places available.
    #[serde(with = "crate::domain::wire::capacity")]
    pub capacity: Option<(CapacityStatus, DateTime<Utc>, Option<i32>)>,
    #[serde(with = "crate::domain::wire::option")]
    pub last_verified_at: Option<DateTime<Utc>>,
    /// The service row's `updated_at` when loaded, to follow changes.
    #[serde(with = "crate::domain::wire")]
    pub updated_at: DateTime<Utc>,
    pub service_areas: Box<[MultiPolygon<f64>]>,
    /// Delivered online or by telephone.
    pub remote: bool,
    pub residency_area: Option<Box<str>>,
}

/// A listing kept encoded (postcard bytes): one allocation of tens of bytes where
/// the decoded form takes a few hundred bytes over a dozen allocations. At a million
/// services that halves the index; searches read a listing in full only for the
/// page's reasons and for the rare rules the compact form cannot hold.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Packed(Box<[u8]>);

impl Packed {
    pub fn of(listing: &Listing) -> Self {
        // Encoding plain owned data into a Vec cannot fail.
        Self(postcard::to_stdvec(listing).unwrap_or_default().into())
    }

    /// The encoded bytes: equal bytes are an equal listing.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn unpack(&self) -> Listing {
        // Bytes written by `of` above, never from outside.
        postcard::from_bytes(&self.0).unwrap_or_default()
    }
}

impl Entry {
    /// Remote delivery not bounded by a service area: checked for every search (a
    /// remote service with a service area is found through that area instead).
    pub fn is_national_remote(&self) -> bool {
        self.remote && self.service_areas.is_empty()
    }

    /// Where the entry belongs in memory: by its first category, then along a
    /// Z-order curve through its first location (cells of about 600 m). Entries
    /// held in this order put a search's candidates, which share a category and a
    /// neighbourhood, in a few runs of neighbouring slots rather than all over a
    /// gigabyte (a candidate's rules read at a random slot cost a cache miss each).
    pub fn locality(&self) -> (Option<Box<str>>, u32) {
        let cell = self.locations.first().map_or(u32::MAX, |(_, at)| {
            let x = ((at.longitude + 180.0) / 360.0 * 65535.0) as u32;
            let y = ((at.latitude + 90.0) / 180.0 * 65535.0) as u32;
            (0..16).fold(0, |code, bit| {
                code | ((x >> bit) & 1) << (2 * bit) | ((y >> bit) & 1) << (2 * bit + 1)
            })
        });
        (self.terms.first().cloned(), cell)
    }

    /// Places available now: expired or missing capacity counts 0.
    pub fn available_places(&self, now: DateTime<Utc>) -> i64 {
        match self.capacity {
            Some((_, expires, available)) if now < expires => i64::from(available.unwrap_or(0)),
            _ => 0,
        }
    }

    /// Capacity status now: expired or missing capacity is UNKNOWN.
    pub fn capacity_status(&self, now: DateTime<Utc>) -> CapacityStatus {
        match self.capacity {
            Some((status, expires, _)) => {
                crate::domain::capacity::effective_status(status, expires, now)
            }
            None => CapacityStatus::Unknown,
        }
    }
}
