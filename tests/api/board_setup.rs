//! `setup-board` and `doctor` against the local board.

use std::collections::BTreeMap;
use tokio::process::Command;

use client_portal::server::board::setup::{doctor, setup_board};
use monday_local::store::Column;

use crate::helpers::{TempDir, spawn_board, test_database};

#[tokio::test]
async fn doctor_passes_on_a_set_up_board_and_setup_is_idempotent() {
    let board = spawn_board().await;
    let config = board.config(&[]).await;
    let client = board.client(&[]).await;
    let dir = TempDir::new("doctor");
    let portal_db = test_database(&dir).await;

    // A tiny webhook receiver that answers the challenge, standing in for the portal.
    let receiver = challenge_echo_server().await;
    let url = format!("{receiver}/webhooks/monday/test-secret-0123456789");

    let first = setup_board(&config, &client, &portal_db, None, Some(&url))
        .await
        .unwrap();
    assert_eq!(first.webhooks_created.len(), 9, "{first}");
    assert!(first.problems.is_empty(), "{first}");
    let second = setup_board(&config, &client, &portal_db, None, Some(&url))
        .await
        .unwrap();
    assert!(
        second.webhooks_created.is_empty() && second.columns_created.is_empty(),
        "{second}"
    );

    let findings = doctor(&config, &client, &portal_db, Some(&url)).await;
    assert!(findings.iter().all(|f| f.ok), "{findings:#?}");
}

#[tokio::test]
async fn doctor_names_a_missing_column_and_its_fix_and_setup_creates_it() {
    let board = spawn_board().await;
    // A second board, like a real one someone made by hand, without the portal_id column.
    let columns: Vec<Column> = monday_local::seed_columns()
        .into_iter()
        .filter(|c| c.id != "portal_id")
        .collect();
    let partial = board
        .board
        .store()
        .mutate(|txn| Ok(txn.create_board("Hand-made", "private", columns)))
        .await
        .unwrap();
    let board_id = partial.id.to_string();
    let config = board.config(&[("MONDAY_BOARD_ID", &board_id)]).await;
    let client = board.client(&[("MONDAY_BOARD_ID", &board_id)]).await;
    let dir = TempDir::new("doctor");
    let portal_db = test_database(&dir).await;

    let findings = doctor(&config, &client, &portal_db, None).await;
    let missing = findings
        .iter()
        .find(|f| f.check == "column portal id")
        .expect("checked");
    assert!(!missing.ok);
    assert!(missing.detail.contains("portal_id"), "{missing}");
    assert!(
        missing.fix.as_deref().unwrap().contains("setup-board"),
        "{missing}"
    );

    let report = setup_board(&config, &client, &portal_db, None, None)
        .await
        .unwrap();
    assert_eq!(report.columns_created, vec!["`portal_id` (text)"]);
    let findings = doctor(&config, &client, &portal_db, None).await;
    assert!(
        findings
            .iter()
            .filter(|f| f.check.starts_with("column"))
            .all(|f| f.ok)
    );
}

#[tokio::test]
async fn doctor_reports_missing_labels() {
    let board = spawn_board().await;
    let mut columns = monday_local::seed_columns();
    for column in &mut columns {
        if column.id == "status" {
            column.labels = BTreeMap::from([(0, "Open".to_owned()), (1, "Done".to_owned())]);
        }
    }
    let partial = board
        .board
        .store()
        .mutate(|txn| Ok(txn.create_board("Other labels", "private", columns)))
        .await
        .unwrap();
    let id = partial.id.to_string();
    let config = board.config(&[("MONDAY_BOARD_ID", &id)]).await;
    let client = board.client(&[("MONDAY_BOARD_ID", &id)]).await;
    let dir = TempDir::new("doctor");
    let portal_db = test_database(&dir).await;
    let findings = doctor(&config, &client, &portal_db, None).await;
    let status = findings
        .iter()
        .find(|f| f.check == "column status")
        .unwrap();
    assert!(!status.ok);
    assert!(status.detail.contains("`In Progress`"), "{status}");
    assert!(
        status
            .fix
            .as_deref()
            .unwrap()
            .contains("MONDAY_STATUS_LABELS")
    );
}

