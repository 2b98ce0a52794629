//! What a fresh local board holds: nothing but its users, an empty ticket board, the demo
//! agency's tickets ([`crate::demo`]), or a large generated board for the benchmark.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::LOCAL_BOARD_ID;
use crate::clock::format_utc;
use crate::demo::{TEAM, TICKETS};
use crate::store::{API_USER_ID, BoardError, Column, ColumnKind, Store};

/// What to put on a board that has never been started (`--seed` on the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seed {
    /// Users only: no board, as a new monday account (for `setup-board`).
    Nothing,
    /// The ticket board with its columns and no items.
    Empty,
    /// The ticket board with the demo agency's tickets.
    #[default]
    Demo,
    /// The ticket board with `tickets` tickets for each of `portals` portals named
    /// `bench_00`, `bench_01`, ...: the benchmark's board.
    Bench { portals: usize, tickets: usize },
}

impl FromStr for Seed {
    type Err = String;

    /// `nothing`, `empty`, `demo`, `bench:N` (N portals of 40 tickets) or `bench:NxM`.
    fn from_str(value: &str) -> Result<Self, String> {
        let expected = || format!("{value:?}: expected nothing, empty, demo, bench:N or bench:NxM");
        match value {
            "nothing" => Ok(Seed::Nothing),
            "empty" => Ok(Seed::Empty),
            "demo" => Ok(Seed::Demo),
            other => {
                let spec = other.strip_prefix("bench:").ok_or_else(expected)?;
                let (portals, tickets) = spec.split_once('x').unwrap_or((spec, "40"));
                let portals = portals.parse().map_err(|_| expected())?;
                let tickets = tickets.parse().map_err(|_| expected())?;
                Ok(Seed::Bench { portals, tickets })
            }
        }
    }
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seed::Nothing => f.write_str("nothing"),
            Seed::Empty => f.write_str("empty"),
            Seed::Demo => f.write_str("demo"),
            Seed::Bench { portals, tickets } => write!(f, "bench:{portals}x{tickets}"),
        }
    }
}

/// The `n`th generated ticket of `portal`: its item name and column values. Statuses cycle with
/// `n` and priorities in runs of four, so every filter has something to find.
pub fn generated_ticket(portal: &str, n: usize) -> (String, serde_json::Value) {
    let status = ["Open", "In Progress", "Resolved", "Closed"][n % 4];
    let priority = ["Low", "Medium", "High", "Urgent"][(n / 4) % 4];
    let email = format!("client@{portal}.example");
    let values = json!({
        "portal_id": portal,
        "description": {"text": format!("Generated ticket {n} of {portal}.")},
        "client_email": {"email": email, "text": email},
        "status": {"label": status},
        "priority": {"label": priority},
    });
    (format!("{portal} ticket {n}"), values)
}

/// The portal ids a benchmark board uses.
pub fn bench_portal_id(n: usize) -> String {
    format!("bench_{n:02}")
}

/// Applies `seed` unless the board was seeded before (its data survives restarts).
pub async fn apply(store: &Store, seed: Seed) -> Result<(), BoardError> {
    ensure_users(store).await?;
    match seed {
        Seed::Nothing => Ok(()),
        Seed::Empty => ensure_ticket_board(store).await,
        Seed::Demo => seed_demo(store).await,
        Seed::Bench { portals, tickets } => seed_bench(store, portals, tickets).await,
    }
}

pub async fn ensure_users(store: &Store) -> Result<(), BoardError> {
    if !store.snapshot().users.is_empty() {
        return Ok(());
    }
    store
        .mutate(|txn| {
            txn.add_user("Client Portal (API)", "portal@agency.example");
            for (name, email) in TEAM {
                txn.add_user(name, email);
            }
            Ok(())
        })
        .await
}

fn labels(names: &[&str]) -> BTreeMap<u32, String> {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| (i as u32, (*name).to_owned()))
        .collect()
}

