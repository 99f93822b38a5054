//! How a service reaches a place (at a location, by its service area, remotely) and
//! how far: a rough distance first, exact only where an answer depends on it.

use crate::spatial::ROUGH_ERROR;

/// A service in reach of a point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Reach {
    /// At a location within the radius: (distance, index into `Entry::locations`).
    AtLocation(Metres, u16),
    ServiceArea,
    Remote,
}

/// A distance to a location: the exact geodesic metres, or a rough great-circle
/// estimate within `ROUGH_ERROR` of them, made exact only where an answer depends on it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metres {
    pub metres: f64,
    pub exact: bool,
}

impl Metres {
    /// The least the exact distance can be.
    pub fn low(self) -> f64 {
        if self.exact {
            self.metres
        } else {
            self.metres * (1.0 - ROUGH_ERROR)
        }
    }

    /// The most the exact distance can be.
    pub fn high(self) -> f64 {
        if self.exact {
            self.metres
        } else {
            self.metres * (1.0 + ROUGH_ERROR)
        }
    }
}

impl Reach {
    /// Exact metres, for a reach known to be exact (see `SearchIndex::exact`).
    pub fn metres(self) -> Option<f64> {
        match self {
            Reach::AtLocation(m, _) => Some(m.metres),
            _ => None,
        }
    }

    pub fn low(self) -> f64 {
        match self {
            Reach::AtLocation(m, _) => m.low(),
            _ => f64::MAX,
        }
    }

    pub fn high(self) -> f64 {
        match self {
            Reach::AtLocation(m, _) => m.high(),
            _ => f64::MAX,
        }
    }
}
