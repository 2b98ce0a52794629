//! monday's call limits, enforced the way monday enforces them, per plan: calls a day (reset at
//! midnight UTC), calls a minute, concurrent requests and the complexity budget, each refused
//! with the body and status monday sends (`DAILY_LIMIT_EXCEEDED`, `MINUTE_RATE_LIMIT_EXCEEDED`,
//! `MAX_CONCURRENCY_EXCEEDED`: HTTP 429 with `retry_in_seconds`). A request refused by a limit
//! costs a tenth of a call, as monday counts it.
//!
//! The numbers are monday's (<https://developer.monday.com/api-reference/docs/rate-limits> and
//! the support article on API rate limits); where the two disagree (free accounts: 1,000 or 200
//! calls a day) the smaller one is used, so the local board is never more generous than monday.
//! Tests shorten the minute and the day and the waits; they never raise a limit above monday's
//! except through [`Limits::unlimited`], which only the benchmark's yardstick uses.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, Time};

/// A monday plan, whose limits the local board enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    /// Free and trial accounts: 200 calls a day (support article), 1M complexity a minute.
    Free,
    /// Standard and Basic: 1,000 calls a day.
    #[default]
    Standard,
    Pro,
    Enterprise,
}

impl Plan {
    pub fn limits(self) -> Limits {
        let (daily_calls, minute_calls, concurrency, complexity_per_minute) = match self {
            Plan::Free => (200, 1_000, 40, 1_000_000),
            Plan::Standard => (1_000, 1_000, 40, 10_000_000),
            Plan::Pro => (10_000, 2_500, 100, 10_000_000),
            Plan::Enterprise => (25_000, 5_000, 250, 10_000_000),
        };
        Limits {
            daily_calls,
            minute_calls,
            concurrency,
            complexity_per_minute,
            ..Limits::default()
        }
    }
}

impl FromStr for Plan {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        match value.to_ascii_lowercase().as_str() {
            "free" | "trial" => Ok(Plan::Free),
            "standard" | "basic" => Ok(Plan::Standard),
            "pro" => Ok(Plan::Pro),
            "enterprise" => Ok(Plan::Enterprise),
            other => Err(format!(
                "{other:?}: expected free, standard, pro or enterprise"
            )),
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Plan::Free => "free",
            Plan::Standard => "standard",
            Plan::Pro => "pro",
            Plan::Enterprise => "enterprise",
        })
    }
}

/// The limits in force; switchable while the board runs (tests, the console, `PUT /limits`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    pub daily_calls: u32,
    pub minute_calls: u32,
    pub concurrency: u32,
    pub complexity_per_minute: i64,
    /// The length of monday's minute (tests shorten it).
    pub minute_seconds: u64,
    /// The length of a day; `None`: the UTC day, reset at midnight as monday resets it.
    pub day_seconds: Option<u64>,
    /// The wait a daily-limit answer asks for: 3599 in monday's captured answer (not the time
    /// to midnight), and never past the end of the day.
    pub daily_retry_in_seconds: u64,
    /// The wait a concurrency answer asks for: 15 in monday's captured answer.
    pub concurrency_retry_in_seconds: u64,
    /// How long an `Idempotency-Key`'s answer is replayed: 30 minutes on monday.
    pub idempotency_window_seconds: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            daily_calls: 1_000,
            minute_calls: 1_000,
            concurrency: 40,
            complexity_per_minute: 10_000_000,
            minute_seconds: 60,
            day_seconds: None,
            daily_retry_in_seconds: 3599,
            concurrency_retry_in_seconds: 15,
            idempotency_window_seconds: 30 * 60,
        }
    }
}

impl Limits {
    /// No call limits at all: more generous than any monday plan. Only for measuring the
    /// original design's best case (the benchmark's yardstick), never for testing the portal.
    pub fn unlimited() -> Self {
        Self {
            daily_calls: u32::MAX,
            minute_calls: u32::MAX,
            concurrency: u32::MAX,
            complexity_per_minute: i64::MAX / 2,
            ..Self::default()
        }
    }
}

/// Why a request is refused before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Minute { retry_in_seconds: u64 },
    Daily { retry_in_seconds: u64 },
}

/// The counts behind the minute and daily limits.
pub(crate) struct Counters {
    started: Instant,
    minute_start: Instant,
    minute_count: u32,
    day: u64,
    day_tenths: u64,
}

fn ceil_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

impl Counters {
    pub fn new() -> Self {
        let now = Instant::now();
        Self {
            started: now,
            minute_start: now,
            minute_count: 0,
            day: 0,
            day_tenths: 0,
        }
    }

