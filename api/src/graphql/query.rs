//! The root query: only merges the per-domain parts.

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct Query(
    super::services::ServicesQuery,
    super::organizations::OrganizationsQuery,
    super::taxonomy::TaxonomyQuery,
    super::places::PlacesQuery,
    super::search::SearchQuery,
    super::account::AccountQuery,
    super::account::KeysQuery,
    super::review::ReviewQuery,
    super::gaps::GapsQuery,
    super::referrals::ReferralsQuery,
    super::duplicates::DuplicatesQuery,
);
