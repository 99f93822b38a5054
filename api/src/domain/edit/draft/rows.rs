//! A service's parts as a caller sends them (locations, costs, schedules, service
//! areas), each checked into the rows stored for it, every problem named by its
//! input path (`input.locations[0].latitude`).

use entity::{
    accessibility, address, cost_option, location, schedule, service_area, service_at_location,
};
use serde_json::json;

use super::{
    CostDraft, LocatedRows, LocationDraft, ScheduleDraft, ServiceAreaDraft, clock, code, new_id,
    optional_description, optional_short, unique,
};
use crate::domain::validate;
use crate::error::{AppError, AppResult};
use crate::spatial;

impl LocationDraft {
    pub(super) fn rows(
        &self,
        path: &str,
        service_id: &str,
        authority_id: i32,
    ) -> AppResult<LocatedRows> {
        let at = validate::coordinates(path, self.latitude, self.longitude)?;
        let postcode = self
            .postcode
            .as_deref()
            .map(|p| validate::postcode(&format!("{path}.postcode"), p))
            .transpose()?;
        let id = new_id();
        let address = match &self.address {
            Some(a) => Some(address::Model {
                id: new_id(),
                location_id: id.clone(),
                attention: None,
                address_1: validate::name(&format!("{path}.address.address1"), &a.address_1)?,
                address_2: optional_short(&a.address_2, &format!("{path}.address.address2"))?,
                city: validate::name(&format!("{path}.address.city"), &a.city)?,
                region: optional_short(&a.region, &format!("{path}.address.region"))?,
                state_province: optional_short(&a.region, &format!("{path}.address.region"))?
                    .unwrap_or_default(),
                postal_code: postcode.as_ref().map(|p| p.to_string()).unwrap_or_default(),
                country: "GB".into(),
                address_type: "physical".into(),
            }),
            None => None,
        };
        let accessibility = unique(&self.accessibility)
            .into_iter()
            .map(|feature| accessibility::Model {
                id: new_id(),
                location_id: id.clone(),
                feature: Some(feature.code().to_string()),
                description: None,
                details: None,
                url: None,
            })
            .collect();
        Ok(LocatedRows {
            location: location::Model {
                id: id.clone(),
                authority_id,
                name: optional_short(&self.name, &format!("{path}.name"))?,
                alternate_name: None,
                description: None,
                location_type: "physical".into(),
                latitude: Some(at.latitude),
                longitude: Some(at.longitude),
                postcode: postcode.map(|p| p.to_string()),
                transportation: optional_description(
                    &self.transportation,
                    &format!("{path}.transportation"),
                )?,
                url: None,
            },
            address,
            accessibility,
            link: service_at_location::Model {
                id: new_id(),
                service_id: service_id.to_string(),
                location_id: id,
                description: None,
            },
        })
    }
}

impl CostDraft {
    pub(super) fn row(&self, path: &str, service_id: &str) -> AppResult<cost_option::Model> {
        if let Some(amount) = self.amount_pence
            && amount < 0
        {
            return Err(AppError::bad_input(
                format!("{path}.amountPence"),
                "must not be negative (a free service costs 0)",
            ));
        }
        let concessions = self
            .concessions
            .iter()
            .enumerate()
            .map(|(i, c)| code(&format!("{path}.concessions[{i}]"), c))
            .collect::<AppResult<Vec<_>>>()?;
        Ok(cost_option::Model {
            id: new_id(),
            service_id: service_id.to_string(),
            option: optional_short(&self.option, &format!("{path}.option"))?,
            amount_pence: self.amount_pence,
            currency: Some("GBP".into()),
            amount_description: optional_description(
                &self.amount_description,
                &format!("{path}.amountDescription"),
            )?,
            valid_from: None,
            valid_to: None,
            concessions: json!(concessions),
        })
    }
}

impl ScheduleDraft {
    pub(super) fn row(&self, path: &str, service_id: &str) -> AppResult<schedule::Model> {
        if self.days.is_empty() {
            return Err(AppError::bad_input(
                format!("{path}.days"),
                "name at least one day",
            ));
        }
        let opens_at = self
            .opens_at
            .as_deref()
            .map(|t| clock(&format!("{path}.opensAt"), t))
            .transpose()?;
        let closes_at = self
            .closes_at
            .as_deref()
            .map(|t| clock(&format!("{path}.closesAt"), t))
            .transpose()?;
        validate::closes_after_opens(
            &format!("{path}.opensAt"),
            opens_at.as_deref(),
            &format!("{path}.closesAt"),
            closes_at.as_deref(),
        )?;
        validate::date_order(
            &format!("{path}.validFrom"),
            self.valid_from,
            &format!("{path}.validTo"),
            self.valid_to,
        )?;
        let days: Vec<&str> = unique(&self.days).iter().map(|d| d.code()).collect();
        Ok(schedule::Model {
            id: new_id(),
            service_id: Some(service_id.to_string()),
            location_id: None,
            service_at_location_id: None,
            freq: Some("WEEKLY".into()),
            byday: Some(days.join(",")),
            opens_at,
            closes_at,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            description: optional_description(&self.description, &format!("{path}.description"))?,
            notes: None,
            attending_type: None,
        })
    }
}

impl ServiceAreaDraft {
    pub(super) fn row(&self, path: &str, service_id: &str) -> AppResult<service_area::Model> {
        let extent = match &self.extent {
            Some(value) => {
                let text = value.to_string();
                spatial::parse_polygons(&text)
                    .map_err(|message| AppError::bad_input(format!("{path}.extent"), message))?;
                Some(text)
            }
            None => None,
        };
        let area_code = optional_short(&self.area_code, &format!("{path}.areaCode"))?;
        if extent.is_none() && area_code.is_none() {
            return Err(AppError::bad_input(
                format!("{path}.extent"),
                "give a GeoJSON polygon or an areaCode",
            ));
        }
        Ok(service_area::Model {
            id: new_id(),
            service_id: service_id.to_string(),
            name: optional_short(&self.name, &format!("{path}.name"))?,
            description: optional_description(&self.description, &format!("{path}.description"))?,
            extent_type: extent.as_ref().map(|_| "geojson".to_string()),
            extent,
            area_code,
            uri: None,
        })
    }
}