#[tokio::test]
async fn the_doctor_command_exits_non_zero_with_the_fix_on_a_board_missing_a_column() {
    let board = spawn_board().await;
    let columns: Vec<Column> = monday_local::seed_columns()
        .into_iter()
        .filter(|c| c.id != "client_email")
        .collect();
    let partial = board
        .board
        .store()
        .mutate(|txn| Ok(txn.create_board("Hand-made", "private", columns)))
        .await
        .unwrap();
    let dir = TempDir::new("doctor-cli");
    let output = Command::new(env!("CARGO_BIN_EXE_client-portal"))
        .arg("doctor")
        .current_dir(&dir.0)
        .env_clear()
        .env("DATA_DIR", dir.0.join("data"))
        .env("MONDAY_API_URL", board.board.url().await)
        .env("MONDAY_API_TOKEN", board.board.token().expose())
        .env("MONDAY_BOARD_ID", partial.id.to_string())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL column client email"), "{stdout}");
    assert!(
        stdout.contains("fix: run `client-portal setup-board`"),
        "{stdout}"
    );
    assert!(!stdout.contains(board.board.token().expose()));
}

#[tokio::test]
async fn the_doctor_command_passes_against_the_embedded_local_board() {
    let dir = TempDir::new("doctor-local");
    let output = Command::new(env!("CARGO_BIN_EXE_client-portal"))
        .arg("doctor")
        .current_dir(&dir.0)
        .env_clear()
        .env("DATA_DIR", dir.0.join("data"))
        .env("PORTAL_PUBLIC_URL", "http://127.0.0.1:9")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    // Columns and labels pass; webhooks are only registered by a running portal.
    assert!(stdout.contains("checking the local board"), "{stdout}");
    for check in [
        "token",
        "board",
        "column description",
        "column portal id",
        "column status",
        "column priority",
        "column rating",
    ] {
        assert!(
            stdout.contains(&format!("ok   {check}")),
            "{check}: {stdout}"
        );
    }
}

