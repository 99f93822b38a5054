//! How the rows read for a service become its index entry: its places, the listing
//! fit is judged on, its capacity and its service areas.

use chrono::{DateTime, Utc};
use geo::MultiPolygon;

use super::{LanguageRow, Parts, ServiceRow};
use crate::domain::Policy;
use crate::domain::capacity as capacity_rules;
use crate::domain::codes::{
    AccessibilityFeature, CapacityStatus, DeliveryMode, EligibilityCriterion, EligibilityRule,
    ReferralRoute, codes_in as codes_of, days_in,
};
use crate::domain::eligibility::{Listing, Session};
use crate::domain::search::entry::{Entry, Packed};
use crate::domain::validate;
use crate::spatial::{self, Coordinates};

impl Parts {
    /// The index entry of `service`.
    pub(in crate::domain::search) fn entry(&self, service: ServiceRow, policy: Policy) -> Entry {
        let id = service.id;
        let (locations, access, spoken) = self.places(&id);
        let listing = Listing {
            minimum_age: service.minimum_age,
            maximum_age: service.maximum_age,
            languages: spoken,
            access,
            delivery_modes: codes_of(&service.delivery_modes, DeliveryMode::from_code),
            referral_routes: codes_of(&service.referral_routes, ReferralRoute::from_code),
            prices: self.prices.get(&id).cloned().unwrap_or_default(),
            sessions: self.sessions(&id),
            ..self.rules_of(&id)
        };
        let remote = listing
            .delivery_modes
            .iter()
            .any(|m| matches!(m, DeliveryMode::Online | DeliveryMode::Telephone));
        let description = service.description.as_deref().unwrap_or_default();
        Entry {
            text: format!("{} {description}", service.name)
                .to_lowercase()
                .into(),
            name: service.name.into(),
            terms: (self.terms.get(&id).into_iter().flatten())
                .map(|t| t.as_str().into())
                .collect(),
            term_keys: Box::default(),
            locations: (locations.into_iter())
                .map(|(id, at)| (id.into(), at))
                .collect(),
            listing: Packed::of(&listing),
            capacity: self.capacity(&id, policy),
            last_verified_at: service.last_verified_at,
            updated_at: service.updated_at,
            service_areas: self.service_areas(&id).into(),
            remote,
            residency_area: service.residency_area_code.map(Into::into),
            id: id.into(),
        }
    }

    /// The service's located points, the accessibility features at them and the
    /// languages spoken there or by the service (sorted, once each).
    fn places(
        &self,
        id: &str,
    ) -> (
        Vec<(String, Coordinates)>,
        Vec<AccessibilityFeature>,
        Vec<String>,
    ) {
        let mut points = Vec::new();
        let mut features = Vec::new();
        let mut spoken: Vec<String> = Vec::new();
        let codes = |rows: Option<&Vec<LanguageRow>>| {
            rows.into_iter()
                .flatten()
                .filter_map(|l| l.code.clone())
                .collect::<Vec<_>>()
        };
        for location_id in self.links.get(id).into_iter().flatten() {
            if let Some(point) = self.points.get(location_id) {
                points.push((location_id.clone(), *point));
            }
            for feature in self.access.get(location_id).into_iter().flatten() {
                if let Some(f) = feature.as_deref().and_then(AccessibilityFeature::from_code)
                    && !features.contains(&f)
                {
                    features.push(f);
                }
            }
            spoken.extend(codes(self.languages_by_location.get(location_id)));
        }
        spoken.extend(codes(self.languages_by_service.get(id)));
        spoken.sort();
        spoken.dedup();
        (points, features, spoken)
    }

    /// A listing holding only the service's gender and circumstance rules.
    fn rules_of(&self, id: &str) -> Listing {
        let mut listing = Listing::default();
        for row in self.rules.get(id).into_iter().flatten() {
            let value = row.value.clone();
            match (
                EligibilityCriterion::from_code(&row.criterion),
                EligibilityRule::from_code(&row.rule),
            ) {
                (Some(EligibilityCriterion::Gender), Some(EligibilityRule::RestrictedTo)) => {
                    listing.genders_restricted.push(value)
                }
                (Some(EligibilityCriterion::Gender), Some(EligibilityRule::SuitableFor)) => {
                    listing.genders_suitable.push(value)
                }
                (Some(EligibilityCriterion::Circumstance), Some(EligibilityRule::RestrictedTo)) => {
                    listing.circumstances_restricted.push(value)
                }
                (Some(EligibilityCriterion::Circumstance), Some(EligibilityRule::SuitableFor)) => {
                    listing.circumstances_suitable.push(value)
                }
                _ => {}
            }
        }
        listing
    }

    fn sessions(&self, id: &str) -> Vec<Session> {
        let minutes = |text: &Option<String>| {
            validate::time_of_day("", text.as_deref()?)
                .ok()
                .map(validate::minutes_of)
        };
        self.schedules
            .get(id)
            .into_iter()
            .flatten()
            .map(|s| Session {
                days: days_in(s.byday.as_deref()),
                opens: minutes(&s.opens_at),
                closes: minutes(&s.closes_at),
                valid_from: s.valid_from,
                valid_to: s.valid_to,
            })
            .collect()
    }

    /// The latest capacity: its status, when it stops being trusted, places free.
    fn capacity(
        &self,
        id: &str,
        policy: Policy,
    ) -> Option<(CapacityStatus, DateTime<Utc>, Option<i32>)> {
        let latest = self
            .capacities
            .get(id)?
            .iter()
            .max_by_key(|c| c.updated_at)?;
        let status = CapacityStatus::from_code(&latest.status).unwrap_or(CapacityStatus::Unknown);
        let expires = capacity_rules::expires_at(
            latest.updated_at,
            latest.expires_at,
            policy.capacity_expiry_days,
        );
        Some((status, expires, latest.available))
    }

    fn service_areas(&self, id: &str) -> Vec<MultiPolygon<f64>> {
        self.areas
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|extent| spatial::parse_polygons(extent).ok())
            .collect()
    }
}
