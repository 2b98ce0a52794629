//! The production monday client against the local board over HTTP: pagination with the
//! filter on the board's side, writes read back, and every injected fault.

use std::time::{Duration, Instant};

use client_portal::model::{NewTicket, Priority, Status};
use monday::MondayError;
use monday_local::store::API_USER_ID;
use monday_local::{Failure, Faults};
use serde_json::json;

use crate::helpers::{TestBoard, spawn_board};

async fn add_tickets(board: &TestBoard, portal: &str, count: usize) {
    let board_id = board.board.board_id();
    board
        .board
        .store()
        .mutate(|txn| {
            for n in 0..count {
                txn.create_item(
                    board_id,
                    &format!("{portal} ticket {n}"),
                    Some(&json!({
                        "portal_id": portal,
                        "description": {"text": format!("about {n}")},
                        "status": {"label": "Open"},
                        "priority": {"label": "Low"},
                    })),
                    false,
                    API_USER_ID,
                    None,
                )?;
            }
            Ok(())
        })
        .await
        .expect("items");
}

fn failing(failure: Failure, remaining: Option<u32>) -> Faults {
    Faults {
        failure: Some(failure),
        remaining,
        ..Faults::default()
    }
}

#[tokio::test]
async fn paginates_1200_items_with_the_filter_on_the_boards_side() {
    let board = spawn_board().await;
    add_tickets(&board, "big", 1200).await;
    add_tickets(&board, "other", 300).await;
    let client = board.client(&[]).await;
    let before = board.board.stats();

    let tickets = client.portal_tickets("big").await.expect("tickets");

    assert_eq!(tickets.len(), 1200);
    assert!(tickets.iter().all(|t| t.portal_id == "big"));
    let mut ids: Vec<&str> = tickets.iter().map(|t| t.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 1200, "no duplicates across pages");
    let after = board.board.stats();
    assert_eq!(after.requests - before.requests, 3, "500 + 500 + 200");
    assert_eq!(
        after.items_returned - before.items_returned,
        1200,
        "the board never sent the other portal's 300 items"
    );
}

#[tokio::test]
async fn creates_a_ticket_and_reads_it_back_with_updates() {
    let board = spawn_board().await;
    let client = board.client(&[]).await;
    let new = NewTicket::validate("Email not working", "Line one\nLine \"two\"", "urgent").unwrap();
    let created = client
        .create_ticket(
            "acme",
            "a@acme.test",
            &new,
            "cp00000000000000000000000000000001",
            uuid::Uuid::new_v4(),
        )
        .await
        .expect("created");
    assert_eq!(created.title, "Email not working");
    assert_eq!(created.status, Status::Open);
    assert_eq!(created.priority, Priority::Urgent);
    assert_eq!(created.portal_id, "acme");
    assert_eq!(created.description, "Line one\nLine \"two\"");
    assert_eq!(created.client_email.as_deref(), Some("a@acme.test"));

    let update = client
        .add_update(
            &created.id,
            "<p>Hello from the client</p>",
            uuid::Uuid::new_v4(),
        )
        .await
        .expect("update");
    let item = client
        .item_with_updates(&created.id)
        .await
        .expect("read")
        .expect("exists");
    let updates = item.updates.expect("updates were asked for");
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].id, update.id);
    assert_eq!(
        updates[0].text_body.as_deref(),
        Some("Hello from the client")
    );

    let changed = client
        .change_columns(&created.id, json!({"status": {"label": "Resolved"}}))
        .await
        .expect("changed");
    assert_eq!(changed.status, Status::Resolved);

    assert!(client.item("999999999999").await.unwrap().is_none());
    assert!(client.item("not-a-number").await.unwrap().is_none());
}

#[tokio::test]
async fn the_same_idempotency_key_creates_one_item() {
    let board = spawn_board().await;
    let client = board.client(&[]).await;
    let new = NewTicket::validate("Once", "", "low").unwrap();
    let key = uuid::Uuid::new_v4();
    let first = client
        .create_ticket(
            "p",
            "a@p.test",
            &new,
            "cp00000000000000000000000000000002",
            key,
        )
        .await
        .unwrap();
    let second = client
        .create_ticket(
            "p",
            "a@p.test",
            &new,
            "cp00000000000000000000000000000002",
            key,
        )
        .await
        .unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(client.portal_tickets("p").await.unwrap().len(), 1);
}

