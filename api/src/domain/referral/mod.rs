//! Referrals: a link worker's team refers a person to a service, the group that runs
//! it answers, and the outcome comes back. `machine` is the status flow both sides
//! follow.

pub mod machine;
