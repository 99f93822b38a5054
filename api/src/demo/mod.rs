//! The demo data set: a deterministic generator of a few hundred plausible community
//! groups around real English town centres, loaded through the same import code as
//! real data. Capacity and verification dates are set relative to the day it loads,
//! so the demo never shows everything expired. Its postcodes are synthetic: real
//! outward districts of each town centre with made-up inward codes and points.

use chrono::{Duration, Utc};
use entity::{postcode, service};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::error::AppResult;
use crate::import;

/// The authority that owns demo listings.
pub const AUTHORITY: &str = "demo";

pub mod areas;
pub mod referrals;

/// (town, outward code, latitude, longitude) of each town centre: Trafford's four
/// towns, so the demo answers near any Trafford postcode, and five cities elsewhere.
const TOWNS: &[(&str, &str, f64, f64)] = &[
    ("Sale", "M33", 53.4246, -2.3227),
    ("Stretford", "M32", 53.4466, -2.3086),
    ("Altrincham", "WA14", 53.3870, -2.3494),
    ("Urmston", "M41", 53.4487, -2.3547),
    ("Manchester", "M1", 53.4794, -2.2453),
    ("Leeds", "LS1", 53.7965, -1.5478),
    ("Bristol", "BS1", 51.4545, -2.5879),
    ("Sheffield", "S1", 53.3811, -1.4701),
    ("Norwich", "NR1", 52.6286, 1.2924),
];
const SERVICES_PER_TOWN: usize = 40;
const POSTCODES_PER_TOWN: usize = 40;

const CIRCUMSTANCES: &[(&str, &str)] = &[
    ("carer", "Carer"),
    ("veteran", "Veteran"),
    ("living-with-dementia", "Living with dementia"),
    ("bereaved", "Bereaved"),
    ("low-income", "On a low income"),
];

/// Kinds of group: (name pattern, category code, organization pattern).
const KINDS: &[(&str, &str, &str)] = &[
    (
        "{place} Walking Group",
        "walking-groups",
        "{town} Ramblers Trust",
    ),
    ("{place} Lunch Club", "lunch-clubs", "Age Concern {town}"),
    (
        "{place} Knit and Natter",
        "arts-and-crafts",
        "{town} Community Arts",
    ),
    (
        "{place} Befriending Service",
        "befriending",
        "Age Concern {town}",
    ),
    (
        "{place} Carers' Café",
        "carers-support",
        "{town} Carers Centre",
    ),
    (
        "{place} Bereavement Circle",
        "bereavement-support",
        "{town} Cruse Group",
    ),
    (
        "{town} Debt Advice Line",
        "debt-advice",
        "Citizens Advice {town}",
    ),
    (
        "{place} Community Pantry",
        "food-banks",
        "{town} Food Network",
    ),
    ("{place} Wellbeing Café", "mental-wellbeing", "{town} Mind"),
];

const PLACES: &[&str] = &[
    "St Mary's",
    "Riverside",
    "Parkside",
    "Northgate",
    "Old Town",
    "Hillcrest",
    "Westfield",
    "Moorside",
    "Canal Street",
    "Market Square",
    "Victoria",
    "Greenbank",
];

const LANGUAGES: &[(&str, &str)] = &[
    ("ur", "Urdu"),
    ("pl", "Polish"),
    ("pa", "Punjabi"),
    ("bn", "Bengali"),
    ("ar", "Arabic"),
];

const ACCESS: &[&str] = &[
    "STEP_FREE",
    "HEARING_LOOP",
    "ACCESSIBLE_TOILET",
    "WHEELCHAIR_ACCESS",
    "QUIET_SPACE",
    "PARKING",
];

/// SplitMix64: tiny, fast and stable across versions, so the demo is the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn uuid(kind: u64, town: usize, n: usize) -> String {
    format!("00000000-de00-4000-8{kind:03x}-{town:04x}{n:08x}")
}

