//! monday's daily call limit, counted on the portal's side.
//!
//! monday caps API calls per account per day (200 on free and trial accounts, 1,000 on
//! Standard, 10,000 on Pro, 25,000 on Enterprise; reset at midnight UTC) and counts a request
//! that meets a rate limit as a tenth of a call. Once the cap is spent every call fails until the
//! reset, so the client counts what it sends and:
//!
//! - stops reads a little before the cap ([`READ_SHARE`]), keeping the rest of the day for the
//!   writes clients submitted (their tickets and replies);
//! - sends nothing at all once monday has said `DAILY_LIMIT_EXCEEDED`, until the wait monday
//!   asked for has passed (or midnight UTC when it did not say), instead of spending more calls
//!   on answers it already knows;
//! - tells the rest of the portal how much is left, so background reads slow down as the cap
//!   nears ([`CallBudget::background_allowed`]).

use std::sync::Mutex;
use std::time::Duration;

use time::{Date, OffsetDateTime, Time};

use crate::MondayError;

/// Reads stop once this share of the cap is used; the rest is kept for writes.
pub const READ_SHARE: f64 = 0.95;
/// Background reads (refreshing data webhooks already keep right) stop at this share.
pub const BACKGROUND_SHARE: f64 = 0.8;

/// The portal's count of today's monday calls against the configured daily cap.
pub struct CallBudget {
    limit: u32,
    state: Mutex<State>,
}

struct State {
    day: Date,
    /// Calls this process sent today, in tenths: a rate-limited answer costs one tenth.
    tenths: u64,
    /// Calls other instances (and earlier runs) sent today on the same account, in tenths, as
    /// last shared through the portal's database: monday counts per account.
    elsewhere: u64,
    /// monday said the day is spent: nothing is sent before this.
    spent_until: Option<OffsetDateTime>,
}

/// How the day's budget stands, for `/metrics`, `doctor` and the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetSnapshot {
    /// The UTC day counted, `2026-11-24`.
    pub day: String,
    pub calls: f64,
    pub limit: u32,
    pub remaining: f64,
    /// Set while monday's answer says the day is spent: when the portal will ask again.
    pub spent_until: Option<String>,
}

impl BudgetSnapshot {
    pub fn used_fraction(&self) -> f64 {
        if self.limit == 0 {
            return 1.0;
        }
        self.calls / f64::from(self.limit)
    }
}

fn next_midnight(now: OffsetDateTime) -> OffsetDateTime {
    let tomorrow = now.date().next_day().unwrap_or(now.date());
    tomorrow.with_time(Time::MIDNIGHT).assume_utc()
}

fn until(at: OffsetDateTime, now: OffsetDateTime) -> Duration {
    Duration::from_secs((at - now).whole_seconds().max(1) as u64)
}

impl CallBudget {
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            state: Mutex::new(State {
                day: OffsetDateTime::now_utc().date(),
                tenths: 0,
                elsewhere: 0,
                spent_until: None,
            }),
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn roll_over(state: &mut State, now: OffsetDateTime) {
        if state.day != now.date() {
            state.day = now.date();
            state.tenths = 0;
            state.elsewhere = 0;
        }
        if state.spent_until.is_some_and(|at| at <= now) {
            state.spent_until = None;
        }
    }

    /// The day, this process's own count in tenths, and when monday said the day is spent
    /// (Unix seconds), for sharing with other instances and keeping across restarts.
    pub fn usage(&self) -> (String, u64, Option<i64>) {
        let mut state = self.state();
        Self::roll_over(&mut state, OffsetDateTime::now_utc());
        (
            state.day.to_string(),
            state.tenths,
            state.spent_until.map(|at| at.unix_timestamp()),
        )
    }

    /// What the rest of the account spent on `day` (other instances, earlier runs), and when
    /// one of them heard that the day is spent. A count of another day is ignored.
    pub fn counted_elsewhere(&self, day: &str, tenths: u64, spent_until: Option<i64>) {
        let now = OffsetDateTime::now_utc();
        let mut state = self.state();
        Self::roll_over(&mut state, now);
        if state.day.to_string() != day {
            return;
        }
        state.elsewhere = tenths;
        let heard = spent_until
            .and_then(|at| OffsetDateTime::from_unix_timestamp(at).ok())
            .filter(|at| *at > now);
        if let Some(at) = heard
            && state.spent_until.is_none_or(|known| known < at)
        {
            state.spent_until = Some(at);
        }
    }

    pub fn snapshot(&self) -> BudgetSnapshot {
        self.snapshot_at(OffsetDateTime::now_utc())
    }

    fn snapshot_at(&self, now: OffsetDateTime) -> BudgetSnapshot {
        let mut state = self.state();
        Self::roll_over(&mut state, now);
        let calls = (state.tenths + state.elsewhere) as f64 / 10.0;
        BudgetSnapshot {
            day: state.day.to_string(),
            calls,
            limit: self.limit,
            remaining: (f64::from(self.limit) - calls).max(0.0),
            spent_until: state.spent_until.map(crate::format_utc),
        }
    }

    /// Whether refreshing data that webhooks already keep right is affordable now.
    pub fn background_allowed(&self) -> bool {
        let snapshot = self.snapshot();
        snapshot.spent_until.is_none() && snapshot.used_fraction() < BACKGROUND_SHARE
    }

    /// Whether monday has said the day is spent (and the wait it asked for has not passed).
    pub fn is_spent(&self) -> bool {
        self.snapshot().spent_until.is_some()
    }

