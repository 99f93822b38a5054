//! Referrals: a link worker's team refers a person to a service, the group that runs
//! it answers, and the outcome comes back. `machine` is the status flow both sides
//! follow, `person` the person and what is kept sealed about them (`seal`), `store`
//! the referrals in the database and `flow` the counts analysts read.

pub mod flow;
pub mod machine;
pub mod person;
pub mod seal;
pub mod store;
