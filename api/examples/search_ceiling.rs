//! The ceiling for the search benchmark: what the same HTTP and GraphQL stack
//! (axum, async-graphql) answers over one in-memory R*-tree of the same services,
//! with none of Signpost's work around it (no fit reasons, no demand events, no rate
//! limits, no per-category trees, no pages after the first). It walks the tree
//! nearest first (points as unit vectors, where straight-line order is great-circle
//! order) and stops at the radius or a full page. It answers the bench's ceiling document,
//! `search(input: { near, radiusMetres, taxonomyTerms, person: { age }, capacity:
//! [ACCEPTING] }, first) { edges { node { service { id name } distanceMetres } } }`,
//! with the nearest `first` services within the radius, of the category (exact codes:
//! the bench asks for leaf categories), admitting the age, with places free now.
//!
//! Usage: search_ceiling services.json 127.0.0.1:18100

use std::sync::Arc;

use async_graphql::{
    Context, EmptyMutation, EmptySubscription, Enum, InputObject, Object, Schema, SimpleObject,
};
use async_graphql_axum::GraphQL;
use geo::{Distance, Haversine, Point};
use rstar::RTree;
use rstar::primitives::GeomWithData;
use serde_json::Value;

struct Service {
    id: String,
    name: String,
    category: String,
    minimum_age: Option<f64>,
    maximum_age: Option<f64>,
    /// Places free now (capacity not expired and above zero).
    open: bool,
}

struct Directory {
    services: Vec<Service>,
    /// Locations as unit vectors, with the service and the point in degrees.
    tree: RTree<GeomWithData<[f64; 3], (u32, Point)>>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
enum CapacityStatus {
    Accepting,
    Waitlist,
    Full,
    Unknown,
}

#[derive(InputObject)]
struct PlaceInput {
    latitude: f64,
    longitude: f64,
}

#[derive(InputObject)]
struct PersonInput {
    age: Option<f64>,
}

#[derive(InputObject)]
struct SearchInput {
    near: PlaceInput,
    radius_metres: i32,
    taxonomy_terms: Option<Vec<String>>,
    person: Option<PersonInput>,
    capacity: Option<Vec<CapacityStatus>>,
}

#[derive(SimpleObject)]
struct ServiceNode {
    id: String,
    name: String,
}

#[derive(SimpleObject)]
struct SearchResult {
    service: ServiceNode,
    distance_metres: f64,
}

#[derive(SimpleObject)]
struct SearchEdge {
    node: SearchResult,
}

#[derive(SimpleObject)]
struct SearchConnection {
    edges: Vec<SearchEdge>,
}

struct Query;

#[Object]
impl Query {
    async fn search(
        &self,
        ctx: &Context<'_>,
        input: SearchInput,
        #[graphql(default = 20)] first: i32,
    ) -> SearchConnection {
        let directory = ctx.data_unchecked::<Arc<Directory>>();
        let (lat, lon) = (input.near.latitude, input.near.longitude);
        let radius = f64::from(input.radius_metres);
        let here = Point::new(lon, lat);
        let terms = input.taxonomy_terms.unwrap_or_default();
        let age = input.person.and_then(|p| p.age);
        let open_only = input
            .capacity
            .is_some_and(|c| c == [CapacityStatus::Accepting]);
        // Nearest first: on the unit sphere, straight-line order is great-circle order.
        let hits: Vec<(f64, u32)> = directory
            .tree
            .nearest_neighbor_iter(&unit_vector(lat, lon))
            .filter(|p| {
                let s = &directory.services[p.data.0 as usize];
                (terms.is_empty() || terms.contains(&s.category))
                    && age.is_none_or(|a| {
                        s.minimum_age.is_none_or(|m| a >= m) && s.maximum_age.is_none_or(|m| a <= m)
                    })
                    && (!open_only || s.open)
            })
            .map(|p| (Haversine.distance(here, p.data.1), p.data.0))
            .take_while(|(d, _)| *d <= radius)
            .take(first.max(0) as usize)
            .collect();
        SearchConnection {
            edges: hits
                .into_iter()
                .map(|(d, i)| {
                    let s = &directory.services[i as usize];
                    SearchEdge {
                        node: SearchResult {
                            service: ServiceNode {
                                id: s.id.clone(),
                                name: s.name.clone(),
                            },
                            distance_metres: d,
                        },
                    }
                })
                .collect(),
        }
    }
}

fn unit_vector(latitude: f64, longitude: f64) -> [f64; 3] {
    let (lat, lon) = (latitude.to_radians(), longitude.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

fn load(path: &str) -> Result<Directory, Box<dyn std::error::Error>> {
    let records: Vec<Value> = serde_json::from_slice(&std::fs::read(path)?)?;
    let now = chrono::Utc::now().to_rfc3339();
    let mut services = Vec::with_capacity(records.len());
    let mut points = Vec::with_capacity(records.len());
    for record in &records {
        let capacity = &record["capacities"][0];
        let open = capacity["available"].as_i64().is_some_and(|a| a > 0)
            && capacity["expires_at"]
                .as_str()
                .is_none_or(|e| e > now.as_str());
        let slot = services.len() as u32;
        for sal in record["service_at_locations"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let location = &sal["location"];
            if let (Some(lon), Some(lat)) = (
                location["longitude"].as_f64(),
                location["latitude"].as_f64(),
            ) {
                points.push(GeomWithData::new(
                    unit_vector(lat, lon),
                    (slot, Point::new(lon, lat)),
                ));
            }
        }
        services.push(Service {
            id: record["id"].as_str().unwrap_or_default().to_string(),
            name: record["name"].as_str().unwrap_or_default().to_string(),
            category: record["attributes"][0]["taxonomy_term"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            minimum_age: record["minimum_age"].as_f64(),
            maximum_age: record["maximum_age"].as_f64(),
            open,
        });
    }
    Ok(Directory {
        services,
        tree: RTree::bulk_load(points),
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, services, listen] = args.as_slice() else {
        return Err("usage: search_ceiling services.json 127.0.0.1:18100".into());
    };
    let directory = Arc::new(load(services)?);
    let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
        .data(directory)
        .finish();
    let app = axum::Router::new().route_service("/graphql", GraphQL::new(schema));
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("ready");
    axum::serve(listener, app).await?;
    Ok(())
}
