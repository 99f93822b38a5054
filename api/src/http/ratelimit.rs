//! Who a request comes from, and how fast it may come (tower_governor). A caller with
//! an API key is limited per key (so a council's import tool has its own budget);
//! anyone else per client address, where X-Forwarded-For counts only when the peer
//! is a configured trusted proxy. Each client has its own bucket, so a noisy client
//! is refused with 429 and `Retry-After` without slowing anyone else.

use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::Response;
use governor::RateLimiter;
use governor::clock::{DefaultClock, QuantaInstant};
use governor::middleware::{NoOpMiddleware, RateLimitingMiddleware};
use governor::state::keyed::DefaultKeyedStateStore;
use ipnet::IpNet;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};

use super::Shape;

/// The client's address: the peer, or — when the peer is a trusted proxy — the
/// nearest address in X-Forwarded-For that is not itself a trusted proxy.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse().ok())
        .collect();
    // Walk from the proxy nearest us outwards; the first untrusted hop is the client
    // (anything further left was written by the client and proves nothing).
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .unwrap_or(peer)
}

/// A rate-limit bucket: an API key (by its public prefix) or a client address.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum ClientKey {
    Key(String),
    Address(IpAddr),
}

#[derive(Clone)]
pub struct ClientKeyExtractor {
    pub trusted: Arc<Vec<IpNet>>,
}

impl KeyExtractor for ClientKeyExtractor {
    type Key = ClientKey;

    fn extract<T>(&self, request: &Request<T>) -> Result<ClientKey, GovernorError> {
        let headers = request.headers();
        let key_prefix = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(crate::domain::auth::prefix_of);
        if let Some(prefix) = key_prefix {
            return Ok(ClientKey::Key(prefix.to_string()));
        }
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .ok_or(GovernorError::UnableToExtractKey)?;
        Ok(ClientKey::Address(client_address(
            peer,
            headers,
            &self.trusted,
        )))
    }
}

type Config = GovernorConfig<ClientKeyExtractor, NoOpMiddleware<QuantaInstant>>;
type Layer = GovernorLayer<ClientKeyExtractor, NoOpMiddleware<QuantaInstant>, axum::body::Body>;

/// The request limiter: `per_second` requests a second per client after a burst of
/// `burst`, one bucket per client whichever route it calls.
pub struct Limits(Arc<Config>);

impl Limits {
    /// None when `per_second` is 0 (limits off).
    pub fn new(per_second: u32, burst: u32, trusted: Arc<Vec<IpNet>>) -> Option<Self> {
        let per_second = NonZeroU32::new(per_second)?;
        let config = GovernorConfigBuilder::default()
            .period(Duration::from_secs(1) / per_second.get())
            .burst_size(burst.max(1))
            .key_extractor(ClientKeyExtractor { trusted })
            .finish()?;
        let config = Arc::new(config);
        forget_idle(config.limiter());
        Some(Self(config))
    }

    /// The limiter as a layer whose refusals take `shape`.
    pub fn layer(&self, shape: Shape) -> Layer {
        GovernorLayer::new(self.0.clone()).error_handler(move |error| refused(error, shape))
    }
}

/// Every minute, forget the clients idle long enough to have a full bucket again, so
/// many addresses or keys cannot grow a limiter without bound. Stops with the limiter.
pub fn forget_idle<K, M>(limiter: &Arc<RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, M>>)
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    M: RateLimitingMiddleware<QuantaInstant> + Send + Sync + 'static,
{
    let limiter = Arc::downgrade(limiter);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        every.tick().await;
        loop {
            every.tick().await;
            let Some(limiter) = limiter.upgrade() else {
                break;
            };
            limiter.retain_recent();
        }
    });
}

/// A refusal in the route's error shape: 429 with Retry-After for a client over its
/// limit; anything else the limiter cannot decide is a 500 we log.
fn refused(error: GovernorError, shape: Shape) -> Response {
    match error {
        GovernorError::TooManyRequests { wait_time, .. } => {
            let mut response = shape.refuse(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                &format!("too many requests; try again in {wait_time} s"),
                "-",
            );
            if let Ok(value) = header::HeaderValue::from_str(&wait_time.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        other => {
            tracing::error!(cause = ?other, "rate limiter could not place a request");
            shape.refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error",
                "-",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|_| unreachable!())
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(v) = value.parse() {
            headers.insert("x-forwarded-for", v);
        }
        headers
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap_or_else(|_| unreachable!())];
        let headers = forwarded("203.0.113.9");
        assert_eq!(
            client_address(ip("198.51.100.1"), &headers, &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(
            client_address(ip("10.1.2.3"), &headers, &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_nearest_untrusted_hop_is_the_client_and_a_spoofed_left_end_is_ignored() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap_or_else(|_| unreachable!())];
        let headers = forwarded("1.2.3.4, 203.0.113.9, 10.0.0.7");
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_address(ip("10.0.0.1"), &HeaderMap::new(), &trusted),
            ip("10.0.0.1")
        );
        assert_eq!(
            client_address(ip("10.0.0.1"), &forwarded("nonsense"), &trusted),
            ip("10.0.0.1")
        );
    }
}
