//! The benchmark's rows about monday's calls, the scarcest thing the portal spends (a Standard
//! plan has 1,000 a day): what a webhook costs the portal, by kind, and what a whole day of a
//! busy board costs, with its clients looking at their pages.
//!
//! The support team acts through the local board's control API (`POST /team`): in monday's web
//! interface, which fires webhooks and counts against no API limit. The portal's calls are its
//! own count (`portal_monday_requests_total` in `/metrics`).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The local board's control API, as the benchmark drives it.
pub struct Control {
    pub url: String,
    pub token: String,
    pub http: reqwest::Client,
}

impl Control {
    /// Does what the team would do in monday's web interface; returns the new id, if any.
    pub async fn team(&self, action: Value) -> Option<String> {
        let response = self
            .http
            .post(format!("{}/team", self.url))
            .header("Authorization", &self.token)
            .json(&action)
            .send()
            .await
            .ok()?;
        let body: Value = response.json().await.ok()?;
        body["id"].as_str().map(str::to_owned)
    }

    pub async fn stats(&self) -> Value {
        match self
            .http
            .get(format!("{}/stats", self.url))
            .header("Authorization", &self.token)
            .send()
            .await
        {
            Ok(response) => response.json().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        }
    }

    pub async fn set_limits(&self, limits: Value) {
        let _ = self
            .http
            .put(format!("{}/limits", self.url))
            .header("Authorization", &self.token)
            .json(&limits)
            .send()
            .await;
    }

    /// Waits until the board has delivered every webhook it fired (none for a second).
    pub async fn settled(&self) -> u64 {
        let mut last = u64::MAX;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            tokio::time::sleep(Duration::from_millis(1000)).await;
            let delivered = self.stats().await["webhooks_delivered"]
                .as_u64()
                .unwrap_or(0);
            if delivered == last || Instant::now() > deadline {
                // The portal answers a webhook at once and works after: let it finish.
                tokio::time::sleep(Duration::from_millis(500)).await;
                return delivered;
            }
            last = delivered;
        }
    }
}

/// A small deterministic generator: the run is the same every time.
pub struct Dice(u64);

impl Dice {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub fn below(&mut self, n: usize) -> usize {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }
}

/// The kinds of change a webhook reports, as the mixed runs use them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Change {
    Status,
    Priority,
    Rename,
    Create,
    Reply,
}

impl Change {
    pub const ALL: [Change; 5] = [
        Change::Status,
        Change::Priority,
        Change::Rename,
        Change::Create,
        Change::Reply,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Change::Status => "status",
            Change::Priority => "priority",
            Change::Rename => "rename",
            Change::Create => "create",
            Change::Reply => "reply",
        }
    }
}

/// Makes one change of `kind` as the team would: on a random ticket of `tickets`
/// (`(portal, item id)`), or a new item for a random portal.
pub async fn change(
    control: &Control,
    kind: Change,
    n: usize,
    tickets: &[(String, String)],
    dice: &mut Dice,
) {
    let (portal, item) = &tickets[dice.below(tickets.len())];
    let item_id: u64 = item.parse().unwrap_or_default();
    let action = match kind {
        Change::Status => {
            let label = ["Open", "In Progress", "Resolved", "Closed"][n % 4];
            json!({"action": "change_columns", "item_id": item_id, "column_values": {"status": {"label": label}}})
        }
        Change::Priority => {
            let label = ["Low", "Medium", "High", "Urgent"][n % 4];
            json!({"action": "change_columns", "item_id": item_id, "column_values": {"priority": {"label": label}}})
        }
        Change::Rename => {
            json!({"action": "change_columns", "item_id": item_id, "column_values": {"name": format!("{portal} renamed {n}")}})
        }
        Change::Create => {
            json!({"action": "create_item", "name": format!("{portal} new {n}"), "column_values": {
                "portal_id": portal, "status": {"label": "Open"}, "priority": {"label": "Medium"},
            }})
        }
        // Half public answers, half internal notes, as a team writes them.
        Change::Reply => {
            let body = if n.is_multiple_of(2) {
                format!("<p>@client We are on it ({n}).</p>")
            } else {
                format!("<p>Internal: checked the logs ({n}).</p>")
            };
            json!({"action": "create_update", "item_id": item_id, "body": body})
        }
    };
    control.team(action).await;
}
