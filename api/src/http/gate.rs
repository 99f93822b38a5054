//! What every operation passes before async-graphql runs it, over HTTP and
//! WebSocket alike: the size limits (`cost`), checked on a document parsed once per
//! query text; in production mode, introspection only for analyst and admin keys
//! (the SDL is published in the repository for everyone else); and each run named
//! in the request's log span and timed into the metrics (over HTTP; over WebSocket,
//! operations are not timed).
//!
//! This is a wrapper rather than async-graphql extensions because with any
//! extension registered, every field of every answer goes through the extension
//! chain (two boxed futures and two registry look-ups per field, ~600 fields in a
//! page of search results).

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{Data, ErrorExtensionValues, Executor, Request, Response, ServerError};
use futures::StreamExt;
use futures::stream::BoxStream;
use lru::LruCache;

use super::metrics::Metrics;
use crate::domain::codes::Role;
use crate::graphql::Mode;
use crate::graphql::{AppSchema, Client, cost};

/// Parsed documents kept, by query text: apps send the same few queries again and
/// again, and parsing was 7% of a search's cost. Only queries up to `CACHED_BYTES`
/// are kept, so the cache stays a few megabytes whatever clients send.
const CACHED_DOCUMENTS: usize = 256;
const CACHED_BYTES: usize = 8 * 1024;

type Passed = Arc<Mutex<LruCache<String, Arc<ExecutableDocument>>>>;

/// The schema behind its gate.
#[derive(Clone)]
pub struct Gate {
    schema: AppSchema,
    mode: Mode,
    /// Documents that passed the limits, by query text.
    passed: Passed,
}

impl Gate {
    pub fn new(schema: AppSchema, mode: Mode) -> Self {
        let size = NonZeroUsize::new(CACHED_DOCUMENTS).unwrap_or(NonZeroUsize::MIN);
        Self {
            schema,
            mode,
            passed: Arc::new(Mutex::new(LruCache::new(size))),
        }
    }

    fn passed(&self) -> MutexGuard<'_, LruCache<String, Arc<ExecutableDocument>>> {
        // The cache holds only whole documents: one a panic interrupted is still sound.
        self.passed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The request made ready to run, or why it is refused (see `refusal`). The parsed
    /// document goes with it: async-graphql's own recursion check expands fragments
    /// without a bound (2^30 for thirty fragments that each spread the next twice),
    /// so it must only ever see a document that passed the bounded walk in `cost`.
    /// Parse errors are left to async-graphql, which reports them in its own words.
    fn admit(&self, mut request: Request, may_introspect: bool) -> Result<Request, String> {
        let cached = self.passed().get(&request.query).cloned();
        let keep = request.query.len() <= CACHED_BYTES;
        if let Some(document) = cached {
            request.set_parsed_query(ExecutableDocument::clone(&document));
        } else if let Ok(document) = request.parsed_query() {
            cost::check(document)?;
            if keep {
                let document = Arc::new(document.clone());
                self.passed().put(request.query.clone(), document);
            }
        }
        if self.mode != Mode::Development && !may_introspect {
            request = request.disable_introspection();
        }
        Ok(request)
    }
}

/// The answer to an operation over the limits.
fn refusal(message: String) -> Response {
    refused(cost::CODE, &message)
}

/// An operation refused before it ran, with its code.
fn refused(code: &str, message: &str) -> Response {
    let mut error = ServerError::new(message, None);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    Response::from_errors(vec![error])
}

/// Whether the operation a request runs is a mutation.
fn is_mutation(request: &mut Request) -> bool {
    let name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return false;
    };
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name.as_str()),
        (DocumentOperations::Multiple(operations), None) => operations.values().next(),
    };
    operation.is_some_and(|o| o.node.ty == OperationType::Mutation)
}

/// Whether a client may ask about the schema in production mode.
fn may_introspect(client: Option<&Client>) -> bool {
    client
        .and_then(|c| c.caller.as_ref())
        .is_some_and(|caller| matches!(caller.role, Role::Analyst | Role::Admin))
}

/// The operation a request runs, by name: the one it names, or a document's only
/// named operation.
fn operation_name(request: &mut Request) -> Option<String> {
    if let Some(name) = &request.operation_name {
        return Some(name.clone());
    }
    match &request.parsed_query().ok()?.operations {
        DocumentOperations::Multiple(operations) if operations.len() == 1 => {
            operations.keys().next().map(|name| name.to_string())
        }
        _ => None,
    }
}

