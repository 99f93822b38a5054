//! Times and dates as integers where the index is saved (`crate::snapshot`): chrono's
//! own serde form is text, and parsing it was a fifth of a restore. Exact to the
//! nanosecond. The index's types and the eligibility rules they hold use these.

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::Error;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

fn to_parts(t: &DateTime<Utc>) -> (i64, u32) {
    (t.timestamp(), t.timestamp_subsec_nanos())
}

fn from_parts<E: Error>((secs, nanos): (i64, u32)) -> Result<DateTime<Utc>, E> {
    DateTime::from_timestamp(secs, nanos).ok_or_else(|| E::custom("time out of range"))
}

pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    to_parts(t).serialize(s)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    from_parts(Deserialize::deserialize(d)?)
}

pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        t.as_ref().map(to_parts).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::deserialize(d)?.map(from_parts).transpose()
    }
}

/// `Entry::capacity`: (status, expiry, places available).
pub mod capacity {
    use super::*;
    use crate::domain::codes::CapacityStatus;

    type Capacity = Option<(CapacityStatus, DateTime<Utc>, Option<i32>)>;

    pub fn serialize<S: Serializer>(c: &Capacity, s: S) -> Result<S::Ok, S::Error> {
        c.as_ref()
            .map(|(status, at, places)| (status, to_parts(at), places))
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Capacity, D::Error> {
        let parts: Option<(CapacityStatus, (i64, u32), Option<i32>)> = Deserialize::deserialize(d)?;
        parts
            .map(|(status, at, places)| Ok((status, from_parts(at)?, places)))
            .transpose()
    }
}

/// A date as days from the common era's first day.
pub mod date_option {
    use super::*;
    use chrono::Datelike;

    pub fn serialize<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        d.map(|d| d.num_days_from_ce()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        Option::<i32>::deserialize(d)?
            .map(|days| {
                NaiveDate::from_num_days_from_ce_opt(days)
                    .ok_or_else(|| D::Error::custom("date out of range"))
            })
            .transpose()
    }
}
