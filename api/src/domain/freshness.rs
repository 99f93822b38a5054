//! Freshness: how long ago a human confirmed a listing. Only verification moves it,
//! not any edit, so an often-edited but never-checked listing still shows as stale.

use chrono::{DateTime, Duration, Utc};

use super::Policy;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    Due,
    Stale,
}

pub fn freshness(
    last_verified_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    policy: Policy,
) -> Freshness {
    let Some(verified) = last_verified_at else {
        return Freshness::Stale;
    };
    let age = now - verified;
    if age >= Duration::days(i64::from(policy.stale_after_days)) {
        Freshness::Stale
    } else if age >= Duration::days(i64::from(policy.due_after_days)) {
        Freshness::Due
    } else {
        Freshness::Fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_follows_the_configured_ages() {
        let now = Utc::now();
        let policy = Policy::default();
        assert_eq!(
            freshness(Some(now - Duration::days(10)), now, policy),
            Freshness::Fresh
        );
        assert_eq!(
            freshness(Some(now - Duration::days(90)), now, policy),
            Freshness::Due
        );
        assert_eq!(
            freshness(Some(now - Duration::days(200)), now, policy),
            Freshness::Stale
        );
        assert_eq!(freshness(None, now, policy), Freshness::Stale);
    }
}
