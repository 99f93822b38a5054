//! Open Referral: HSDS 3.1 and Open Referral UK, out (export, read API) and in
//! (the tabular package; JSON goes through `import::hsds`).

pub mod export;
pub mod hsds;
pub mod tabular;