pub fn ticket_columns() -> Vec<Column> {
    let column = |id: &str, title: &str, kind, labels| Column {
        id: id.into(),
        title: title.into(),
        kind,
        labels,
        deactivated: Default::default(),
    };
    vec![
        column(
            "description",
            "Description",
            ColumnKind::LongText,
            BTreeMap::new(),
        ),
        column("portal_id", "Portal ID", ColumnKind::Text, BTreeMap::new()),
        column(
            "client_email",
            "Client Email",
            ColumnKind::Email,
            BTreeMap::new(),
        ),
        column(
            "status",
            "Status",
            ColumnKind::Status,
            labels(&["Open", "In Progress", "Resolved", "Closed"]),
        ),
        column(
            "priority",
            "Priority",
            ColumnKind::Status,
            labels(&["Low", "Medium", "High", "Urgent"]),
        ),
        column(
            "rating",
            "Client Rating",
            ColumnKind::Status,
            labels(&["Good", "Not good"]),
        ),
    ]
}

/// Creates the ticket board with the seed's columns and no items, unless it exists.
pub async fn ensure_ticket_board(store: &Store) -> Result<(), BoardError> {
    let board_id: u64 = LOCAL_BOARD_ID.parse().unwrap_or_default();
    if store.snapshot().board(board_id).is_some() {
        return Ok(());
    }
    store
        .mutate(|txn| {
            txn.insert_board(
                board_id,
                "Client Support Tickets",
                "private",
                ticket_columns(),
            );
            Ok(())
        })
        .await
}

async fn seed_demo(store: &Store) -> Result<(), BoardError> {
    let board_id: u64 = LOCAL_BOARD_ID.parse().unwrap_or_default();
    if store.snapshot().board(board_id).is_some() {
        return Ok(());
    }
    let now = OffsetDateTime::now_utc();
    let team_ids: Vec<u64> = {
        let snap = store.snapshot();
        TEAM.iter()
            .filter_map(|(_, email)| {
                snap.users
                    .values()
                    .find(|u| u.email == *email)
                    .map(|u| u.id)
            })
            .collect()
    };
    store
        .mutate(|txn| {
            txn.insert_board(
                board_id,
                "Client Support Tickets",
                "private",
                ticket_columns(),
            );
            for demo in TICKETS {
                let created = now - Duration::days(demo.days_ago) - Duration::hours(2);
                let item = txn.create_item(
                    board_id,
                    demo.title,
                    Some(&json!({
                        "description": {"text": demo.description},
                        "portal_id": demo.portal,
                        "client_email": {"email": demo.email, "text": demo.email},
                        "status": {"label": demo.status},
                        "priority": {"label": demo.priority},
                    })),
                    false,
                    API_USER_ID,
                    Some(format_utc(created)),
                )?;
                for (member, body, days_after) in demo.updates {
                    let author = team_ids.get(*member).copied().unwrap_or(API_USER_ID);
                    let at = created + Duration::days(*days_after) + Duration::hours(1);
                    txn.create_update(item.id, body, author, Some(format_utc(at.min(now))))?;
                }
            }
            Ok(())
        })
        .await
}

async fn seed_bench(store: &Store, portals: usize, tickets: usize) -> Result<(), BoardError> {
    let board_id: u64 = LOCAL_BOARD_ID.parse().unwrap_or_default();
    if store.snapshot().board(board_id).is_some() {
        return Ok(());
    }
    store
        .mutate(move |txn| {
            txn.insert_board(
                board_id,
                "Client Support Tickets",
                "private",
                ticket_columns(),
            );
            for portal in (0..portals).map(bench_portal_id) {
                for n in 0..tickets {
                    let (name, values) = generated_ticket(&portal, n);
                    txn.create_item(board_id, &name, Some(&values), false, API_USER_ID, None)?;
                }
            }
            Ok(())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_parse_from_the_command_line() {
        assert_eq!("demo".parse(), Ok(Seed::Demo));
        assert_eq!("empty".parse(), Ok(Seed::Empty));
        assert_eq!(
            "bench:50".parse(),
            Ok(Seed::Bench {
                portals: 50,
                tickets: 40
            })
        );
        assert_eq!(
            "bench:3x7".parse(),
            Ok(Seed::Bench {
                portals: 3,
                tickets: 7
            })
        );
        assert!("bench:x".parse::<Seed>().is_err());
        assert!("lots".parse::<Seed>().is_err());
        assert_eq!(
            Seed::Bench {
                portals: 3,
                tickets: 7
            }
            .to_string(),
            "bench:3x7"
        );
    }
}
