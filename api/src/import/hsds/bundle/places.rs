//! Where an HSDS service happens: its service-at-locations, each location with its
//! coordinates, addresses (UK postcodes checked and normalised), accessibility and
//! languages.

use entity::{accessibility, address, location, service_at_location};

use super::super::fields::{checked, clean, error, link, long, required, short};
use super::super::model;
use super::{Bundle, language_row};
use crate::domain::codes::AccessibilityFeature;
use crate::domain::edit::record::FieldError;
use crate::domain::validate;

impl Bundle {
    pub(super) fn service_at_location(
        &mut self,
        sal: &model::ServiceAtLocation,
        path: &str,
        authority_id: i32,
    ) -> Result<(), FieldError> {
        let sal_id = required(&sal.id, &format!("{path}.id"))?;
        let location_id = match (&sal.location, clean(&sal.location_id)) {
            (Some(location), _) => {
                self.location(location, &format!("{path}.location"), authority_id)?
            }
            (None, Some(id)) => required(&id, &format!("{path}.location_id"))?,
            (None, None) => {
                return error(
                    format!("{path}.location"),
                    "required: a nested location or location_id",
                );
            }
        };
        self.service_at_locations.push(service_at_location::Model {
            id: sal_id.clone(),
            service_id: self.service.id.clone(),
            location_id,
            description: long(&sal.description, &format!("{path}.description"))?,
        });
        for (i, s) in sal.schedules.iter().enumerate() {
            self.schedule(s, &format!("{path}.schedules[{i}]"), Some(&sal_id))?;
        }
        for (i, area) in sal.service_areas.iter().enumerate() {
            self.service_area(area, &format!("{path}.service_areas[{i}]"))?;
        }
        Ok(())
    }

    fn location(
        &mut self,
        l: &model::Location,
        path: &str,
        authority_id: i32,
    ) -> Result<String, FieldError> {
        let id = required(&l.id, &format!("{path}.id"))?;
        let (latitude, longitude) = match (l.latitude, l.longitude) {
            (Some(lat), Some(lon)) => {
                let at = checked(validate::coordinates(path, lat, lon))?;
                (Some(at.latitude), Some(at.longitude))
            }
            (None, None) => (None, None),
            (Some(_), None) => return error(format!("{path}.longitude"), "required with latitude"),
            (None, Some(_)) => return error(format!("{path}.latitude"), "required with longitude"),
        };
        let mut postcode = None;
        for (i, a) in l.addresses.iter().enumerate() {
            let row = address_row(a, &format!("{path}.addresses[{i}]"), &id)?;
            if postcode.is_none() || row.address_type == "physical" {
                // A UK address's postcode places the location; others are kept as text.
                postcode = uk_address(&row)
                    .then(|| row.postal_code.clone())
                    .filter(|p| !p.is_empty())
                    .or(postcode);
            }
            self.addresses.push(row);
        }
        for (i, a) in l.accessibility.iter().enumerate() {
            let apath = format!("{path}.accessibility[{i}]");
            let description = long(&a.description, &format!("{apath}.description"))?;
            let details = long(&a.details, &format!("{apath}.details"))?;
            let feature = [details.as_deref(), description.as_deref()]
                .into_iter()
                .flatten()
                .find_map(AccessibilityFeature::recognise)
                .map(|f| f.code().to_string());
            self.accessibility.push(accessibility::Model {
                id: required(&a.id, &format!("{apath}.id"))?,
                location_id: id.clone(),
                feature,
                description,
                details,
                url: link(&a.url, &format!("{apath}.url"))?,
            });
        }
        for (i, lang) in l.languages.iter().enumerate() {
            let row = language_row(
                lang,
                &format!("{path}.languages[{i}]"),
                None,
                Some(id.clone()),
            )?;
            self.languages.push(row);
        }
        let location_type = clean(&l.location_type)
            .unwrap_or_else(|| "physical".into())
            .to_ascii_lowercase();
        if !["physical", "postal", "virtual"].contains(&location_type.as_str()) {
            return error(
                format!("{path}.location_type"),
                format!("'{location_type}' is not physical, postal or virtual"),
            );
        }
        if !self.locations.iter().any(|x| x.id == id) {
            self.locations.push(location::Model {
                id: id.clone(),
                authority_id,
                name: short(&l.name, &format!("{path}.name"))?,
                alternate_name: short(&l.alternate_name, &format!("{path}.alternate_name"))?,
                description: long(&l.description, &format!("{path}.description"))?,
                location_type,
                latitude,
                longitude,
                postcode,
                transportation: long(&l.transportation, &format!("{path}.transportation"))?,
                url: link(&l.url, &format!("{path}.url"))?,
            });
        }
        Ok(id)
    }
}

/// Countries whose postal codes are UK postcodes (HSDS examples are American).
fn uk_address(row: &address::Model) -> bool {
    matches!(
        row.country.to_ascii_uppercase().as_str(),
        "" | "GB"
            | "GBR"
            | "UK"
            | "UNITED KINGDOM"
            | "GREAT BRITAIN"
            | "ENGLAND"
            | "SCOTLAND"
            | "WALES"
            | "NORTHERN IRELAND"
            | "GB-ENG"
            | "GB-SCT"
            | "GB-WLS"
            | "GB-NIR"
    )
}

/// An address, checked as the API checks one: first line and city required, a UK
/// postcode that parses (normalised, as the API stores it).
fn address_row(
    a: &model::Address,
    path: &str,
    location_id: &str,
) -> Result<address::Model, FieldError> {
    let mut row = address::Model {
        id: required(&a.id, &format!("{path}.id"))?,
        location_id: location_id.to_string(),
        attention: short(&a.attention, &format!("{path}.attention"))?,
        address_1: required(&a.address_1, &format!("{path}.address_1"))?,
        address_2: short(&a.address_2, &format!("{path}.address_2"))?,
        city: required(&a.city, &format!("{path}.city"))?,
        region: short(&a.region, &format!("{path}.region"))?,
        state_province: short(
            &Some(a.state_province.clone()),
            &format!("{path}.state_province"),
        )?
        .unwrap_or_default(),
        postal_code: short(&Some(a.postal_code.clone()), &format!("{path}.postal_code"))?
            .unwrap_or_default(),
        country: short(&Some(a.country.clone()), &format!("{path}.country"))?.unwrap_or_default(),
        address_type: short(
            &Some(a.address_type.clone()),
            &format!("{path}.address_type"),
        )?
        .unwrap_or_default()
        .to_ascii_lowercase(),
    };
    if uk_address(&row) && !row.postal_code.is_empty() {
        let postcode = checked(validate::postcode(
            &format!("{path}.postal_code"),
            &row.postal_code,
        ))?;
        row.postal_code = postcode.to_string();
    }
    Ok(row)
}
