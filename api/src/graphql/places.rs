//! Places: locations, addresses and postcodes.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use entity::{location, postcode};
use sea_orm::EntityTrait;

use super::enums::AccessibilityFeature;
use super::loaders::{AccessibilityOfLocation, AddressesOfLocation};
use super::{db, load_list};
use crate::domain::codes;
use crate::domain::postcode::Postcode as PostcodeCode;
use crate::error::AppError;

/// A place a service is delivered from (HSDS `location`).
pub struct Location(pub location::Model);

/// A postal address.
#[derive(SimpleObject)]
pub struct Address {
    pub address_1: String,
    pub address_2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub state_province: String,
    pub postal_code: String,
    pub country: String,
    /// physical, postal or virtual.
    pub address_type: String,
}

#[Object]
impl Location {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// physical, postal or virtual.
    async fn location_type(&self) -> &str {
        &self.0.location_type
    }
    /// WGS84 degrees.
    async fn latitude(&self) -> Option<f64> {
        self.0.latitude
    }
    /// WGS84 degrees.
    async fn longitude(&self) -> Option<f64> {
        self.0.longitude
    }
    /// Normalised postcode of the physical address.
    async fn postcode(&self) -> Option<&str> {
        self.0.postcode.as_deref()
    }
    /// How to get there.
    async fn transportation(&self) -> Option<&str> {
        self.0.transportation.as_deref()
    }
    async fn addresses(&self, ctx: &Context<'_>) -> Result<Vec<Address>> {
        let rows = load_list(ctx, AddressesOfLocation(self.0.id.clone())).await?;
        Ok(rows
            .into_iter()
            .map(|a| Address {
                address_1: a.address_1,
                address_2: a.address_2,
                city: a.city,
                region: a.region,
                state_province: a.state_province,
                postal_code: a.postal_code,
                country: a.country,
                address_type: a.address_type,
            })
            .collect())
    }
    /// Recognised access features at this location.
    async fn accessibility(&self, ctx: &Context<'_>) -> Result<Vec<AccessibilityFeature>> {
        let rows = load_list(ctx, AccessibilityOfLocation(self.0.id.clone())).await?;
        let mut features: Vec<codes::AccessibilityFeature> = rows
            .into_iter()
            .filter_map(|r| {
                r.feature
                    .as_deref()
                    .and_then(codes::AccessibilityFeature::from_code)
            })
            .collect();
        // In the list's order, not the rows' (whose ids are random).
        features.sort();
        features.dedup();
        Ok(features.into_iter().map(Into::into).collect())
    }
}

/// A UK postcode's point and the areas it lies in.
#[derive(SimpleObject)]
pub struct Postcode {
    /// Normalised ("M32 0JG").
    pub code: String,
    pub latitude: f64,
    pub longitude: f64,
    pub lsoa_code: Option<String>,
    pub msoa_code: Option<String>,
    pub ward_code: Option<String>,
    pub local_authority_code: Option<String>,
}

#[derive(Default)]
pub struct PlacesQuery;

#[Object]
impl PlacesQuery {
    /// Look up a postcode in any case or spacing.
    async fn postcode(&self, ctx: &Context<'_>, code: String) -> Result<Option<Postcode>> {
        let code = PostcodeCode::parse(&code).map_err(|m| AppError::bad_input("code", m))?;
        let row = postcode::Entity::find_by_id(code.as_str())
            .one(db(ctx)?)
            .await
            .map_err(AppError::from)?;
        let Some(row) = row else {
            return Err(AppError::NotFound(format!("postcode {code} is not loaded")).into());
        };
        Ok(Some(Postcode {
            code: row.code,
            latitude: row.latitude,
            longitude: row.longitude,
            lsoa_code: row.lsoa_code,
            msoa_code: row.msoa_code,
            ward_code: row.ward_code,
            local_authority_code: row.local_authority_code,
        }))
    }
}