    /// The current day's number and the time left in it.
    fn day_of(&self, limits: &Limits) -> (u64, Duration) {
        match limits.day_seconds {
            Some(length) => {
                let length = Duration::from_secs(length.max(1));
                let elapsed = self.started.elapsed();
                let day = (elapsed.as_nanos() / length.as_nanos()) as u64;
                let into = elapsed.as_nanos() % length.as_nanos();
                (day, length - Duration::from_nanos(into as u64))
            }
            None => {
                let now = OffsetDateTime::now_utc();
                let midnight = now
                    .date()
                    .next_day()
                    .unwrap_or(now.date())
                    .with_time(Time::MIDNIGHT)
                    .assume_utc();
                let left = (midnight - now).unsigned_abs();
                (now.date().to_julian_day() as u64, left)
            }
        }
    }

    fn roll(&mut self, limits: &Limits) -> Duration {
        let (day, left) = self.day_of(limits);
        if day != self.day {
            self.day = day;
            self.day_tenths = 0;
        }
        if self.minute_start.elapsed() >= Duration::from_secs(limits.minute_seconds.max(1)) {
            self.minute_start = Instant::now();
            self.minute_count = 0;
        }
        left
    }

    /// Counts one request and says whether a limit refuses it. A refused request costs a
    /// tenth of a call; an accepted one a whole call.
    pub fn admit(&mut self, limits: &Limits) -> Result<(), Refusal> {
        let day_left = self.roll(limits);
        self.minute_count = self.minute_count.saturating_add(1);
        if self.day_tenths >= u64::from(limits.daily_calls) * 10 {
            self.day_tenths += 1;
            let wait = limits
                .daily_retry_in_seconds
                .min(ceil_seconds(day_left))
                .max(1);
            return Err(Refusal::Daily {
                retry_in_seconds: wait,
            });
        }
        if self.minute_count > limits.minute_calls {
            self.day_tenths += 1;
            let window = Duration::from_secs(limits.minute_seconds.max(1));
            let left = window.saturating_sub(self.minute_start.elapsed());
            return Err(Refusal::Minute {
                retry_in_seconds: ceil_seconds(left).max(1),
            });
        }
        self.day_tenths += 10;
        Ok(())
    }

    /// A request refused for another reason (concurrency, complexity) costs a tenth.
    pub fn refused_elsewhere(&mut self, limits: &Limits) {
        self.roll(limits);
        self.day_tenths += 1;
    }

    pub fn daily_tenths(&mut self, limits: &Limits) -> u64 {
        self.roll(limits);
        self.day_tenths
    }

    /// A new day begins now (the console's "new day", tests).
    pub fn new_day(&mut self) {
        self.day_tenths = 0;
        self.minute_count = 0;
        self.minute_start = Instant::now();
    }

    /// Today's calls are all spent (the console's "spend the day").
    pub fn spend_day(&mut self, limits: &Limits) {
        self.roll(limits);
        self.day_tenths = u64::from(limits.daily_calls) * 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_have_mondays_numbers_and_parse() {
        assert_eq!(Plan::Standard.limits().daily_calls, 1_000);
        assert_eq!(Plan::Free.limits().daily_calls, 200);
        assert_eq!(Plan::Pro.limits().minute_calls, 2_500);
        assert_eq!(Plan::Enterprise.limits().concurrency, 250);
        assert_eq!("pro".parse(), Ok(Plan::Pro));
        assert!("gold".parse::<Plan>().is_err());
    }

    #[test]
    fn the_minute_and_the_day_run_out_and_refusals_cost_a_tenth() {
        let limits = Limits {
            daily_calls: 5,
            minute_calls: 3,
            minute_seconds: 3600,
            ..Limits::default()
        };
        let mut counters = Counters::new();
        for _ in 0..3 {
            assert!(counters.admit(&limits).is_ok());
        }
        assert!(matches!(
            counters.admit(&limits),
            Err(Refusal::Minute { retry_in_seconds }) if retry_in_seconds > 3500
        ));
        assert_eq!(counters.daily_tenths(&limits), 31);
        counters.new_day();
        counters.spend_day(&limits);
        assert!(matches!(
            counters.admit(&limits),
            Err(Refusal::Daily {
                retry_in_seconds: 3599
            }) | Err(Refusal::Daily { .. })
        ));
    }

    #[test]
    fn a_short_day_ends_and_its_wait_never_passes_the_end_of_the_day() {
        let limits = Limits {
            daily_calls: 1,
            day_seconds: Some(2),
            ..Limits::default()
        };
        let mut counters = Counters::new();
        assert!(counters.admit(&limits).is_ok());
        match counters.admit(&limits) {
            Err(Refusal::Daily { retry_in_seconds }) => assert!(retry_in_seconds <= 2),
            other => panic!("{other:?}"),
        }
        std::thread::sleep(Duration::from_millis(2100));
        assert!(counters.admit(&limits).is_ok(), "a new day");
    }
}
