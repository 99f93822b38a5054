//! What keeps a running server current beside the domain rules: change
//! notifications (this process's index, its subscribers, and on PostgreSQL every
//! other replica) and the demand recorder's background writer.

pub mod changes;
pub mod demand;