/// Demo postcodes: (code, latitude, longitude), within ~3 km of each centre.
pub fn postcodes() -> Vec<postcode::Model> {
    let mut rng = Rng(0x5160_0057);
    let mut rows = Vec::new();
    for (t, (_, outward, lat, lon)) in TOWNS.iter().enumerate() {
        for n in 0..POSTCODES_PER_TOWN {
            let letters = b"ABDEFGHJLNPQRSTUWXYZ";
            let code = format!(
                "{outward} {}{}{}",
                1 + n % 9,
                letters[(n * 7 + t) % letters.len()] as char,
                letters[(n * 3 + t * 5) % letters.len()] as char
            );
            rows.push(postcode::Model {
                code,
                latitude: lat + rng.unit() * 0.027,
                longitude: lon + rng.unit() * 0.045,
                lsoa_code: None,
                msoa_code: None,
                ward_code: None,
                local_authority_code: None,
            });
        }
    }
    rows
}

fn term(code: &str, name: &str, vocabulary: &str, parent: Option<&str>) -> Value {
    json!({
        "id": format!("demo-{vocabulary}-{code}"),
        "code": code,
        "name": name,
        "description": name,
        "taxonomy": vocabulary,
        "parent_id": parent.map(|p| format!("demo-{vocabulary}-{p}")),
    })
}

fn attribute(link_type: &str, term: Value) -> Value {
    json!({ "link_type": link_type, "taxonomy_term": term })
}

