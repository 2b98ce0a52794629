//! The GraphQL transport: one POST per request, typed errors, bounded retries, a cap on
//! concurrent requests and the day's call count. The token goes into one header and nowhere
//! else.
//!
//! [`classify_response`] turns whatever monday answers into data or a [`MondayError`]; the
//! README's table "monday's errors, as the portal reads them" lists every shape it knows (each
//! one a fixture in `tests/fixtures/`, tested against that table).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::budget::CallBudget;
use crate::{ClientOptions, MondayError, Token};

/// How hard to try before giving up on one logical request.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// The longest total time spent sleeping between attempts.
    pub max_total_wait: Duration,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_total_wait: Duration::from_secs(20),
            first_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// Whether a request may be sent again after a failure that might have reached monday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// Reads, and writes that set a value (sending them twice changes nothing).
    Safe,
    /// Creations: safe to resend only because they carry this `Idempotency-Key`.
    WithKey(uuid::Uuid),
}

/// A write's result field, and whether monday sent errors beside it (partial success: the
/// caller reads the result back instead of trusting it).
#[derive(Debug, Clone)]
pub struct Written<T> {
    pub value: T,
    pub with_errors: bool,
}

#[derive(Clone)]
pub struct GraphqlTransport {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    endpoint: String,
    token: Token,
    api_version: String,
    permits: Semaphore,
    policy: RetryPolicy,
    /// How long one request may take (a file's upload gets more, by its size).
    request_timeout: Duration,
    requests_sent: AtomicU64,
    budget: Arc<CallBudget>,
    /// When monday last answered, and whether that answer showed it working (anything but a
    /// 5xx, a bad token or no answer at all): readiness checks use it instead of a call.
    last_answer: std::sync::Mutex<Option<(std::time::Instant, bool)>>,
}

/// A file to send with a mutation (see [`GraphqlTransport::execute_file_write`]): its name and
/// type as the board should keep them, its length, and its bytes as a stream (never the whole
/// file in memory).
pub struct FileUpload {
    pub filename: String,
    pub content_type: String,
    pub len: u64,
    pub body: reqwest::Body,
}

/// What one answer from monday says: its data (also beside errors: monday answers partly) and
/// the error that matters most, if any.
#[derive(Debug, Clone)]
pub struct Classified {
    pub data: Option<Value>,
    pub error: Option<MondayError>,
    /// Root fields with an error *inside* them (a path longer than the field itself).
    pub inside: Vec<String>,
}

impl Classified {
    fn into_result(self) -> Result<Value, MondayError> {
        match (self.error, self.data) {
            (Some(error), _) => Err(error),
            (None, Some(data)) => Ok(data),
            (None, None) => Err(MondayError::Malformed("a response without data".into())),
        }
    }
}

