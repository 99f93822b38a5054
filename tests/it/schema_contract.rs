//! The published contract: `schema.graphql` must equal the SDL the code builds.

use std::path::PathBuf;

#[test]
fn schema_graphql_matches_the_code_and_is_rewritten_on_drift() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let built = signpost::graphql::sdl();
    let published = std::fs::read_to_string(&path).unwrap_or_default();
    if built != published {
        std::fs::write(&path, &built).expect("rewrite schema.graphql");
        panic!("schema.graphql was out of date and has been rewritten: review and commit it");
    }
}

#[test]
fn contract_names_from_the_design_are_in_the_schema() {
    let sdl = signpost::graphql::sdl();
    for name in [
        "search(input: SearchInput!, first: Int, after: String): ServiceMatchConnection!",
        "service(id: ID!): Service",
        "services(filter: ServiceFilterInput, first: Int, after: String): ServiceConnection!",
        "organization(id: ID!): Organization",
        "organizations(first: Int, after: String): OrganizationConnection!",
        "taxonomyTerms(vocabulary: String): [TaxonomyTerm!]!",
        "postcode(code: String!): Postcode",
        "input SearchInput",
        "input PlaceInput",
        "input PersonInput",
        "distanceMetres: Float",
        "reach: Reach!",
        "fit: Fit!",
        "suitable: Boolean!",
        "reasons: [FitReason!]!",
        "version: Int!",
        "lastVerifiedAt: DateTime",
        "freshness: Freshness!",
        "includeUnsuitable: Boolean! = false",
        "radiusMetres: Int! = 5000",
        "verifiedWithinDays: Int",
    ] {
        assert!(sdl.contains(name), "schema lacks `{name}`");
    }
    for value in [
        "AT_LOCATION",
        "SERVICE_AREA",
        "REMOTE",
        "MET",
        "NOT_MET",
        "ACCEPTING",
        "WAITLIST",
        "FULL",
        "PAUSED",
    ] {
        assert!(sdl.contains(value), "schema lacks enum value {value}");
    }
}