/// The demo services as HSDS 3.1 records. `today` anchors capacity and verification dates.
pub fn services(today: chrono::DateTime<Utc>) -> Vec<Value> {
    let mut rng = Rng(0xC0FF_EE00_2026);
    let codes = postcodes();
    let mut records = Vec::new();
    for (t, (town, _, _, _)) in TOWNS.iter().enumerate() {
        let town_codes = &codes[t * POSTCODES_PER_TOWN..(t + 1) * POSTCODES_PER_TOWN];
        for n in 0..SERVICES_PER_TOWN {
            let (pattern, category, org_pattern) = KINDS[n % KINDS.len()];
            let place = *rng.pick(PLACES);
            let name = pattern.replace("{place}", place).replace("{town}", town);
            let org_name = org_pattern.replace("{town}", town);
            let org_index = KINDS.iter().position(|k| k.2 == org_pattern).unwrap_or(0);
            let at = rng.pick(town_codes);
            let (lat, lon) = (
                at.latitude + rng.unit() * 0.0005,
                at.longitude + rng.unit() * 0.0008,
            );
            let category_name = migration::STARTER_TERMS
                .iter()
                .find(|t| t.0 == category)
                .map_or(category, |t| t.1);
            // Filed under the starter vocabulary every database has, by id.
            let mut attributes = vec![json!({
                "link_type": "category",
                "taxonomy_term_id": format!("{}-{category}", migration::STARTER_VOCABULARY),
            })];
            let restricted = |code: &str, rng: &mut Rng| {
                let (c, label) = CIRCUMSTANCES
                    .iter()
                    .find(|c| c.0 == code)
                    .copied()
                    .unwrap_or((code, code));
                let _ = rng;
                term(c, label, "circumstance", None)
            };
            match category {
                "carers-support" => {
                    attributes.push(attribute("restricted_to", restricted("carer", &mut rng)))
                }
                "bereavement-support" => {
                    attributes.push(attribute("suitable_for", restricted("bereaved", &mut rng)))
                }
                "food-banks" => attributes.push(attribute(
                    "suitable_for",
                    restricted("low-income", &mut rng),
                )),
                _ => {}
            }
            if rng.chance(8) {
                attributes.push(attribute("suitable_for", restricted("veteran", &mut rng)));
            }
            if category == "walking-groups" && rng.chance(25) {
                attributes.push(attribute(
                    "restricted_to",
                    term("female", "Women", "gender", None),
                ));
            }
            let modes: &[&str] = match category {
                "debt-advice" => &["TELEPHONE", "ONLINE"],
                "befriending" => &["TELEPHONE", "HOME_VISIT"],
                "mental-wellbeing" if rng.chance(40) => &["IN_PERSON", "ONLINE"],
                _ => &["IN_PERSON"],
            };
            for mode in modes {
                attributes.push(attribute(
                    "delivery_mode",
                    term(mode, mode, "delivery-mode", None),
                ));
            }
            let routes: &[&str] = if category == "debt-advice" {
                &["SELF", "LINK_WORKER", "PROFESSIONAL"]
            } else if rng.chance(30) {
                &["LINK_WORKER", "GP"]
            } else {
                &["SELF", "LINK_WORKER", "DROP_IN"]
            };
            for route in routes {
                attributes.push(attribute(
                    "referral_route",
                    term(route, route, "referral-route", None),
                ));
            }

            let minimum_age = match category {
                "lunch-clubs" => Some(60),
                "befriending" => Some(if rng.chance(50) { 65 } else { 50 }),
                _ => Some(18),
            };
            let maximum = 8 + rng.below(25) as i64;
            let status = *rng.pick(&["ACCEPTING", "ACCEPTING", "ACCEPTING", "WAITLIST", "FULL"]);
            let available = if status == "ACCEPTING" {
                1 + rng.below(maximum as usize) as i64
            } else {
                0
            };
            let updated = today
                - Duration::days(rng.below(20) as i64)
                - Duration::hours(rng.below(12) as i64);
            let day = *rng.pick(&["MO", "TU", "WE", "TH", "FR", "SA"]);
            let (opens, closes) = *rng.pick(&[
                ("10:00", "12:00"),
                ("13:30", "15:30"),
                ("11:30", "14:00"),
                ("18:00", "20:00"),
            ]);
            let paid = matches!(category, "arts-and-crafts" | "lunch-clubs") || rng.chance(10);
            let mut cost_options = vec![json!({
                "id": uuid(7, t, n),
                "option": if paid { "Per session" } else { "Free" },
                "currency": "GBP",
                "amount": if paid { 2.0 + rng.below(4) as f64 + 0.5 * rng.below(2) as f64 } else { 0.0 },
            })];
            if paid {
                cost_options.push(json!({
                    "id": uuid(8, t, n),
                    "option": "Carers and people on a low income",
                    "currency": "GBP",
                    "amount": 0.0,
                    "attributes": [attribute("concession", restricted("low-income", &mut rng)), attribute("concession", restricted("carer", &mut rng))],
                }));
            }
            let mut languages =
                vec![json!({ "id": uuid(9, t, n), "name": "English", "code": "en" })];
            if rng.chance(35) {
                let (code, language) = *rng.pick(LANGUAGES);
                languages.push(json!({ "id": uuid(10, t, n), "name": language, "code": code }));
            }
            let accessibility: Vec<Value> = (0..rng.below(3))
                .map(|i| json!({ "id": uuid(11 + i as u64, t, n), "details": ACCESS[(n + i * 2) % ACCESS.len()] }))
                .collect();
            // Services that come to people, or serve them by phone or online, cover the town.
            let service_areas = if modes
                .iter()
                .any(|m| matches!(*m, "HOME_VISIT" | "TELEPHONE" | "ONLINE"))
            {
                let (c_lat, c_lon) = (TOWNS[t].2, TOWNS[t].3);
                let ring = [
                    (-1.0, -1.0),
                    (1.0, -1.0),
                    (1.0, 1.0),
                    (-1.0, 1.0),
                    (-1.0, -1.0),
                ]
                .iter()
                .map(|(dx, dy)| json!([c_lon + dx * 0.06, c_lat + dy * 0.04]))
                .collect::<Vec<_>>();
                vec![json!({
                    "id": uuid(14, t, n),
                    "name": format!("Central {town}"),
                    "extent_type": "geojson",
                    "extent": json!({ "type": "Polygon", "coordinates": [ring] }).to_string(),
                })]
            } else {
                Vec::new()
            };

            records.push(json!({
                "id": uuid(1, t, n),
                "name": name,
                "description": format!("{category_name} in {place}, {town}. A friendly group run by {org_name}; new members welcome."),
                "email": format!("hello{n}@{}.example.org", town.to_lowercase()),
                "url": format!("https://{}.example.org/groups/{n}", town.to_lowercase()),
                "status": "active",
                "eligibility_description": match minimum_age { Some(age) if age > 18 => format!("For people aged {age} and over."), _ => "Adults 18+.".to_string() },
                "minimum_age": minimum_age,
                "assured_date": (today - Duration::days(rng.below(240) as i64)).format("%Y-%m-%d").to_string(),
                "organization": {
                    "id": uuid(2, t, org_index),
                    "name": org_name,
                    "description": format!("A local charity in {town}."),
                    "website": format!("https://{}.example.org", town.to_lowercase()),
                },
                "phones": [{ "id": uuid(3, t, n), "number": format!("0{:03} {:03} {:04}", 100 + t * 37, 200 + n, 1000 + n * 13) }],
                "service_at_locations": [{
                    "id": uuid(4, t, n),
                    "location": {
                        "id": uuid(5, t, n),
                        "location_type": "physical",
                        "name": format!("{place} Community Centre"),
                        "latitude": (lat * 1e6).round() / 1e6,
                        "longitude": (lon * 1e6).round() / 1e6,
                        "addresses": [{
                            "id": uuid(6, t, n),
                            "address_1": format!("{} {place} Road", 1 + rng.below(120)),
                            "city": town,
                            "state_province": "England",
                            "postal_code": at.code,
                            "country": "GB",
                            "address_type": "physical",
                        }],
                        "accessibility": accessibility,
                    },
                    "schedules": [{
                        "id": uuid(12, t, n),
                        "freq": "WEEKLY",
                        "byday": day,
                        "opens_at": opens,
                        "closes_at": closes,
                        "description": "Weekly",
                    }],
                }],
                "languages": languages,
                "cost_options": cost_options,
                "capacities": [{
                    "id": uuid(13, t, n),
                    "unit": { "name": "places" },
                    "available": available,
                    "maximum": maximum,
                    "status": status,
                    "waitlist_length": if status == "WAITLIST" { Some(1 + rng.below(12)) } else { None },
                    "typical_wait_days": if status == "WAITLIST" { Some(7 + rng.below(40)) } else { None },
                    "updated": updated.to_rfc3339(),
                }],
                "service_areas": service_areas,
                "attributes": attributes,
            }));
        }
    }
    records
}

