//! Files: the client sends one to an update through `/v2/file` as monday documents it, reads it
//! back with a public link that works for a limited time, and the local board takes each of the
//! multipart shapes monday's own material shows.

use std::time::Duration;

use monday::{Client, ClientOptions, FileUpload, RetryPolicy};
use monday_local::store::API_USER_ID;
use serde_json::{Value, json};

use crate::local_board::{Board, board};

impl Board {
    async fn client(&self) -> Client {
        Client::new(ClientOptions {
            endpoint: self.board.url().await,
            token: monday::Token::new(self.board.token().expose()),
            api_version: "2026-10".into(),
            max_concurrency: 4,
            request_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            daily_call_limit: 1000,
        })
        .unwrap()
    }

    /// An item with one update; returns the update's id.
    async fn update(&self) -> u64 {
        let board_id = self.board.board_id();
        self.board
            .store()
            .mutate(|txn| {
                let item = txn.create_item(board_id, "Printer", None, false, API_USER_ID, None)?;
                txn.create_update(item.id, "<p>Here is a screenshot</p>", API_USER_ID, None)
            })
            .await
            .unwrap()
            .id
    }

    /// Posts a multipart body as given, to `/v2/file`.
    async fn post_parts(&self, form: reqwest::multipart::Form) -> Value {
        reqwest::Client::new()
            .post(format!("{}/file", self.board.url().await))
            .header("Authorization", self.board.token().expose())
            .multipart(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

fn upload(name: &str, bytes: &[u8]) -> FileUpload {
    FileUpload {
        filename: name.into(),
        content_type: "image/png".into(),
        len: bytes.len() as u64,
        body: reqwest::Body::from(bytes.to_vec()),
    }
}

#[tokio::test]
async fn a_file_reaches_an_update_and_its_public_link_works_for_a_limited_time() {
    let board = board().await;
    let client = board.client().await;
    let update = board.update().await;
    let bytes: Vec<u8> = (0..200_000u32).map(|n| (n % 251) as u8).collect();

    let asset = client
        .add_file_to_update(&update.to_string(), upload("screen shot.png", &bytes))
        .await
        .expect("the file is added");
    assert_eq!(asset.name, "screen shot.png");
    assert_eq!(asset.file_extension.as_deref(), Some("png"));
    assert_eq!(asset.file_size, Some(bytes.len() as u64));
    let snap = board.board.store().snapshot();
    assert_eq!(snap.update_assets(update).len(), 1, "on the update");

    // Files append, as on monday: sending it again makes a second asset.
    client
        .add_file_to_update(&update.to_string(), upload("screen shot.png", &bytes))
        .await
        .unwrap();
    assert_eq!(
        board.board.store().snapshot().update_assets(update).len(),
        2
    );

    // Read back with a public link that serves the bytes, as a download.
    let read = client.assets(&[&asset.id]).await.unwrap();
    let link = read[0].public_url.clone().expect("a public link");
    let response = reqwest::get(&link).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.bytes().await.unwrap().as_ref(), bytes.as_slice());

    // A link stops working when its time is up (an hour on monday); a fresh read gives a new one.
    board
        .board
        .set_public_url_lifetime(Duration::from_millis(200));
    let short = client.assets(&[&asset.id]).await.unwrap()[0]
        .public_url
        .clone()
        .unwrap();
    assert_eq!(reqwest::get(&short).await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(reqwest::get(&short).await.unwrap().status(), 404);
    let forged = link.replace(&asset.id, "5000000999");
    assert_eq!(reqwest::get(&forged).await.unwrap().status(), 404);

    // A missing update is monday's application error, not a stored file.
    let missing = client
        .add_file_to_update("5000000999", upload("x.png", b"x"))
        .await
        .expect_err("no such update");
    assert!(
        matches!(missing, monday::MondayError::Api { .. }),
        "{missing:?}"
    );
}

#[tokio::test]
async fn the_local_board_takes_each_multipart_shape_mondays_material_shows() {
    let board = board().await;
    let update = board.update().await;
    let query = format!(
        "mutation ($file: File!) {{ add_file_to_update(update_id: {update}, file: $file) {{ id name file_size }} }}"
    );
    let file = |name: &str| {
        reqwest::multipart::Part::bytes(b"%PDF-1.4 tiny".to_vec())
            .file_name(name.to_owned())
            .mime_str("application/pdf")
            .unwrap()
    };
    // monday's 2020 curl: the part named after the variable.
    let curl = reqwest::multipart::Form::new()
        .text("query", query.clone())
        .part("variables[file]", file("a.pdf"));
    // The current page's sample: a map with a string path, a part named in it.
    let page = reqwest::multipart::Form::new()
        .text("query", query.clone())
        .text("map", r#"{"image":"variables.file"}"#)
        .part("image", file("b.pdf"));
    // The GraphQL multipart spec, as monday's JavaScript SDK sends it.
    let sdk = reqwest::multipart::Form::new()
        .text("query", query.clone())
        .text("variables", json!({ "file": null }).to_string())
        .text("map", r#"{"0":["variables.file"]}"#)
        .part("0", file("c.pdf"));
    for (form, name) in [(curl, "a.pdf"), (page, "b.pdf"), (sdk, "c.pdf")] {
        let answer = board.post_parts(form).await;
        assert_eq!(
            answer["data"]["add_file_to_update"]["name"], name,
            "{answer}"
        );
        assert_eq!(answer["data"]["add_file_to_update"]["file_size"], 13);
    }
    // Without a file the mutation is refused, and nothing is stored.
    let without = board
        .post_parts(reqwest::multipart::Form::new().text("query", query))
        .await;
    assert!(without["errors"].is_array(), "{without}");
    assert_eq!(
        board.board.store().snapshot().update_assets(update).len(),
        3
    );
    // A JSON request to /v2 cannot carry a file.
    let json_answer: Value = reqwest::Client::new()
        .post(board.board.url().await)
        .header("Authorization", board.board.token().expose())
        .json(&json!({"query": "mutation ($file: File!) { add_file_to_update(update_id: 1, file: $file) { id } }", "variables": {"file": "x"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(json_answer["errors"].is_array(), "{json_answer}");
}

#[tokio::test]
async fn a_file_column_takes_files_through_add_file_to_column_and_only_clears_otherwise() {
    let board = board().await;
    let board_id = board.board.board_id();
    let item = board
        .board
        .store()
        .mutate(|txn| {
            txn.create_column(
                board_id,
                Some("files"),
                "Files",
                monday_local::store::ColumnKind::File,
                Default::default(),
            )?;
            txn.create_item(board_id, "Printer", None, false, API_USER_ID, None)
        })
        .await
        .unwrap();
    let query = format!(
        "mutation ($file: File!) {{ add_file_to_column(item_id: {}, column_id: \"files\", file: $file) {{ id name file_size }} }}",
        item.id
    );
    for name in ["first.pdf", "second.png"] {
        let form = reqwest::multipart::Form::new()
            .text("query", query.clone())
            .part(
                "variables[file]",
                reqwest::multipart::Part::bytes(b"%PDF-1.4 tiny".to_vec()).file_name(name),
            );
        let answer = board.post_parts(form).await;
        assert_eq!(
            answer["data"]["add_file_to_column"]["name"], name,
            "{answer}"
        );
    }
    // The column lists both, in order, as monday's FileValue does.
    let snap = board.board.store().snapshot();
    let value = &snap.items[&item.id].values["files"];
    let names: Vec<&str> = value["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["first.pdf", "second.png"]);
    assert_eq!(value["files"][1]["isImage"], "true");
    assert_eq!(value["files"][0]["fileType"], "ASSET");
    // A column that is not a file column is refused, and so is writing files as a value.
    let wrong = board
        .post_parts(
            reqwest::multipart::Form::new()
                .text("query", query.replace("\"files\"", "\"name\""))
                .part(
                    "variables[file]",
                    reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x.txt"),
                ),
        )
        .await;
    assert!(wrong["errors"].is_array(), "{wrong}");
    let client = board.client().await;
    let written = client
        .change_column_values(
            &board_id.to_string(),
            &item.id.to_string(),
            &json!({"files": {"files": [{"name": "x"}]}}),
            &["files"],
        )
        .await;
    assert!(written.is_err(), "files are not written as a value");
    client
        .change_column_values(
            &board_id.to_string(),
            &item.id.to_string(),
            &json!({"files": {"clear_all": true}}),
            &["files"],
        )
        .await
        .expect("clear_all empties the column");
    let snap = board.board.store().snapshot();
    assert!(!snap.items[&item.id].values.contains_key("files"));
    // The assets stay (monday keeps them on the account).
    assert_eq!(snap.assets.len(), 2);
}