    /// May a request be sent? Writes go on until monday itself says the day is spent.
    pub(crate) fn admit(&self, write: bool) -> Result<(), MondayError> {
        self.admit_at(write, OffsetDateTime::now_utc())
    }

    fn admit_at(&self, write: bool, now: OffsetDateTime) -> Result<(), MondayError> {
        let mut state = self.state();
        Self::roll_over(&mut state, now);
        if let Some(at) = state.spent_until {
            return Err(MondayError::DailyLimit {
                retry_in: Some(until(at, now)),
            });
        }
        let read_cap = (f64::from(self.limit) * READ_SHARE * 10.0) as u64;
        if !write && state.tenths + state.elsewhere >= read_cap {
            return Err(MondayError::DailyLimit {
                retry_in: Some(until(next_midnight(now), now)),
            });
        }
        Ok(())
    }

    /// Counts one request sent; `rate_limited` answers cost a tenth of a call, as monday
    /// counts them.
    pub(crate) fn record(&self, rate_limited: bool) {
        let mut state = self.state();
        Self::roll_over(&mut state, OffsetDateTime::now_utc());
        state.tenths += if rate_limited { 1 } else { 10 };
    }

    /// monday said the day is spent: send nothing until `retry_in` (or midnight UTC).
    pub(crate) fn spent(&self, retry_in: Option<Duration>) {
        self.spent_at(retry_in, OffsetDateTime::now_utc());
    }

    fn spent_at(&self, retry_in: Option<Duration>, now: OffsetDateTime) {
        let at = match retry_in {
            Some(wait) => now + wait,
            None => next_midnight(now),
        };
        let mut state = self.state();
        state.spent_until = Some(at);
        tracing::warn!(
            until = %crate::format_utc(at),
            "monday's daily call limit is spent: pages show saved data and the outbox waits"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: u8) -> OffsetDateTime {
        time::macros::datetime!(2026-11-24 00:00 UTC) + time::Duration::hours(hour.into())
    }

    fn budget(limit: u32, now: OffsetDateTime) -> CallBudget {
        let budget = CallBudget::new(limit);
        budget.state().day = now.date();
        budget
    }

    #[test]
    fn reads_stop_before_the_cap_and_writes_go_on() {
        let now = at(10);
        let budget = budget(100, now);
        for _ in 0..95 {
            assert!(budget.admit_at(false, now).is_ok());
            budget.state().tenths += 10;
        }
        assert!(matches!(
            budget.admit_at(false, now),
            Err(MondayError::DailyLimit { retry_in: Some(wait) }) if wait == Duration::from_secs(14 * 3600)
        ));
        assert!(
            budget.admit_at(true, now).is_ok(),
            "writes keep the reserve"
        );
    }

    #[test]
    fn once_monday_says_the_day_is_spent_nothing_is_sent_until_the_wait_passes() {
        let now = at(10);
        let budget = budget(1000, now);
        budget.spent_at(Some(Duration::from_secs(3599)), now);
        assert!(budget.admit_at(true, now).is_err(), "not even writes");
        assert!(
            budget
                .admit_at(true, now + time::Duration::seconds(3598))
                .is_err()
        );
        assert!(
            budget
                .admit_at(true, now + time::Duration::seconds(3600))
                .is_ok()
        );
        // Without a wait from monday: until midnight UTC.
        budget.spent_at(None, now);
        assert!(budget.admit_at(false, at(23)).is_err());
        assert!(budget.admit_at(false, at(24)).is_ok());
    }

    #[test]
    fn rate_limited_answers_cost_a_tenth_and_a_new_day_starts_at_zero() {
        let budget = CallBudget::new(1000);
        budget.record(false);
        budget.record(true);
        assert_eq!(budget.snapshot().calls, 1.1);
        let tomorrow = OffsetDateTime::now_utc() + time::Duration::days(1);
        assert_eq!(budget.snapshot_at(tomorrow).calls, 0.0);
    }

    #[test]
    fn calls_counted_elsewhere_add_up_only_for_today() {
        let budget = CallBudget::new(1000);
        budget.record(false);
        let (day, own, spent) = budget.usage();
        assert_eq!(
            (own, spent),
            (10, None),
            "usage is this process's own count"
        );
        budget.counted_elsewhere(&day, 4200, None);
        assert_eq!(budget.snapshot().calls, 421.0);
        budget.counted_elsewhere("2001-01-01", 9000, None);
        assert_eq!(budget.snapshot().calls, 421.0);
        assert!(budget.background_allowed());
        budget.counted_elsewhere(&day, 8000, None);
        assert!(
            !budget.background_allowed(),
            "80% used across the account: background reads stop"
        );
        assert_eq!(
            budget.usage().1,
            10,
            "the shared part is never saved back as ours"
        );
    }

    #[test]
    fn a_spent_day_heard_by_another_instance_stops_this_one() {
        let budget = CallBudget::new(1000);
        let (day, _, _) = budget.usage();
        let later = OffsetDateTime::now_utc().unix_timestamp() + 600;
        budget.counted_elsewhere(&day, 0, Some(later));
        assert!(budget.admit(true).is_err());
        assert_eq!(budget.usage().2, Some(later));
        let past = OffsetDateTime::now_utc().unix_timestamp() - 600;
        let fresh = CallBudget::new(1000);
        fresh.counted_elsewhere(&day, 0, Some(past));
        assert!(
            fresh.admit(true).is_ok(),
            "a wait that has passed is ignored"
        );
    }
}
