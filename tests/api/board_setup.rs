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
    assert_eq!(first.webhooks_created.len(), 6, "{first}");
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