impl GraphqlTransport {
    pub fn new(options: ClientOptions) -> Result<Self, MondayError> {
        let timeout = options.request_timeout;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5).min(timeout))
            .user_agent(concat!("client-portal/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| MondayError::Unreachable(format!("could not build HTTP client: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                endpoint: options.endpoint,
                token: options.token,
                api_version: options.api_version,
                permits: Semaphore::new(options.max_concurrency.max(1)),
                policy: options.retry,
                request_timeout: timeout,
                requests_sent: AtomicU64::new(0),
                budget: Arc::new(CallBudget::new(options.daily_call_limit)),
                last_answer: std::sync::Mutex::new(None),
            }),
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// HTTP requests sent to monday since start-up, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.inner.requests_sent.load(Ordering::Relaxed)
    }

    pub fn budget(&self) -> &Arc<CallBudget> {
        &self.inner.budget
    }

    /// Whether monday's last answer, if it came within `max_age`, showed it working.
    pub fn recently_working(&self, max_age: Duration) -> Option<bool> {
        let last = *self.inner.last_answer.lock().ok()?;
        last.filter(|(at, _)| at.elapsed() <= max_age)
            .map(|(_, working)| working)
    }

    fn note_answer(&self, working: bool) {
        if let Ok(mut last) = self.inner.last_answer.lock() {
            *last = Some((std::time::Instant::now(), working));
        }
    }

    /// Sends `query` with `variables`, retrying what is safe to retry within the policy. Any
    /// error in the answer fails the read, even beside data: monday's partial answers leave the
    /// failed fields null, which must never pass for "empty".
    pub async fn execute<T: DeserializeOwned>(
        &self,
        query: &str,
        variables: Value,
        replay: Replay,
    ) -> Result<T, MondayError> {
        let data = self
            .execute_with(query, &variables, replay, None)
            .await?
            .value;
        serde_json::from_value(data)
            .map_err(|e| MondayError::Malformed(format!("unexpected response shape: {e}")))
    }

    /// Sends a mutation whose result is the root field `field`. When monday answers with the
    /// result *and* errors (a partial success), the result is returned with `with_errors` set
    /// so the caller reads it back; when it answers a mutation with errors and no result for
    /// reasons that do not name the mutation, the error is [`MondayError::Uncertain`].
    pub async fn execute_write<T: DeserializeOwned>(
        &self,
        query: &str,
        variables: Value,
        replay: Replay,
        field: &str,
    ) -> Result<Written<Option<T>>, MondayError> {
        let written = self
            .execute_with(query, &variables, replay, Some(field))
            .await?;
        field_of(written, field)
    }

    /// Counts a request against the day's budget and waits for one of the concurrency permits.
    async fn admit(&self, write: bool) -> Result<tokio::sync::SemaphorePermit<'_>, MondayError> {
        self.inner.budget.admit(write)?;
        self.inner
            .permits
            .acquire()
            .await
            .map_err(|_| MondayError::Unreachable("the client is shutting down".into()))
    }

    async fn execute_with(
        &self,
        query: &str,
        variables: &Value,
        replay: Replay,
        write_field: Option<&str>,
    ) -> Result<Written<Value>, MondayError> {
        let policy = self.inner.policy;
        let mut waited = Duration::ZERO;
        let mut attempt: u32 = 0;
        loop {
            let error = match self.send_once(query, variables, replay).await {
                Ok(classified) => match judge(classified, write_field) {
                    Ok(written) => return Ok(written),
                    Err(error) => error,
                },
                Err(error) => error,
            };
            if !error.is_transient() || matches!(error, MondayError::DailyLimit { .. }) {
                return Err(error);
            }
            let wait = error.retry_in().unwrap_or_else(|| backoff(policy, attempt));
            if waited + wait > policy.max_total_wait {
                tracing::warn!(%error, attempt, "giving up on monday request");
                return Err(error);
            }
            tracing::info!(%error, attempt, wait_ms = wait.as_millis() as u64, "retrying monday request");
            tokio::time::sleep(wait).await;
            waited += wait;
            attempt += 1;
        }
    }

    async fn send_once(
        &self,
        query: &str,
        variables: &Value,
        replay: Replay,
    ) -> Result<Classified, MondayError> {
        let _permit = self
            .admit(query.trim_start().starts_with("mutation"))
            .await?;
        let mut request = self
            .inner
            .http
            .post(&self.inner.endpoint)
            .header("Authorization", self.inner.token.expose())
            .header("API-Version", &self.inner.api_version)
            .json(&json!({ "query": query, "variables": variables }));
        if let Replay::WithKey(key) = replay {
            request = request.header("Idempotency-Key", key.to_string());
        }
        self.inner.requests_sent.fetch_add(1, Ordering::Relaxed);
        self.receive(request.send().await).await
    }

    /// Sends a mutation with a file, once, as `multipart/form-data` on the `/file` endpoint
    /// beside the API's (monday: "requires a multipart form request"): the document in `query`,
    /// the variables with `"file": null`, a `map` naming the file part, and the file. A file
    /// *appends* on monday, so this is never retried here: only the caller, who can look at the
    /// board first, may send it again.
    pub async fn execute_file_write<T: DeserializeOwned>(
        &self,
        query: &str,
        variables: Value,
        file: FileUpload,
        field: &str,
    ) -> Result<Written<Option<T>>, MondayError> {
        let _permit = self.admit(true).await?;
        let mut variables = variables;
        if let Value::Object(map) = &mut variables {
            map.insert("file".into(), Value::Null);
        }
        let part = reqwest::multipart::Part::stream_with_length(file.body, file.len)
            .file_name(file.filename)
            .mime_str(&file.content_type)
            .map_err(|e| MondayError::Malformed(format!("the file's type is not valid: {e}")))?;
        let form = reqwest::multipart::Form::new()
            .text("query", query.to_owned())
            .text("variables", variables.to_string())
            .text("map", r#"{"file":["variables.file"]}"#)
            .part("file", part);
        // A large file takes longer to send than a query: a second more per megabyte.
        let timeout = self.inner.request_timeout + Duration::from_secs(file.len / 1_000_000);
        let request = self
            .inner
            .http
            .post(format!(
                "{}/file",
                self.inner.endpoint.trim_end_matches('/')
            ))
            .header("Authorization", self.inner.token.expose())
            .header("API-Version", &self.inner.api_version)
            .timeout(timeout)
            .multipart(form);
        self.inner.requests_sent.fetch_add(1, Ordering::Relaxed);
        let classified = self.receive(request.send().await).await?;
        field_of(judge(classified, Some(field))?, field)
    }

    /// Reads and classifies monday's answer, counting it against the day's budget.
    async fn receive(
        &self,
        sent: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<Classified, MondayError> {
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                let error = transport_error(error);
                // A request that never connected never reached monday and costs nothing.
                if !matches!(error, MondayError::Unreachable(_)) {
                    self.inner.budget.record(false);
                }
                self.note_answer(false);
                return Err(error);
            }
        };
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = response.bytes().await;
        let classified = match body {
            Ok(body) => classify_response(status.as_u16(), retry_after, &body),
            Err(error) => Classified {
                data: None,
                error: Some(transport_error(error)),
                inside: Vec::new(),
            },
        };
        let limited = matches!(
            classified.error,
            Some(MondayError::RateLimited { .. } | MondayError::DailyLimit { .. })
        );
        self.inner.budget.record(limited);
        if let Some(MondayError::DailyLimit { retry_in }) = &classified.error {
            self.inner.budget.spent(*retry_in);
        }
        self.note_answer(!matches!(
            classified.error,
            Some(
                MondayError::Server { .. }
                    | MondayError::Unauthorized
                    | MondayError::Malformed(_)
                    | MondayError::Interrupted(_)
            )
        ));
        Ok(classified)
    }
}