#[tokio::test]
async fn rate_limits_are_retried_after_the_wait_monday_asks_for() {
    let board = spawn_board().await;
    add_tickets(&board, "p", 3).await;
    let client = board.client(&[]).await;
    board
        .board
        .set_faults(failing(
            Failure::RateLimited {
                retry_in_seconds: 1,
            },
            Some(1),
        ))
        .await
        .unwrap();
    let started = Instant::now();
    let tickets = client.portal_tickets("p").await.expect("retried");
    assert_eq!(tickets.len(), 3);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "honoured retry_in_seconds"
    );
}

#[tokio::test]
async fn an_exhausted_complexity_budget_is_retried_then_reported() {
    let board = spawn_board().await;
    add_tickets(&board, "p", 2).await;
    let client = board.client(&[]).await;
    board
        .board
        .set_faults(failing(
            Failure::ComplexityExhausted {
                retry_in_seconds: 1,
            },
            Some(1),
        ))
        .await
        .unwrap();
    assert_eq!(client.portal_tickets("p").await.expect("retried").len(), 2);

    // Longer than the client's total wait: it gives up with the typed error.
    board
        .board
        .set_faults(failing(
            Failure::ComplexityExhausted {
                retry_in_seconds: 30,
            },
            None,
        ))
        .await
        .unwrap();
    match client.portal_tickets("p").await {
        Err(MondayError::RateLimited { code, retry_in }) => {
            assert_eq!(code, "COMPLEXITY_BUDGET_EXHAUSTED");
            assert_eq!(retry_in, Some(Duration::from_secs(30)));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn server_errors_and_malformed_json_are_retried_then_typed() {
    let board = spawn_board().await;
    add_tickets(&board, "p", 1).await;
    let client = board.client(&[]).await;

    board
        .board
        .set_faults(failing(Failure::ServerError, Some(2)))
        .await
        .unwrap();
    assert_eq!(client.portal_tickets("p").await.expect("retried").len(), 1);

    board
        .board
        .set_faults(failing(Failure::ServerError, None))
        .await
        .unwrap();
    assert!(matches!(
        client.portal_tickets("p").await,
        Err(MondayError::Server { status: 500 })
    ));

    board
        .board
        .set_faults(failing(Failure::MalformedJson, None))
        .await
        .unwrap();
    assert!(matches!(
        client.portal_tickets("p").await,
        Err(MondayError::Malformed(_))
    ));
}

#[tokio::test]
async fn an_expired_cursor_restarts_the_walk_once() {
    let board = spawn_board().await;
    add_tickets(&board, "p", 700).await;
    let client = board.client(&[]).await;

    board
        .board
        .set_faults(failing(Failure::ExpiredCursor, Some(1)))
        .await
        .unwrap();
    let before = board.board.stats().requests;
    assert_eq!(
        client.portal_tickets("p").await.expect("restarted").len(),
        700
    );
    assert_eq!(
        board.board.stats().requests - before,
        4,
        "page 1, expired page 2, page 1, page 2"
    );

    board
        .board
        .set_faults(failing(Failure::ExpiredCursor, Some(2)))
        .await
        .unwrap();
    assert!(matches!(
        client.portal_tickets("p").await,
        Err(MondayError::CursorExpired)
    ));
}

#[tokio::test]
async fn a_board_that_is_down_is_unreachable_and_comes_back() {
    let board = spawn_board().await;
    add_tickets(&board, "p", 1).await;
    let client = board.client(&[]).await;
    assert_eq!(client.portal_tickets("p").await.unwrap().len(), 1);

    board
        .board
        .set_faults(failing(Failure::Down, None))
        .await
        .unwrap();
    assert!(matches!(
        client.portal_tickets("p").await,
        Err(MondayError::Unreachable(_))
    ));

    board.board.clear_faults().await.unwrap();
    assert_eq!(client.portal_tickets("p").await.expect("back up").len(), 1);
}

#[tokio::test]
async fn slow_answers_time_out() {
    let board = spawn_board().await;
    let client = board
        .client(&[
            ("MONDAY_TIMEOUT_SECONDS", "1"),
            ("MONDAY_MAX_RETRY_WAIT_SECONDS", "0"),
        ])
        .await;
    board
        .board
        .set_faults(Faults {
            latency_ms: 1500,
            ..Faults::default()
        })
        .await
        .unwrap();
    assert!(matches!(client.ping().await, Err(MondayError::Timeout)));
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_never_echoed() {
    let board = spawn_board().await;
    let client = board
        .client(&[("MONDAY_API_TOKEN", "wrong-token-value-123")])
        .await;
    let error = client.ping().await.expect_err("refused");
    assert!(matches!(error, MondayError::Unauthorized));
    assert!(!format!("{error} {error:?}").contains("wrong-token-value-123"));
}

#[tokio::test]
async fn application_errors_are_typed_not_retried() {
    let board = spawn_board().await;
    let client = board.client(&[("MONDAY_STATUS_LABELS", "Nope=open")]).await;
    let new = NewTicket::validate("Bad label", "", "low").unwrap();
    let before = board.board.stats().requests;
    match client
        .create_ticket(
            "p",
            "a@p.test",
            &new,
            "cp00000000000000000000000000000003",
            uuid::Uuid::new_v4(),
        )
        .await
    {
        Err(MondayError::Api { code, message }) => {
            assert_eq!(code, "ColumnValueException");
            assert!(message.contains("status label"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(board.board.stats().requests - before, 1, "not retried");
}

#[tokio::test]
async fn concurrency_to_monday_is_capped() {
    let board = spawn_board().await;
    let client = board.client(&[("MONDAY_MAX_CONCURRENCY", "2")]).await;
    board
        .board
        .set_faults(Faults {
            latency_ms: 200,
            ..Faults::default()
        })
        .await
        .unwrap();
    let started = Instant::now();
    let pings: Vec<_> = (0..6).map(|_| client.ping()).collect();
    for result in futures::future::join_all(pings).await {
        result.expect("ping");
    }
    // Six requests of 200 ms, two at a time: at least three rounds.
    assert!(
        started.elapsed() >= Duration::from_millis(590),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_conversation_longer_than_mondays_100_updates_a_page_is_read_whole() {
    let board = spawn_board().await;
    add_tickets(&board, "p", 1).await;
    let item_id = *board.board.store().snapshot().items.keys().next().unwrap();
    board
        .board
        .store()
        .mutate(|txn| {
            for n in 0..150 {
                txn.create_update(item_id, &format!("<p>update {n}</p>"), 2, None)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let client = board.client(&[]).await;
    let before = board.board.stats().requests;
    let item = client
        .item_with_updates(&item_id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item.updates.unwrap().len(), 150);
    assert_eq!(
        board.board.stats().requests - before,
        2,
        "100 a page: two pages"
    );
}

#[tokio::test]
async fn filters_follow_mondays_rules_by_column_type() {
    let board = spawn_board().await;
    add_tickets(&board, "p", 3).await;
    let client = board.client(&[]).await;
    let monday = client.client();
    let id = board.board.board_id().to_string();
    let query = |rules: serde_json::Value| json!({ "rules": rules });
    // Status compares label indexes (Open is index 0), never label text.
    let by_index = monday
        .items_matching(
            &id,
            query(json!([{"column_id": "status", "compare_value": [0], "operator": "any_of"}])),
            &[],
            10,
        )
        .await
        .unwrap();
    assert_eq!(by_index.len(), 3);
    let by_text = monday
        .items_matching(
            &id,
            query(
                json!([{"column_id": "status", "compare_value": ["Open"], "operator": "any_of"}]),
            ),
            &[],
            10,
        )
        .await
        .unwrap();
    assert!(
        by_text.is_empty(),
        "any_of on a status column takes indexes"
    );
    // An operator the column type does not support is refused, as on monday.
    let refused = monday
        .items_matching(&id, query(json!([{"column_id": "status", "compare_value": ["Op"], "operator": "starts_with"}])), &[], 10)
        .await;
    assert!(
        matches!(&refused, Err(MondayError::Api { code, .. }) if code == "InvalidArgumentException"),
        "{refused:?}"
    );
    let refused = monday
        .items_matching(&id, query(json!([{"column_id": "description", "compare_value": ["x"], "operator": "greater_than"}])), &[], 10)
        .await;
    assert!(refused.is_err());
    // Long text takes contains_text: how the portal finds a ticket by its reference.
    let found = monday
        .items_matching(&id, query(json!([{"column_id": "description", "compare_value": ["about 1"], "operator": "contains_text"}])), &[], 10)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
}

#[tokio::test]
async fn long_text_holds_at_most_2000_characters_on_the_local_board() {
    let board = spawn_board().await;
    let client = board.client(&[]).await;
    let id = board.board.board_id().to_string();
    let refused = client
        .client()
        .create_item(
            &id,
            "Too long",
            &json!({"description": {"text": "x".repeat(2_001)}}),
            &[],
            uuid::Uuid::new_v4(),
        )
        .await;
    assert!(
        matches!(&refused, Err(MondayError::Api { code, .. }) if code == "ColumnValueException"),
        "{refused:?}"
    );
    // Counted as monday's front end counts: an emoji is two.
    let emoji = client
        .client()
        .create_item(
            &id,
            "Emoji",
            &json!({"description": {"text": "😀".repeat(1_001)}}),
            &[],
            uuid::Uuid::new_v4(),
        )
        .await;
    assert!(emoji.is_err());
    client
        .client()
        .create_item(
            &id,
            "Just fits",
            &json!({"description": {"text": "x".repeat(2_000)}}),
            &[],
            uuid::Uuid::new_v4(),
        )
        .await
        .expect("2,000 fit");
}

#[tokio::test]
async fn a_partial_success_is_read_back_not_guessed() {
    let board = spawn_board().await;
    let client = board.client(&[]).await;
    board
        .board
        .set_faults(failing(Failure::PartialSuccess, Some(1)))
        .await
        .unwrap();
    let new = NewTicket::validate("Half an answer", "d", "high").unwrap();
    let before = board.board.stats().requests;
    let ticket = client
        .create_ticket(
            "p",
            "a@p.test",
            &new,
            "cp00000000000000000000000000000004",
            uuid::Uuid::new_v4(),
        )
        .await
        .expect("created, then read back");
    assert_eq!(
        ticket.priority,
        Priority::High,
        "the columns monday nulled are read back"
    );
    assert_eq!(ticket.portal_id, "p");
    assert_eq!(
        board.board.stats().requests - before,
        2,
        "the write, then the read"
    );
    assert_eq!(board.board.store().snapshot().items.len(), 1);
}

#[tokio::test]
async fn the_day_spent_stops_every_call_until_mondays_wait_has_passed() {
    let board = spawn_board().await;
    let client = board.client(&[]).await;
    board.board.set_limits(monday_local::Limits {
        daily_retry_in_seconds: 1,
        ..board.board.limits()
    });
    board.board.spend_day();
    assert!(matches!(
        client.ping().await,
        Err(MondayError::DailyLimit { retry_in: Some(_) })
    ));
    let refused_at = board.board.stats().requests;
    // Known spent: nothing is sent, not even writes.
    for _ in 0..5 {
        assert!(client.ping().await.is_err());
    }
    assert_eq!(board.board.stats().requests, refused_at);
    assert!(client.client().budget().is_spent());
    board.board.new_day();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client.ping().await.expect("after the wait, a new day");
    let spent = client.client().budget().snapshot();
    assert!(
        (spent.calls - 1.1).abs() < 1e-9,
        "one call and a tenth for the refused one: {spent:?}"
    );
}

/// Why the outbox looks before resending: after monday's idempotency window (30 minutes; one
/// second here) the same key creates a second item.
#[tokio::test]
async fn an_idempotency_key_protects_only_within_mondays_window() {
    let board = spawn_board().await;
    board.board.set_limits(monday_local::Limits {
        idempotency_window_seconds: 1,
        ..board.board.limits()
    });
    assert_eq!(
        monday_local::Plan::Standard
            .limits()
            .idempotency_window_seconds,
        1800
    );
    let client = board.client(&[]).await;
    let new = NewTicket::validate("Keyed", "", "low").unwrap();
    let key = uuid::Uuid::new_v4();
    let reference = "cp00000000000000000000000000000005";
    let first = client
        .create_ticket("p", "a@p.test", &new, reference, key)
        .await
        .unwrap();
    let replayed = client
        .create_ticket("p", "a@p.test", &new, reference, key)
        .await
        .unwrap();
    assert_eq!(first.id, replayed.id, "replayed within the window");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let again = client
        .create_ticket("p", "a@p.test", &new, reference, key)
        .await
        .unwrap();
    assert_ne!(first.id, again.id, "after the window, a second item");
    // The reference finds the first one (and the second: the portal never sends a second).
    let found = client
        .find_by_reference("p", reference)
        .await
        .unwrap()
        .unwrap();
    assert!(found.id == first.id || found.id == again.id);
}