/// Load the demo once: a database that already holds demo listings is left alone.
pub async fn load(db: &DatabaseConnection) -> AppResult<String> {
    let neighbourhoods = areas::load(db).await?;
    let owner = crate::domain::auth::ensure_authority(db, AUTHORITY, "Signpost demo").await?;
    let existing = service::Entity::find()
        .filter(service::Column::AuthorityId.eq(owner.id))
        .count(db)
        .await?;
    if existing > 0 {
        return Ok(format!("demo already loaded ({existing} services)"));
    }
    let codes = import::postcodes::write(db, postcodes()).await?;
    let report = import::hsds::import(db, services(Utc::now()), &owner).await?;
    Ok(format!(
        "demo loaded: {codes} postcodes, {neighbourhoods} {} areas; {report}",
        areas::AREA_TYPE
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_is_the_same_every_time() {
        let today = Utc::now();
        assert_eq!(services(today), services(today));
        assert_eq!(services(today).len(), TOWNS.len() * SERVICES_PER_TOWN);
    }

    #[test]
    fn demo_postcodes_are_valid_and_distinct() {
        let codes = postcodes();
        let distinct: std::collections::HashSet<_> = codes.iter().map(|p| p.code.clone()).collect();
        assert_eq!(distinct.len(), codes.len());
        for p in &codes {
            assert_eq!(
                crate::domain::postcode::Postcode::parse(&p.code).map(|c| c.to_string()),
                Ok(p.code.clone())
            );
        }
    }
}