/// Serves `{"challenge": x}` → `{"challenge": x}` on any path.
async fn challenge_echo_server() -> String {
    use axum::Json;
    use axum::routing::post;
    let app =
        axum::Router::new().fallback(post(|Json(body): Json<serde_json::Value>| async move {
            Json(body)
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn setup_board_on_an_empty_board_creates_typed_status_columns_and_doctor_passes() {
    let board = spawn_board().await;
    let empty = board
        .board
        .store()
        .mutate(|txn| Ok(txn.create_board("Brand new", "private", Vec::new())))
        .await
        .unwrap();
    let id = empty.id.to_string();
    let config = board.config(&[("MONDAY_BOARD_ID", &id)]).await;
    let client = board.client(&[("MONDAY_BOARD_ID", &id)]).await;
    let dir = TempDir::new("setup-typed");
    let portal_db = test_database(&dir).await;

    let report = setup_board(&config, &client, &portal_db, None, None)
        .await
        .unwrap();
    // Description, portal, client email, status, priority and the clients' rating.
    assert_eq!(report.columns_created.len(), 6, "{report}");
    let structure = client.board_structure(&id).await.unwrap().unwrap();
    for (column, expected) in [
        ("status", ["Open", "In Progress", "Resolved", "Closed"]),
        ("priority", ["Low", "Medium", "High", "Urgent"]),
    ] {
        let column = structure.columns.iter().find(|c| c.id == column).unwrap();
        assert_eq!(column.kind, "status");
        // monday's settings since 2025-10: an array of labels with their indexes.
        let labels = monday::status_labels(column.settings.as_ref());
        let names: Vec<&str> = labels.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(names, expected);
        let indexes: Vec<Option<u64>> = labels.iter().map(|l| l.index).collect();
        assert_eq!(indexes, vec![Some(0), Some(1), Some(2), Some(3)]);
        assert!(column.settings.as_ref().unwrap()["labels"].is_array());
    }
    let rating = structure.columns.iter().find(|c| c.id == "rating").unwrap();
    assert_eq!(rating.kind, "status");
    let names: Vec<String> = monday::status_labels(rating.settings.as_ref())
        .into_iter()
        .map(|l| l.label)
        .collect();
    assert_eq!(names, ["Good", "Not good"]);
    let findings = doctor(&config, &client, &portal_db, None).await;
    assert!(
        findings
            .iter()
            .filter(|f| f.check.starts_with("column") || f.check == "daily calls")
            .all(|f| f.ok),
        "{findings:#?}"
    );
}

#[tokio::test]
async fn the_local_board_refuses_the_legacy_label_map_as_monday_validates_defaults() {
    let board = spawn_board().await;
    let client = board.client(&[]).await;
    let id = board.board.board_id().to_string();
    let error = client
        .create_column(
            &id,
            "legacy",
            "Legacy",
            "status",
            Some(serde_json::json!({"labels": {"0": "Open"}})),
        )
        .await
        .expect_err("the 2026-10 API validates typed defaults");
    assert!(
        matches!(&error, monday::MondayError::Api { code, .. } if code == "InvalidArgumentException"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_deactivated_label_fails_doctor_with_the_fix() {
    let board = spawn_board().await;
    let board_id = board.board.board_id();
    board
        .board
        .store()
        .mutate(|txn| txn.set_label_active(board_id, "status", "Resolved", false))
        .await
        .unwrap();
    let config = board.config(&[]).await;
    let client = board.client(&[]).await;
    let dir = TempDir::new("doctor-deactivated");
    let portal_db = test_database(&dir).await;
    let findings = doctor(&config, &client, &portal_db, None).await;
    let status = findings
        .iter()
        .find(|f| f.check == "column status")
        .unwrap();
    assert!(!status.ok, "{status}");
    assert!(status.detail.contains("`Resolved`"), "{status}");
    assert!(status.detail.contains("deactivated"), "{status}");
    let fix = status.fix.as_deref().unwrap();
    assert!(fix.contains("reactivate"), "{fix}");
    assert!(fix.contains("MONDAY_STATUS_LABELS"), "{fix}");
    // Priority is untouched and passes.
    assert!(
        findings
            .iter()
            .find(|f| f.check == "column priority")
            .unwrap()
            .ok
    );
}

#[tokio::test]
async fn doctor_shows_the_days_calls_and_fails_near_the_cap() {
    let board = spawn_board().await;
    let config = board.config(&[("MONDAY_DAILY_CALL_LIMIT", "1000")]).await;
    let client = board.client(&[]).await;
    let dir = TempDir::new("doctor-calls");
    let portal_db = test_database(&dir).await;
    // Two instances (or a restarted one) counted today's calls: the day's total is the sum.
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let count = |instance: &'static str, tenths: i64| {
        let portal_db = portal_db.clone();
        let today = today.clone();
        async move {
            client_portal::on_db!(&portal_db, pool => sqlx::query(
                "INSERT INTO monday_usage (day, instance, tenths, updated_at) VALUES ($1, $2, $3, 0)
                 ON CONFLICT (day, instance) DO UPDATE SET tenths = excluded.tenths",
            )
            .bind(today)
            .bind(instance)
            .bind(tenths)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
            .unwrap();
        }
    };
    count("a", 2_000).await;
    count("b", 2_200).await;
    let findings = doctor(&config, &client, &portal_db, None).await;
    let calls = findings.iter().find(|f| f.check == "daily calls").unwrap();
    assert!(calls.ok, "{calls}");
    assert!(calls.detail.contains("420.0 of 1000"), "{calls}");

    count("b", 7_700).await;
    let findings = doctor(&config, &client, &portal_db, None).await;
    let calls = findings.iter().find(|f| f.check == "daily calls").unwrap();
    assert!(!calls.ok, "{calls}");
    assert!(
        calls
            .fix
            .as_deref()
            .unwrap()
            .contains("MONDAY_DAILY_CALL_LIMIT"),
        "{calls}"
    );
}
