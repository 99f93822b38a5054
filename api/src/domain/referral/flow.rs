//! Referral flow for analysts: per area of the referred people's postcodes, how many
//! referrals were made, answered and completed, and how long groups took to answer.
//! Counts only; an area with fewer than `SMALL_NUMBER` referrals shows none, because
//! small numbers identify people.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{area, referral, referral_area, service_taxonomy};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::codes::{DeclineReason, ReferralStatus};
use crate::domain::validate::Fields;
use crate::error::{AppError, AppResult};

/// Fewer referrals than this in an area and its counts are withheld.
pub const SMALL_NUMBER: i64 = 5;

pub struct FlowQuestion {
    pub area_type: String,
    pub taxonomy_terms: Vec<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// What happened to the referrals of one area.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlowCounts {
    pub referrals: i64,
    pub accepted: i64,
    pub declined: i64,
    pub declined_no_capacity: i64,
    pub completed: i64,
    pub median_hours_to_answer: Option<f64>,
}

/// An area as flow names it: code, name, type, population, parent, centroid.
pub type AreaRow = (
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    f64,
    f64,
);

pub struct AreaFlow {
    pub area: AreaRow,
    /// None when the area had fewer than `SMALL_NUMBER` referrals.
    pub counts: Option<FlowCounts>,
}

/// A referral as flow counts it.
type Row = (
    String,
    String,
    String,
    Option<String>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    let m = if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    };
    Some((m * 10.0).round() / 10.0)
}

fn counts(rows: &[&Row]) -> FlowCounts {
    let mut c = FlowCounts {
        referrals: rows.len() as i64,
        ..FlowCounts::default()
    };
    let mut hours = Vec::new();
    for (_, _, status, reason, created, answered) in rows {
        let status = ReferralStatus::from_code(status);
        if let Some(answered) = answered {
            hours.push((*answered - *created).num_seconds() as f64 / 3600.0);
            if status == Some(ReferralStatus::Declined) {
                c.declined += 1;
            } else {
                // Answered and not declined: accepted (whatever came after).
                c.accepted += 1;
            }
        }
        if reason.as_deref() == Some(DeclineReason::NoCapacity.code()) {
            c.declined_no_capacity += 1;
        }
        if status == Some(ReferralStatus::Completed) {
            c.completed += 1;
        }
    }
    c.median_hours_to_answer = median(hours);
    c
}

pub async fn referral_flow(
    db: &impl ConnectionTrait,
    question: FlowQuestion,
    f: Fields,
) -> AppResult<Vec<AreaFlow>> {
    let area_type = question.area_type.trim().to_ascii_lowercase();
    if area_type.is_empty() {
        return Err(AppError::bad_input(
            f.name("areaType"),
            "required (lsoa, ward, …)",
        ));
    }
    if let (Some(from), Some(to)) = (question.from, question.to)
        && to < from
    {
        return Err(AppError::bad_input(f.name("to"), "must not be before from"));
    }
    let terms = crate::domain::taxonomy::expand_codes(
        db,
        &question.taxonomy_terms,
        &f.name("taxonomyTerms"),
    )
    .await?;
    let areas: Vec<AreaRow> = area::Entity::find()
        .select_only()
        .column(area::Column::Code)
        .column(area::Column::Name)
        .column(area::Column::AreaType)
        .column(area::Column::Population)
        .column(area::Column::ParentCode)
        .column(area::Column::CentroidLatitude)
        .column(area::Column::CentroidLongitude)
        .filter(area::Column::AreaType.eq(&area_type))
        .order_by_asc(area::Column::Code)
        .into_tuple()
        .all(db)
        .await?;
    let mut query = referral::Entity::find()
        .select_only()
        .column(referral::Column::Id)
        .column(referral::Column::ServiceId)
        .column(referral::Column::Status)
        .column(referral::Column::DeclineReason)
        .column(referral::Column::CreatedAt)
        .column(referral::Column::AnsweredAt)
        // Entered in error never happened.
        .filter(referral::Column::Status.ne(ReferralStatus::EnteredInError.code()));
    if let Some(from) = question.from {
        query = query.filter(referral::Column::CreatedAt.gte(from));
    }
    if let Some(to) = question.to {
        query = query.filter(referral::Column::CreatedAt.lt(to));
    }
    let mut rows: Vec<Row> = query.into_tuple().all(db).await?;
    if !question.taxonomy_terms.is_empty() {
        let services: HashSet<String> = service_taxonomy::Entity::find()
            .select_only()
            .column(service_taxonomy::Column::ServiceId)
            .filter(service_taxonomy::Column::TaxonomyTermId.is_in(terms))
            .into_tuple::<String>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        rows.retain(|r| services.contains(&r.1));
    }
    let codes: HashSet<&str> = areas.iter().map(|a| a.0.as_str()).collect();
    let by_id: HashMap<&str, &Row> = rows.iter().map(|r| (r.0.as_str(), r)).collect();
    let mut per_area: HashMap<String, Vec<&Row>> = HashMap::new();
    let ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    for chunk in ids.chunks(500) {
        let links: Vec<(String, String)> = referral_area::Entity::find()
            .select_only()
            .column(referral_area::Column::ReferralId)
            .column(referral_area::Column::AreaCode)
            .filter(referral_area::Column::ReferralId.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        for (id, code) in links {
            if let (true, Some(row)) = (codes.contains(code.as_str()), by_id.get(id.as_str())) {
                per_area.entry(code).or_default().push(row);
            }
        }
    }
    Ok(areas
        .into_iter()
        .map(|area| {
            let rows = per_area.remove(&area.0).unwrap_or_default();
            let counts = (rows.len() as i64 >= SMALL_NUMBER).then(|| counts(&rows));
            AreaFlow { area, counts }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }
}
