//! An Open Referral UK API read over HTTP: pages of `/services` and one service by
//! id, with timeouts, each request retried with growing waits while its failure may
//! pass (no answer, a timeout, 429 or a 5xx; a `Retry-After` is honoured).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::Value;
use url::Url;

/// The largest answer read: a page of 100 full services is a few hundred KB.
const MAX_BODY_BYTES: usize = 64 << 20;

/// Summaries read again by id at once.
const FULL_AT_ONCE: usize = 8;

/// The longest wait between two tries.
const MAX_WAIT: Duration = Duration::from_secs(300);

pub struct Client {
    http: reqwest::Client,
    base: String,
    retries: u32,
    backoff: Duration,
    /// Tries beyond the first, over every request.
    retried: AtomicU32,
}

/// One page of `/services`, its records full.
pub struct Page {
    /// The publisher's ids of the services the page lists.
    pub listed: Vec<String>,
    /// Full records (HSDS `service_full`).
    pub records: Vec<Value>,
    /// Listed services whose full record could not be read: (id, why).
    pub unreadable: Vec<(String, String)>,
    pub total_items: Option<u64>,
    /// The API said so, or its page count or an empty page did.
    pub last: bool,
}

/// Why a request failed, and whether trying again may help.
struct Failure {
    message: String,
    passing: bool,
}

impl Client {
    pub fn new(
        base: &str,
        timeout: Duration,
        retries: u32,
        backoff: Duration,
    ) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("signpost/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
        Ok(Self {
            http,
            base: base.to_string(),
            retries,
            backoff,
            retried: AtomicU32::new(0),
        })
    }

    pub fn retried(&self) -> u32 {
        self.retried.load(Ordering::Relaxed)
    }

    fn url(&self, segments: &[&str]) -> Result<Url, String> {
        let mut url = Url::parse(&self.base).map_err(|e| format!("{}: {e}", self.base))?;
        url.path_segments_mut()
            .map_err(|()| format!("{} cannot take a path", self.base))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// Page `page` (from 1) of `/services`, only those changed after `since` if given.
    pub async fn page(
        &self,
        page: u32,
        per_page: u32,
        since: Option<DateTime<Utc>>,
    ) -> Result<Page, String> {
        let mut url = self.url(&["services"])?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("page", &page.to_string());
            query.append_pair("per_page", &per_page.to_string());
            if let Some(since) = since {
                let since = since.to_rfc3339_opts(SecondsFormat::Secs, true);
                query.append_pair("modified_after", &since);
            }
        }
        let body = self
            .get(&url)
            .await?
            .ok_or_else(|| format!("{url}: 404 Not Found"))?;
        let Some(records) = body.get("contents").and_then(Value::as_array) else {
            return Err(format!(
                "{url}: not an Open Referral page (no `contents` list)"
            ));
        };
        let total_pages = body.get("total_pages").and_then(Value::as_u64);
        let last = body
            .get("last_page")
            .and_then(Value::as_bool)
            .or(total_pages.map(|pages| u64::from(page) >= pages))
            .unwrap_or(records.is_empty());
        let listed = records.iter().filter_map(super::source_id).collect();
        let (records, unreadable) = self.full(records.clone()).await;
        Ok(Page {
            last: last || (records.is_empty() && unreadable.is_empty()),
            listed,
            records,
            unreadable,
            total_items: body.get("total_items").and_then(Value::as_u64),
        })
    }

    /// The records made full. Open Referral UK lists services as summaries
    /// (`service_list`: no locations, schedules or costs); a summary is read again
    /// by id, a few at a time. Signpost's own list is full already.
    async fn full(&self, records: Vec<Value>) -> (Vec<Value>, Vec<(String, String)>) {
        let fetched: Vec<Result<Value, (String, String)>> = futures::stream::iter(records)
            .map(|record| async move {
                if record.get("service_at_locations").is_some() {
                    return Ok(record);
                }
                let Some(id) = super::source_id(&record) else {
                    // Without an id it cannot be read again: the importer names it.
                    return Ok(record);
                };
                match self.service(&id).await {
                    Ok(Some(full)) => Ok(full),
                    Ok(None) => Err((id, "listed, but reading it by id answers 404".into())),
                    Err(why) => Err((id, why)),
                }
            })
            .buffered(FULL_AT_ONCE)
            .collect()
            .await;
        let (mut records, mut unreadable) = (Vec::new(), Vec::new());
        for outcome in fetched {
            match outcome {
                Ok(record) => records.push(record),
                Err(failed) => unreadable.push(failed),
            }
        }
        (records, unreadable)
    }

    /// One service by the publisher's id; `None` when the API says it has none.
    pub async fn service(&self, source_id: &str) -> Result<Option<Value>, String> {
        let url = self.url(&["services", source_id])?;
        self.get(&url).await
    }

    /// GET as JSON, tried again while the failure may pass; `None` on 404.
    async fn get(&self, url: &Url) -> Result<Option<Value>, String> {
        let mut tries = 0;
        loop {
            let wait = match self.try_get(url).await {
                Ok(body) => return Ok(body),
                Err((failure, _)) if !failure.passing || tries >= self.retries => {
                    return Err(failure.message);
                }
                Err((failure, asked)) => {
                    let wait = asked.unwrap_or(self.backoff * 2u32.saturating_pow(tries));
                    tracing::warn!(%url, cause = %failure.message, wait_seconds = wait.as_secs_f64(), "feed request failed; trying again");
                    wait.min(MAX_WAIT)
                }
            };
            tokio::time::sleep(wait).await;
            tries += 1;
            self.retried.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One try: the body, or why not and how long the server asked us to wait.
    async fn try_get(&self, url: &Url) -> Result<Option<Value>, (Failure, Option<Duration>)> {
        let failed = |message: String, passing: bool| (Failure { message, passing }, None);
        let response = self
            .http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| failed(format!("{url}: {e}"), true))?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            let passing = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
            let asked = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let (failure, _) = failed(format!("{url}: {status}"), passing);
            return Err((failure, asked));
        }
        // A body cut short is worth another try; one too large or not JSON is not.
        let mut response = response;
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| failed(format!("{url}: {e}"), true))?
        {
            if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                let message = format!(
                    "{url}: answer larger than {MAX_BODY_BYTES} bytes (ask for smaller pages: --per-page)"
                );
                return Err(failed(message, false));
            }
            bytes.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| failed(format!("{url}: not JSON: {e}"), false))
    }
}