/// What an answer means for the caller: reads accept data only without errors; a write
/// accepts its result even beside errors (flagged, so the caller reads it back), and a write
/// whose result was lost to an error *inside* it (GraphQL nulls the result when a field of it
/// fails) is [`MondayError::Uncertain`]: it may have been done, and only looking can tell.
/// A write's answer as the mutation's own field, typed (`None` when monday gave none).
fn field_of<T: DeserializeOwned>(
    written: Written<Value>,
    field: &str,
) -> Result<Written<Option<T>>, MondayError> {
    let value = match written.value.get(field) {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            serde_json::from_value(value.clone())
                .map_err(|e| MondayError::Malformed(format!("unexpected response shape: {e}")))?,
        ),
    };
    Ok(Written {
        value,
        with_errors: written.with_errors,
    })
}

fn judge(classified: Classified, write_field: Option<&str>) -> Result<Written<Value>, MondayError> {
    if let (Some(field), Some(data)) = (write_field, &classified.data) {
        if data.get(field).is_some_and(|v| !v.is_null()) {
            if let Some(error) = &classified.error {
                tracing::warn!(%error, field, "monday answered a write with its result and errors; reading it back");
            }
            return Ok(Written {
                value: classified.data.unwrap_or_default(),
                with_errors: classified.error.is_some(),
            });
        }
        if classified.error.is_some() && classified.inside.iter().any(|f| f == field) {
            return Err(MondayError::Uncertain {
                code: classified
                    .error
                    .as_ref()
                    .map_or("", MondayError::kind)
                    .to_owned(),
            });
        }
    }
    classified.into_result().map(|value| Written {
        value,
        with_errors: false,
    })
}

fn backoff(policy: RetryPolicy, attempt: u32) -> Duration {
    let base = policy
        .first_backoff
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(policy.max_backoff);
    // Jitter spreads retries from many requests that failed together.
    let jitter = rand::thread_rng().gen_range(0..=base.as_millis() as u64 / 4 + 1);
    base + Duration::from_millis(jitter)
}

