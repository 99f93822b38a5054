//! Batch loading of everything reachable from a list, so a page of 100 services
//! costs a handful of queries, not hundreds. One loader, one key type per relation.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{location, service_at_location, service_taxonomy, taxonomy_term};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};

#[derive(Clone)]
pub struct DbLoader {
    pub db: DatabaseConnection,
}

/// Rows keyed by their own id.
macro_rules! by_id_loader {
    ($key:ident, $entity:ident) => {
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $key(pub String);

        impl Loader<$key> for DbLoader {
            type Value = entity::$entity::Model;
            type Error = Arc<DbErr>;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let ids = keys.iter().map(|k| k.0.clone());
                let rows = entity::$entity::Entity::find()
                    .filter(entity::$entity::Column::Id.is_in(ids))
                    .all(&self.db)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|row| ($key(row.id.clone()), row))
                    .collect())
            }
        }
    };
}

/// Child rows keyed by their parent's id, in id order.
macro_rules! children_loader {
    ($key:ident, $entity:ident, $column:ident, $field:ident) => {
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $key(pub String);

        impl Loader<$key> for DbLoader {
            type Value = Vec<entity::$entity::Model>;
            type Error = Arc<DbErr>;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let ids = keys.iter().map(|k| k.0.clone());
                let rows = entity::$entity::Entity::find()
                    .filter(entity::$entity::Column::$column.is_in(ids))
                    .order_by_asc(entity::$entity::Column::Id)
                    .all(&self.db)
                    .await?;
                let mut map: HashMap<$key, Self::Value> = HashMap::new();
                for row in rows {
                    let parent: Option<String> = row.$field.clone().into();
                    if let Some(parent) = parent {
                        map.entry($key(parent)).or_default().push(row);
                    }
                }
                Ok(map)
            }
        }
    };
}

by_id_loader!(ServiceById, service);
by_id_loader!(OrganizationById, organization);
by_id_loader!(TermById, taxonomy_term);
by_id_loader!(LocationById, location);
by_id_loader!(FeedById, feed);
children_loader!(CapacitiesOfService, capacity, ServiceId, service_id);
children_loader!(CostOptionsOfService, cost_option, ServiceId, service_id);
children_loader!(SchedulesOfService, schedule, ServiceId, service_id);
children_loader!(LanguagesOfService, language, ServiceId, service_id);
children_loader!(ServiceAreasOfService, service_area, ServiceId, service_id);
children_loader!(EligibilityOfService, eligibility, ServiceId, service_id);
children_loader!(
    AccessibilityOfLocation,
    accessibility,
    LocationId,
    location_id
);
children_loader!(AddressesOfLocation, address, LocationId, location_id);
children_loader!(ChildrenOfTerm, taxonomy_term, ParentId, parent_id);

/// Locations where a service is delivered (through service_at_location).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LocationsOfService(pub String);

impl Loader<LocationsOfService> for DbLoader {
    type Value = Vec<location::Model>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[LocationsOfService],
    ) -> Result<HashMap<LocationsOfService, Self::Value>, Self::Error> {
        let links = service_at_location::Entity::find()
            .filter(service_at_location::Column::ServiceId.is_in(keys.iter().map(|k| k.0.clone())))
            .order_by_asc(service_at_location::Column::Id)
            .all(&self.db)
            .await?;
        let locations: HashMap<String, location::Model> = location::Entity::find()
            .filter(location::Column::Id.is_in(links.iter().map(|l| l.location_id.clone())))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|l| (l.id.clone(), l))
            .collect();
        let mut map: HashMap<LocationsOfService, Self::Value> = HashMap::new();
        for link in links {
            if let Some(location) = locations.get(&link.location_id) {
                map.entry(LocationsOfService(link.service_id))
                    .or_default()
                    .push(location.clone());
            }
        }
        Ok(map)
    }
}

/// The categories of a service (through service_taxonomy).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TermsOfService(pub String);

impl Loader<TermsOfService> for DbLoader {
    type Value = Vec<taxonomy_term::Model>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[TermsOfService],
    ) -> Result<HashMap<TermsOfService, Self::Value>, Self::Error> {
        let links = service_taxonomy::Entity::find()
            .filter(service_taxonomy::Column::ServiceId.is_in(keys.iter().map(|k| k.0.clone())))
            .all(&self.db)
            .await?;
        let terms: HashMap<String, taxonomy_term::Model> = taxonomy_term::Entity::find()
            .filter(
                taxonomy_term::Column::Id.is_in(links.iter().map(|l| l.taxonomy_term_id.clone())),
            )
            .order_by_asc(taxonomy_term::Column::Code)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|t| (t.id.clone(), t))
            .collect();
        let mut map: HashMap<TermsOfService, Self::Value> = HashMap::new();
        for link in links {
            if let Some(term) = terms.get(&link.taxonomy_term_id) {
                map.entry(TermsOfService(link.service_id))
                    .or_default()
                    .push(term.clone());
            }
        }
        for terms in map.values_mut() {
            terms.sort_by(|a, b| a.code.cmp(&b.code));
        }
        Ok(map)
    }
}
