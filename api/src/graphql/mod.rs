//! The GraphQL schema, assembled in one place. Building it needs no database: the
//! connection and the per-request loaders arrive as request data, so `signpost
//! schema` exports the SDL anywhere.

mod account;
pub mod cost;
mod details;
mod duplicates;
mod enums;
mod gaps;
mod inputs;
mod loaders;
mod mutations;
mod organizations;
mod places;
mod query;
mod referrals;
mod review;
mod search;
mod services;
mod subscriptions;
mod taxonomy;

use std::hash::Hash;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, ErrorExtensions, Schema};
use sea_orm::{DatabaseConnection, DbErr};

use crate::domain::Policy;
use crate::domain::auth::Caller;
use crate::error::{AppError, AppResult};
pub use loaders::DbLoader;
use mutations::Mutation;
use query::Query;
use subscriptions::Subscription;

/// How the schema shows itself: development mode is the default (tests and `signpost
/// schema`); `serve` defaults to production (see `config::HttpArgs`).
/// Production hides the schema from anonymous callers; development shows it to all.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Introspection only for analyst and admin keys; no "did you mean" hints.
    Production,
    /// Introspection and suggestions for everyone (GraphiQL works anonymously).
    #[default]
    Development,
}

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// Limits every operation must pass before it runs (depth is checked in `cost`).
pub const MAX_DEPTH: usize = 10;
pub const MAX_COMPLEXITY: usize = 20_000;
pub const MAX_DIRECTIVES: usize = 10;
pub const MAX_RECURSIVE_DEPTH: usize = 32;

/// Options that shape the schema. The default is development mode (tests and
/// `signpost schema`); `serve` defaults to production (see `config::HttpArgs`).
#[derive(Clone, Copy, Debug, Default)]
pub struct SchemaOptions {
    pub policy: Policy,
    pub mode: Mode,
}

pub fn build_schema(options: SchemaOptions) -> AppSchema {
    let builder = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .data(options.policy)
    .data(options.mode)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_directives(MAX_DIRECTIVES)
    .limit_recursive_depth(MAX_RECURSIVE_DEPTH);
    match options.mode {
        // "Did you mean …?" would spell out the schema that introspection hides.
        Mode::Production => builder.disable_suggestions().finish(),
        Mode::Development => builder.finish(),
    }
}

/// The SDL clients build against (kept in `schema.graphql`).
pub fn sdl() -> String {
    build_schema(SchemaOptions::default()).sdl()
}

/// Who sent a request and from where.
#[derive(Clone, Debug)]
pub struct Client {
    pub request_id: String,
    pub address: std::net::IpAddr,
    pub caller: Option<Caller>,
}

/// Out-of-date reports need no key, so `reportOutdated` limits them per client
/// address with this limiter (request data; the HTTP layer makes it).
pub type ReportLimiter = governor::DefaultKeyedRateLimiter<std::net::IpAddr>;

pub(crate) fn db<'a>(ctx: &Context<'a>) -> AppResult<&'a DatabaseConnection> {
    ctx.data::<DatabaseConnection>()
        .map_err(|_| AppError::internal("no database connection in request data"))
}

pub(crate) fn client<'a>(ctx: &Context<'a>) -> AppResult<&'a Client> {
    ctx.data::<Client>()
        .map_err(|_| AppError::internal("no client in request data"))
}

/// The signed-in caller, or UNAUTHENTICATED.
pub(crate) fn caller<'a>(ctx: &Context<'a>) -> AppResult<&'a Caller> {
    crate::domain::auth::signed_in(client(ctx)?.caller.as_ref())
}

/// The caller as a writer: who, and the request that carries the write.
pub(crate) fn editor<'a>(ctx: &Context<'a>) -> AppResult<crate::domain::edit::Editor<'a>> {
    Ok(crate::domain::edit::Editor {
        caller: caller(ctx)?,
        request_id: &client(ctx)?.request_id,
        fields: crate::domain::validate::Fields::GRAPHQL_INPUT,
    })
}

pub(crate) fn policy(ctx: &Context<'_>) -> Policy {
    ctx.data::<Policy>().copied().unwrap_or_default()
}

/// The request's DataLoader.
fn loader<'a>(ctx: &'a Context<'_>) -> AppResult<&'a DataLoader<DbLoader>> {
    ctx.data::<DataLoader<DbLoader>>()
        .map_err(|_| AppError::internal("no loader in request data"))
}

/// One row (or a list of children) by key, batched with the request's other loads.
pub(crate) async fn load<K>(
    ctx: &Context<'_>,
    key: K,
) -> AppResult<Option<<DbLoader as Loader<K>>::Value>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    DbLoader: Loader<K, Error = std::sync::Arc<DbErr>>,
{
    let loader = loader(ctx)?;
    loader
        .load_one(key)
        .await
        .map_err(|e| AppError::from(e.as_ref()))
}

/// Load a list through the DataLoader; a parent with no rows gives an empty list.
/// Several rows by key in one batch, in the keys' order; keys with no row are left out.
pub(crate) async fn load_many<K>(
    ctx: &Context<'_>,
    keys: Vec<K>,
) -> AppResult<Vec<<DbLoader as Loader<K>>::Value>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    DbLoader: Loader<K, Error = std::sync::Arc<DbErr>>,
{
    let loader = loader(ctx)?;
    let mut found = loader
        .load_many(keys.iter().cloned())
        .await
        .map_err(|e| AppError::from(e.as_ref()))?;
    Ok(keys.iter().filter_map(|k| found.remove(k)).collect())
}

pub(crate) async fn load_list<K, V>(ctx: &Context<'_>, key: K) -> AppResult<Vec<V>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    V: Send + Sync + Clone + 'static,
    DbLoader: Loader<K, Value = Vec<V>, Error = std::sync::Arc<DbErr>>,
{
    Ok(load(ctx, key).await?.unwrap_or_default())
}

/// Turn a page of rows into a Relay connection with opaque cursors.
pub(crate) fn connection<T, N: async_graphql::OutputType>(
    page: crate::domain::listings::PageOf<T>,
    has_previous: bool,
    key: impl Fn(&T) -> String,
    node: impl Fn(T) -> N,
) -> async_graphql::connection::Connection<String, N> {
    use async_graphql::connection::{Connection, Edge};
    let mut connection = Connection::new(has_previous, page.has_next);
    connection.edges.extend(
        page.rows
            .into_iter()
            .map(|row| Edge::new(crate::domain::paging::encode_cursor(&key(&row)), node(row))),
    );
    connection
}

/// An `AppError` as a GraphQL error: its code in `extensions.code`, the input at
/// fault in `extensions.field`, the version a stale write must read again in
/// `extensions.currentVersion`.
impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        match &err {
            AppError::Internal(cause) => tracing::error!(%cause, "internal error"),
            AppError::Unavailable(cause) => tracing::warn!(%cause, "database unavailable"),
            _ => {}
        }
        let code = err.code();
        let error = async_graphql::Error::new(err.public_message());
        error.extend_with(|_, ext| {
            ext.set("code", code);
            match &err {
                AppError::BadUserInput { field, .. } => ext.set("field", field.as_str()),
                AppError::Conflict {
                    current_version, ..
                } => ext.set("currentVersion", *current_version),
                _ => {}
            }
        })
    }
}