fn transport_error(error: reqwest::Error) -> MondayError {
    if error.is_timeout() {
        MondayError::Timeout
    } else if error.is_connect() {
        MondayError::Unreachable("connection refused or failed".into())
    } else if error.is_decode() || error.is_body() {
        MondayError::Interrupted("the response body could not be read".into())
    } else {
        // Strip the URL: it names the endpoint, which is fine, but keep messages uniform.
        MondayError::Interrupted(error.without_url().to_string())
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v: &HeaderValue| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

fn seconds(value: Option<&Value>) -> Option<Duration> {
    value
        .and_then(Value::as_f64)
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// The wait an error asks for: `retry_in_seconds` where monday puts it (in `extensions`, in
/// `error_data`), or the legacy message's "reset in N seconds".
fn retry_in_of(error: &Value, message: &str) -> Option<Duration> {
    let extensions = error.get("extensions");
    seconds(extensions.and_then(|e| e.get("retry_in_seconds")))
        .or_else(|| {
            seconds(
                extensions
                    .and_then(|e| e.get("error_data"))
                    .and_then(|d| d.get("retry_in_seconds")),
            )
        })
        .or_else(|| {
            seconds(
                error
                    .get("error_data")
                    .and_then(|d| d.get("retry_in_seconds")),
            )
        })
        .or_else(|| {
            let (_, rest) = message.split_once("reset in ")?;
            let number: String = rest.chars().take_while(char::is_ascii_digit).collect();
            number.parse().ok().map(Duration::from_secs)
        })
}

/// One error as monday wrote it: a GraphQL error object, or a bare string (the pre-2025 shape
/// put messages in `errors` as strings).
fn describe(error: &Value) -> (String, String, Option<u16>) {
    match error {
        Value::String(message) => (String::new(), message.clone(), None),
        _ => {
            let extensions = error.get("extensions");
            let code = extensions
                .and_then(|e| e.get("code"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let status = extensions
                .and_then(|e| e.get("status_code"))
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok());
            (code, message, status)
        }
    }
}

/// How much an error matters when an answer carries several: a spent day over a rate limit
/// over everything else, so the one that decides when to try again wins.
fn weight(error: &MondayError) -> u8 {
    match error {
        MondayError::DailyLimit { .. } => 0,
        MondayError::RateLimited { .. } => 1,
        MondayError::IdempotencyConflict { .. } => 2,
        MondayError::Unauthorized => 3,
        MondayError::Forbidden { .. } => 4,
        MondayError::CursorExpired => 5,
        MondayError::Server { .. } => 6,
        _ => 7,
    }
}

/// Turns one HTTP answer into data and the error that matters most. Pure, so every shape
/// monday is known to send is tested against it (`tests/contract/fixtures.rs`).
pub fn classify_response(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Classified {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let envelope: Option<Value> = serde_json::from_slice(body).ok();
    let data = envelope
        .as_ref()
        .and_then(|e| e.get("data"))
        .filter(|d| d.is_object())
        .cloned();
    let inside: Vec<String> = envelope
        .as_ref()
        .and_then(|e| e.get("errors"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|error| {
            let path = error.get("path")?.as_array()?;
            (path.len() > 1).then(|| path[0].as_str().map(str::to_owned))?
        })
        .collect();
    let answer = |data: Option<Value>, error: Option<MondayError>| Classified {
        data,
        error,
        inside: inside.clone(),
    };

    if let Some(envelope) = &envelope {
        let errors: Vec<&Value> = envelope
            .get("errors")
            .and_then(Value::as_array)
            .map(|e| e.iter().collect())
            .unwrap_or_default();
        let legacy_code = envelope.get("error_code").and_then(Value::as_str);
        let legacy_message = envelope.get("error_message").and_then(Value::as_str);
        let legacy_status = envelope
            .get("status_code")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok());
        // The legacy shape names its error at the top; its `errors` strings only repeat it.
        if legacy_code.is_some() || legacy_message.is_some() {
            let message = legacy_message
                .or_else(|| errors.first().and_then(|e| e.as_str()))
                .unwrap_or("")
                .to_owned();
            let retry_in = retry_in_of(envelope, &message).or(retry_after);
            let error = classify_code(
                legacy_code.unwrap_or(""),
                message,
                retry_in,
                status,
                legacy_status,
            );
            return answer(data, Some(error));
        }
        let worst = errors
            .iter()
            .map(|error| {
                let (code, message, body_status) = describe(error);
                let retry_in = retry_in_of(error, &message).or(retry_after);
                classify_code(&code, message, retry_in, status, body_status)
            })
            .min_by_key(weight);
        if let Some(error) = worst {
            return answer(data, Some(error));
        }
    }

    let error = match status {
        s if s.is_success() => None,
        StatusCode::UNAUTHORIZED => Some(MondayError::Unauthorized),
        StatusCode::FORBIDDEN => Some(MondayError::Forbidden {
            code: "HTTP_403".into(),
            message: "monday refused the token's user".into(),
        }),
        StatusCode::CONFLICT => Some(MondayError::IdempotencyConflict {
            retry_in: retry_after,
        }),
        StatusCode::TOO_MANY_REQUESTS => Some(MondayError::RateLimited {
            code: "HTTP_429".into(),
            retry_in: retry_after,
        }),
        s if s.is_server_error() => Some(MondayError::Server { status: s.as_u16() }),
        s => Some(MondayError::Api {
            code: format!("HTTP_{}", s.as_u16()),
            message: "monday refused the request".into(),
        }),
    };
    if error.is_some() {
        return answer(data, error);
    }
    match (envelope, data) {
        (Some(_), Some(data)) => answer(Some(data), None),
        (Some(_), None) => answer(
            None,
            Some(MondayError::Malformed("a response without data".into())),
        ),
        (None, _) => answer(
            None,
            Some(MondayError::Malformed("the response is not JSON".into())),
        ),
    }
}

/// Matches monday's error codes loosely: spellings differ between `COMPLEXITY_BUDGET_EXHAUSTED`
/// and `complexityBudgetExhausted`, `MAX_CONCURRENCY_EXCEEDED` and `maxConcurrencyExceeded`,
/// and new rate-limit codes keep appearing, so the HTTP status and the `status_code` monday
/// puts in the body count too.
fn classify_code(
    code: &str,
    message: String,
    retry_in: Option<Duration>,
    status: StatusCode,
    body_status: Option<u16>,
) -> MondayError {
    let key: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    let text = message.to_ascii_lowercase();
    let has = |part: &str| key.contains(part);
    let code = if code.is_empty() {
        // Validation errors and the oldest shapes carry no code, only a message.
        format!("HTTP_{}", status.as_u16())
    } else {
        code.to_owned()
    };

    if has("dailylimit") {
        return MondayError::DailyLimit { retry_in };
    }
    if has("idempotency") {
        return MondayError::IdempotencyConflict { retry_in };
    }
    let rate_limited = has("ratelimit")
        || has("toomanyrequests")
        || has("concurrency")
        || has("complexity")
        || has("budget")
        || has("fieldlimit")
        || has("temporarilyblocked")
        || body_status == Some(429)
        || status == StatusCode::TOO_MANY_REQUESTS
        || text.contains("rate limit");
    if rate_limited {
        return MondayError::RateLimited { code, retry_in };
    }
    // monday documents no code for an expired cursor; its message is what stays the same.
    if has("cursor") || (text.contains("cursor") && text.contains("expired")) {
        return MondayError::CursorExpired;
    }
    let ip_restricted = text.contains("ip is restricted");
    if !ip_restricted
        && (status == StatusCode::UNAUTHORIZED
            || key == "unauthenticated"
            || key == "notauthenticated")
    {
        return MondayError::Unauthorized;
    }
    // A user without access, not a bad token: `UserUnauthorizedException` (body status 403),
    // a field the user may not read (`UNAUTHORIZED`), an IP outside the account's allow-list.
    if ip_restricted
        || has("unauthorized")
        || has("accessdenied")
        || has("permission")
        || status == StatusCode::FORBIDDEN
        || body_status == Some(403)
    {
        return MondayError::Forbidden {
            code,
            message: truncate(&message, 300),
        };
    }
    if status.is_server_error()
        || has("internalservererror")
        || has("timeoutexceeded")
        || body_status.is_some_and(|s| s >= 500)
    {
        return MondayError::Server {
            status: status.as_u16().max(body_status.unwrap_or(500)).max(500),
        };
    }
    // 409 is monday's idempotency conflict whatever its body says (the body's code is not
    // documented); the one other 409 it documents is deleting a board's last group.
    if status == StatusCode::CONFLICT && !has("deletelastgroup") {
        return MondayError::IdempotencyConflict { retry_in };
    }
    MondayError::Api {
        code,
        message: truncate(&message, 300),
    }
}

fn truncate(value: &str, max_chars: usize) -> String {
    value.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_json(status: u16, body: &str) -> Result<Value, MondayError> {
        classify_response(status, None, body.as_bytes()).into_result()
    }

    #[test]
    fn errors_inside_a_200_are_errors_with_or_without_data() {
        let with_data = r#"{"data":{"boards":null},"errors":[{"message":"boom","extensions":{"code":"ColumnValueException"}}]}"#;
        assert!(matches!(
            classify_json(200, with_data),
            Err(MondayError::Api { code, .. }) if code == "ColumnValueException"
        ));
        let without_data = r#"{"errors":[{"message":"Complexity budget exhausted","extensions":{"code":"COMPLEXITY_BUDGET_EXHAUSTED","retry_in_seconds":7,"status_code":429}}]}"#;
        match classify_json(200, without_data) {
            Err(MondayError::RateLimited { retry_in, .. }) => {
                assert_eq!(retry_in, Some(Duration::from_secs(7)))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn codes_match_loosely() {
        for code in [
            "complexityBudgetExhausted",
            "maxConcurrencyExceeded",
            "IP_RATE_LIMIT_EXCEEDED",
            "rateLimitExceeded",
            "API_TEMPORARILY_BLOCKED",
            "tooManyRequests",
            "FIELD_LIMIT_EXCEEDED",
        ] {
            let body =
                format!(r#"{{"errors":[{{"message":"x","extensions":{{"code":"{code}"}}}}]}}"#);
            assert!(
                matches!(
                    classify_json(200, &body),
                    Err(MondayError::RateLimited { .. })
                ),
                "{code}"
            );
        }
        let cursor = r#"{"errors":[{"message":"CursorExpiredError","extensions":{"code":"CursorException"}}]}"#;
        assert!(matches!(
            classify_json(200, cursor),
            Err(MondayError::CursorExpired)
        ));
    }

    #[test]
    fn an_expired_cursor_is_recognised_by_its_message_whatever_its_code() {
        let body = r#"{"errors":[{"message":"The cursor provided for pagination has expired. Please use a new cursor.","extensions":{"code":"InvalidArgumentException"}}]}"#;
        assert!(matches!(
            classify_json(200, body),
            Err(MondayError::CursorExpired)
        ));
    }

    #[test]
    fn the_rate_limit_wins_over_other_errors_in_one_answer() {
        let body = r#"{"data":{"boards":[{"columns":null}]},"errors":[
            {"message":"Photo unavailable.","extensions":{"code":"ASSET_UNAVAILABLE"}},
            {"message":"Rate limit exceeded for board-columns","extensions":{"code":"tooManyRequests","status_code":400}}]}"#;
        let classified = classify_response(200, None, body.as_bytes());
        assert!(matches!(
            classified.error,
            Some(MondayError::RateLimited { retry_in: None, .. })
        ));
        assert!(classified.data.is_some(), "the partial data is kept");
    }

    #[test]
    fn transport_statuses() {
        assert!(matches!(
            classify_response(429, Some(Duration::from_secs(3)), b"rate limited").into_result(),
            Err(MondayError::RateLimited { retry_in: Some(d), .. }) if d == Duration::from_secs(3)
        ));
        assert!(matches!(
            classify_json(502, "<html>bad gateway</html>"),
            Err(MondayError::Server { status: 502 })
        ));
        assert!(matches!(
            classify_json(200, "{not json"),
            Err(MondayError::Malformed(_))
        ));
        assert!(matches!(
            classify_json(401, r#"{"errors":[{"message":"Not Authenticated"}]}"#),
            Err(MondayError::Unauthorized)
        ));
        assert!(matches!(
            classify_json(
                409,
                r#"{"errors":[{"message":"busy","extensions":{"code":"SOMETHING_NEW"}}]}"#
            ),
            Err(MondayError::IdempotencyConflict { .. })
        ));
        assert!(matches!(
            classify_json(409, "not even JSON"),
            Err(MondayError::IdempotencyConflict { .. })
        ));
    }
}
