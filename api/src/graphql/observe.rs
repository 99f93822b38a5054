//! Two things every operation passes through: in production mode, introspection is
//! answered only for analyst and admin keys (the SDL is published in the repository
//! for everyone else); and each executed operation is named in the request's log
//! span and timed into the metrics.

use std::sync::Arc;
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest,
};
use async_graphql::{Request, Response, ServerResult};

use crate::config::Mode;
use crate::domain::codes::Role;
use crate::graphql::Client;
use crate::metrics::Metrics;

pub struct Observe;

impl ExtensionFactory for Observe {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ObserveExtension)
    }
}

struct ObserveExtension;

/// The client, from the request's data (HTTP) or the connection's (WebSocket).
fn client<'a>(ctx: &'a ExtensionContext<'_>, request: &'a Request) -> Option<&'a Client> {
    request
        .data
        .get(&std::any::TypeId::of::<Client>())
        .and_then(|data| data.downcast_ref::<Client>())
        .or_else(|| ctx.data_opt::<Client>())
}

#[async_trait::async_trait]
impl Extension for ObserveExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let production = ctx.data_opt::<Mode>() != Some(&Mode::Development);
        let may_introspect = client(ctx, &request)
            .and_then(|c| c.caller.as_ref())
            .is_some_and(|caller| matches!(caller.role, Role::Analyst | Role::Admin));
        let request = if production && !may_introspect {
            request.disable_introspection()
        } else {
            request
        };
        next.run(ctx, request).await
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let started = Instant::now();
        tracing::Span::current().record("operation", operation_name.unwrap_or("-"));
        let response = next.run(ctx, operation_name).await;
        if let Some(metrics) = ctx.data_opt::<Arc<Metrics>>() {
            metrics.operation(operation_name, started.elapsed().as_secs_f64());
        }
        response
    }
}