fn data_of<T: Send + Sync + 'static>(data: &Data) -> Option<&T> {
    data.get(&std::any::TypeId::of::<T>())?.downcast_ref()
}

impl Executor for Gate {
    async fn execute(&self, request: Request) -> Response {
        let metrics = data_of::<Arc<Metrics>>(&request.data).cloned();
        let admitted = {
            let client = data_of::<Client>(&request.data);
            let may_introspect = may_introspect(client);
            self.admit(request, may_introspect)
        };
        let mut request = match admitted {
            Ok(request) => request,
            Err(message) => return refusal(message),
        };
        let started = Instant::now();
        let name = operation_name(&mut request);
        tracing::Span::current().record("operation", name.as_deref().unwrap_or("-"));
        let response = self.schema.execute(request).await;
        // Timed only when it ran: not when parsing or validation refused it.
        let refused = response.data == async_graphql::Value::Null
            && !response.errors.is_empty()
            && response.errors.iter().all(|e| e.path.is_empty());
        if let Some(metrics) = metrics.filter(|_| !refused) {
            metrics.operation(name.as_deref(), started.elapsed().as_secs_f64());
        }
        response
    }

    /// Operations over WebSocket. Writes go over HTTP only, where the rate limits,
    /// timeouts and request ids apply; and a key is checked again before each
    /// operation, so one revoked while its connection stays open stops working.
    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let client = data_of::<Client>(&request.data)
            .or_else(|| session_data.as_deref().and_then(data_of::<Client>));
        let may_introspect = may_introspect(client);
        let caller = client.and_then(|c| c.caller.clone());
        let db = session_data
            .as_deref()
            .and_then(data_of::<sea_orm::DatabaseConnection>)
            .cloned();
        let mut request = match self.admit(request, may_introspect) {
            Ok(request) => request,
            Err(message) => return futures::stream::once(async move { refusal(message) }).boxed(),
        };
        if is_mutation(&mut request) {
            let message = "mutations are sent with POST /graphql, not over WebSocket";
            return futures::stream::once(async move { refused("BAD_REQUEST", message) }).boxed();
        }
        let schema = self.schema.clone();
        let session = session_data.unwrap_or_default();
        futures::stream::once(async move {
            if let (Some(caller), Some(db)) = (caller, db)
                && !crate::domain::auth::still_live(&db, &caller)
                    .await
                    .unwrap_or(false)
            {
                let message = "this key was revoked (or cannot be checked now)";
                return futures::stream::once(async move { refused("UNAUTHENTICATED", message) })
                    .boxed();
            }
            schema
                .execute_stream_with_session_data(request, session)
                .boxed()
        })
        .flatten()
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::graphql::{SchemaOptions, build_schema};

    async fn data(gate: &Gate, request: Request) -> serde_json::Value {
        let response = gate.execute(request).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        serde_json::to_value(&response.data).unwrap_or_default()
    }

    /// A document comes from the cache only for its own query text, and only once
    /// it has passed the limits: a refused one is refused every time.
    #[tokio::test]
    async fn cached_documents_answer_their_own_query_and_refusals_stay_refused() {
        let gate = Gate::new(build_schema(SchemaOptions::default()), Mode::Development);
        let flood: String = (0..31).map(|i| format!("a{i}: __typename ")).collect();
        let flood = format!("{{ {flood} }}");
        let both = "query A { a: __typename } query B { b: __typename }";
        for _ in 0..3 {
            let a = data(&gate, Request::new("{ a: __typename }")).await;
            assert_eq!(a, json!({ "a": "Query" }));
            let b = data(&gate, Request::new("{ b: __typename }")).await;
            assert_eq!(b, json!({ "b": "Query" }));
            let named = data(&gate, Request::new(both).operation_name("B")).await;
            assert_eq!(named, json!({ "b": "Query" }));
            let refused = gate.execute(Request::new(flood.as_str())).await;
            assert!(refused.errors[0].message.contains("aliases"), "{refused:?}");
        }
        assert_eq!(gate.passed().len(), 3, "the refused document is not kept");
        let padded = format!("# {}\n{{ c: __typename }}", "x".repeat(CACHED_BYTES));
        assert_eq!(
            data(&gate, Request::new(padded)).await,
            json!({ "c": "Query" })
        );
        assert_eq!(gate.passed().len(), 3, "a long query is answered, not kept");
    }
}
