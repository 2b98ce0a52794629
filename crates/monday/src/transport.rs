//! The GraphQL transport: one POST per request, typed errors, bounded retries and a cap on
//! concurrent requests. The token goes into one header and nowhere else.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

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
    requests_sent: AtomicU64,
}

#[derive(Deserialize)]
struct Envelope {
    data: Option<Value>,
    #[serde(default)]
    errors: Vec<GraphqlError>,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
}

#[derive(Deserialize, Debug)]
struct GraphqlError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    extensions: Option<Value>,
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
                requests_sent: AtomicU64::new(0),
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

    /// Sends `query` with `variables`, retrying what is safe to retry within the policy.
    pub async fn execute<T: DeserializeOwned>(
        &self,
        query: &str,
        variables: Value,
        replay: Replay,
    ) -> Result<T, MondayError> {
        let policy = self.inner.policy;
        let mut waited = Duration::ZERO;
        let mut attempt: u32 = 0;
        loop {
            let error = match self.send_once(query, &variables, replay).await {
                Ok(data) => {
                    return serde_json::from_value(data).map_err(|e| {
                        MondayError::Malformed(format!("unexpected response shape: {e}"))
                    });
                }
                Err(error) => error,
            };
            if !error.is_transient() {
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
    ) -> Result<Value, MondayError> {
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| MondayError::Unreachable("the client is shutting down".into()))?;
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
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = response.bytes().await.map_err(transport_error)?;
        classify(status, retry_after, &body)
    }
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
        MondayError::Malformed("the response body could not be read".into())
    } else {
        // Strip the URL: it names the endpoint, which is fine, but keep messages uniform.
        MondayError::Unreachable(error.without_url().to_string())
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v: &HeaderValue| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// Turns one HTTP response into data or a typed error.
fn classify(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<Value, MondayError> {
    let envelope: Option<Envelope> = serde_json::from_slice(body).ok();

    if let Some(envelope) = &envelope {
        if let Some(error) = envelope.errors.first() {
            return Err(classify_graphql_error(error, status, retry_after));
        }
        // monday's older error shape: {"error_code": ..., "error_message": ...}
        if let Some(code) = &envelope.error_code {
            let message = envelope.error_message.clone().unwrap_or_default();
            return Err(classify_code(code, message, None, status, retry_after));
        }
    }

    match status {
        s if s.is_success() => {}
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => return Err(MondayError::Unauthorized),
        StatusCode::TOO_MANY_REQUESTS => {
            return Err(MondayError::RateLimited {
                code: "HTTP_429".into(),
                retry_in: retry_after,
            });
        }
        s if s.is_server_error() => {
            return Err(MondayError::Server { status: s.as_u16() });
        }
        s => {
            return Err(MondayError::Api {
                code: format!("HTTP_{}", s.as_u16()),
                message: "monday refused the request".into(),
            });
        }
    }

    match envelope {
        Some(Envelope {
            data: Some(data), ..
        }) => Ok(data),
        Some(_) => Err(MondayError::Malformed("a response without data".into())),
        None => Err(MondayError::Malformed("the response is not JSON".into())),
    }
}

fn classify_graphql_error(
    error: &GraphqlError,
    status: StatusCode,
    retry_after: Option<Duration>,
) -> MondayError {
    let extensions = error.extensions.as_ref();
    let code = extensions
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let retry_in = extensions
        .and_then(|e| {
            e.get("retry_in_seconds")
                .or_else(|| e.get("error_data").and_then(|d| d.get("retry_in_seconds")))
        })
        .and_then(Value::as_f64)
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .or(retry_after);
    let code = if code.is_empty() {
        // Validation errors from monday carry no code but a recognisable message.
        "GRAPHQL_ERROR".to_owned()
    } else {
        code
    };
    classify_code(&code, error.message.clone(), retry_in, status, retry_after)
}

/// Matches monday's error codes loosely: spellings differ between `COMPLEXITY_BUDGET_EXHAUSTED`
/// and `complexityBudgetExhausted`, and new rate-limit codes keep appearing.
fn classify_code(
    code: &str,
    message: String,
    retry_in: Option<Duration>,
    status: StatusCode,
    retry_after: Option<Duration>,
) -> MondayError {
    let key: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    let retry_in = retry_in.or(retry_after);
    let rate_limited = key.contains("complexity")
        || key.contains("ratelimit")
        || key.contains("concurrency")
        || key.contains("dailylimit")
        || key.contains("temporarilyblocked")
        || key.contains("budget")
        || status == StatusCode::TOO_MANY_REQUESTS;
    if key.contains("idempotency") {
        MondayError::IdempotencyConflict { retry_in }
    } else if rate_limited {
        MondayError::RateLimited {
            code: code.to_owned(),
            retry_in,
        }
    } else if key.contains("cursor") {
        MondayError::CursorExpired
    } else if key.contains("unauthorized")
        || key.contains("notauthenticated")
        || key.contains("unauthenticated")
        || status == StatusCode::UNAUTHORIZED
    {
        MondayError::Unauthorized
    } else if status.is_server_error() || key.contains("internalservererror") {
        MondayError::Server {
            status: status.as_u16().max(500),
        }
    } else {
        MondayError::Api {
            code: code.to_owned(),
            message: truncate(&message, 300),
        }
    }
}

fn truncate(value: &str, max_chars: usize) -> String {
    value.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_json(status: u16, body: &str) -> Result<Value, MondayError> {
        classify(StatusCode::from_u16(status).unwrap(), None, body.as_bytes())
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
            "DAILY_LIMIT_EXCEEDED",
            "rateLimitExceeded",
            "API_TEMPORARILY_BLOCKED",
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
    fn transport_statuses() {
        assert!(matches!(
            classify(
                StatusCode::TOO_MANY_REQUESTS,
                Some(Duration::from_secs(3)),
                b"rate limited"
            ),
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
    }
}
