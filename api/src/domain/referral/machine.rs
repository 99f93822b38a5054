//! The referral status flow (FHIR SDOH Clinical Care Task): REQUESTED → OPENED (the
//! group first read the person) → ACCEPTED | DECLINED; ACCEPTED → COMPLETED |
//! NOT_ATTENDED; any open status → WITHDRAWN; any status → ENTERED_IN_ERROR. The
//! referring team makes the last two moves, the group every other. Pure: who may
//! make a move is decided here, whether the caller is on that side by the caller.

use super::super::codes::{DeclineReason, ReferralStatus};
use super::super::validate::Fields;
use crate::error::{AppError, AppResult};

use ReferralStatus as S;

/// The two sides of a referral.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The link-worker team that made it.
    Referrer,
    /// The group that runs the service (its provider keys, or the owning authority's
    /// editors and admins).
    Provider,
}

/// A referral is open until it is declined, completed, not attended, withdrawn or
/// entered in error.
pub fn is_open(status: ReferralStatus) -> bool {
    matches!(status, S::Requested | S::Opened | S::Accepted)
}

/// The side whose move `from → to` is, or None when the flow has no such move.
pub fn mover(from: ReferralStatus, to: ReferralStatus) -> Option<Side> {
    match (from, to) {
        (S::Requested, S::Opened)
        | (S::Opened, S::Accepted | S::Declined)
        | (S::Accepted, S::Completed | S::NotAttended) => Some(Side::Provider),
        (from, S::Withdrawn) if is_open(from) => Some(Side::Referrer),
        (from, S::EnteredInError) if from != S::EnteredInError => Some(Side::Referrer),
        _ => None,
    }
}

/// Check a move asked by `side`: BAD_USER_INPUT on the status when the flow has no
/// such move, FORBIDDEN when it is the other side's, BAD_USER_INPUT on the reason
/// when a decline gives none (or another move gives one).
pub fn check(
    from: ReferralStatus,
    to: ReferralStatus,
    side: Side,
    reason: Option<DeclineReason>,
    fields: Fields,
) -> AppResult<()> {
    let Some(owner) = mover(from, to) else {
        return Err(AppError::bad_input(
            fields.name("status"),
            format!("a referral cannot move from {from:?} to {to:?}"),
        ));
    };
    if owner != side {
        let whose = match owner {
            Side::Referrer => "the referring team",
            Side::Provider => "the group that runs the service",
        };
        return Err(AppError::Forbidden(format!(
            "only {whose} moves a referral to {to:?}"
        )));
    }
    match (to, reason) {
        (S::Declined, None) => Err(AppError::bad_input(
            fields.name("reason"),
            "a decline needs a reason",
        )),
        (S::Declined, Some(_)) | (_, None) => Ok(()),
        (_, Some(_)) => Err(AppError::bad_input(
            fields.name("reason"),
            "only a decline takes a reason",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Fields = Fields::GRAPHQL_INPUT;

    fn refusal(result: AppResult<()>) -> (String, String) {
        match result {
            Err(AppError::BadUserInput { field, .. }) => ("BAD_USER_INPUT".into(), field),
            Err(AppError::Forbidden(_)) => ("FORBIDDEN".into(), String::new()),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn every_move_of_the_flow_belongs_to_one_side_and_no_other_move_exists() {
        let provider = [
            (S::Requested, S::Opened),
            (S::Opened, S::Accepted),
            (S::Opened, S::Declined),
            (S::Accepted, S::Completed),
            (S::Accepted, S::NotAttended),
        ];
        for &from in S::ALL {
            for &to in S::ALL {
                let expected = if provider.contains(&(from, to)) {
                    Some(Side::Provider)
                } else if (to == S::Withdrawn && is_open(from))
                    || (to == S::EnteredInError && from != S::EnteredInError)
                {
                    Some(Side::Referrer)
                } else {
                    None
                };
                assert_eq!(mover(from, to), expected, "{from:?} → {to:?}");
            }
        }
    }

    #[test]
    fn a_move_of_the_other_side_is_forbidden_and_an_impossible_one_is_bad_input() {
        assert_eq!(
            refusal(check(S::Opened, S::Accepted, Side::Referrer, None, F)).0,
            "FORBIDDEN"
        );
        assert_eq!(
            refusal(check(S::Requested, S::Withdrawn, Side::Provider, None, F)).0,
            "FORBIDDEN"
        );
        assert_eq!(
            refusal(check(S::Requested, S::Completed, Side::Provider, None, F)),
            ("BAD_USER_INPUT".into(), "input.status".into())
        );
        assert_eq!(
            refusal(check(S::Declined, S::Withdrawn, Side::Referrer, None, F)),
            ("BAD_USER_INPUT".into(), "input.status".into()),
            "a closed referral cannot be withdrawn"
        );
    }

    #[test]
    fn a_decline_needs_a_reason_and_nothing_else_takes_one() {
        assert_eq!(
            refusal(check(S::Opened, S::Declined, Side::Provider, None, F)),
            ("BAD_USER_INPUT".into(), "input.reason".into())
        );
        let reason = Some(DeclineReason::NoCapacity);
        assert!(check(S::Opened, S::Declined, Side::Provider, reason, F).is_ok());
        assert_eq!(
            refusal(check(S::Opened, S::Accepted, Side::Provider, reason, F)),
            ("BAD_USER_INPUT".into(), "input.reason".into())
        );
        assert!(check(S::Accepted, S::Completed, Side::Provider, None, F).is_ok());
        assert!(check(S::Accepted, S::EnteredInError, Side::Referrer, None, F).is_ok());
    }

    #[test]
    fn statuses_are_stored_as_fhir_task_codes() {
        let codes: Vec<&str> = S::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(
            codes,
            [
                "requested",
                "received",
                "accepted",
                "rejected",
                "completed",
                "failed",
                "cancelled",
                "entered-in-error"
            ]
        );
        assert!(!is_open(S::Declined) && is_open(S::Accepted));
    }
}
