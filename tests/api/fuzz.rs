//! Property tests on what arrives from outside: webhook payloads and ticket forms. Whatever
//! comes in, nothing panics and nothing answers 5xx. Seeded and reproducible (FUZZ_SEED).

use client_portal::api::tickets::PostReply;
use client_portal::model::{NewTicket, validate_reply};
use client_portal::server::board_events::parse_event;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::helpers::{NO_WRITE_LIMITS, server_fn, spawn_app_with};

fn seed() -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7)
}

/// Strings that break naive code: empty, huge, control characters, RTL, emoji, markup, NUL.
fn nasty_string(rng: &mut StdRng) -> String {
    const PIECES: &[&str] = &[
        "",
        " ",
        "\n",
        "\r\n",
        "\t",
        "\0",
        "\u{202e}",
        "\u{200b}",
        "é",
        "👩‍💻",
        "𝕏",
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "'; DROP TABLE outbox; --",
        "%00",
        "${jndi:ldap://x}",
        "../../etc/passwd",
        "\\",
        "\"",
        "{{7*7}}",
        "high",
        "Urgent",
        "LOW",
        "medium ",
        "a",
    ];
    let mut out = String::new();
    for _ in 0..rng.gen_range(0..8) {
        match rng.gen_range(0..4) {
            0 => out.push_str(PIECES.choose(rng).unwrap()),
            1 => out.push(char::from_u32(rng.gen_range(0..0x11_0000)).unwrap_or('\u{fffd}')),
            2 => out.push_str(&"x".repeat(rng.gen_range(0..300))),
            _ => out.push_str(&rng.gen_range(0u64..u64::MAX).to_string()),
        }
    }
    if rng.gen_bool(0.05) {
        out.push_str(&"y".repeat(rng.gen_range(250..12_000)));
    }
    out
}

fn random_json(rng: &mut StdRng, depth: u32) -> Value {
    match rng.gen_range(0..if depth > 3 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.gen_bool(0.5)),
        2 => json!(rng.gen_range(-1e12..1e12)),
        3 => json!(rng.gen_range(0u64..u64::MAX)),
        4 => json!(nasty_string(rng)),
        5 => Value::Array(
            (0..rng.gen_range(0..4))
                .map(|_| random_json(rng, depth + 1))
                .collect(),
        ),
        _ => {
            const KEYS: &[&str] = &[
                "event",
                "type",
                "pulseId",
                "itemId",
                "triggerUuid",
                "columnId",
                "value",
                "updateId",
                "challenge",
                "boardId",
            ];
            let mut map = serde_json::Map::new();
            for _ in 0..rng.gen_range(0..6) {
                map.insert(
                    KEYS.choose(rng).unwrap().to_string(),
                    random_json(rng, depth + 1),
                );
            }
            Value::Object(map)
        }
    }
}

/// A valid event with one field replaced by something random.
fn mutated_event(rng: &mut StdRng) -> Value {
    let kind = *[
        "create_pulse",
        "update_column_value",
        "update_name",
        "create_update",
        "archive_pulse",
        "delete_pulse",
    ]
    .choose(rng)
    .unwrap();
    let mut event = json!({"event": {
        "type": kind,
        "pulseId": 5000000001u64, "columnId": "status", "triggerUuid": format!("fuzz-{}", rng.r#gen::<u64>()),
        "value": {"label": {"index": 1, "text": "In Progress"}}, "updateId": 1
    }});
    let key = [
        "type",
        "pulseId",
        "columnId",
        "triggerUuid",
        "value",
        "updateId",
    ]
    .choose(rng)
    .unwrap();
    event["event"][key] = random_json(rng, 2);
    event
}

#[test]
fn the_webhook_parser_never_panics() {
    let mut rng = StdRng::seed_from_u64(seed());
    let mut accepted = 0;
    for _ in 0..20_000 {
        let body = if rng.gen_bool(0.5) {
            random_json(&mut rng, 0)
        } else {
            mutated_event(&mut rng)
        };
        if parse_event(&body).is_ok() {
            accepted += 1;
        }
    }
    assert!(
        accepted > 100,
        "the mutations keep some events valid ({accepted})"
    );
}

#[test]
fn ticket_validation_never_panics_and_keeps_its_limits() {
    let mut rng = StdRng::seed_from_u64(seed());
    for _ in 0..20_000 {
        let (title, description, priority) = (
            nasty_string(&mut rng),
            nasty_string(&mut rng),
            nasty_string(&mut rng),
        );
        if let Ok(ticket) = NewTicket::validate(&title, &description, &priority) {
            assert!((1..=255).contains(&ticket.title.chars().count()));
            assert!(ticket.description.chars().count() <= 10_000);
            assert!(!ticket.title.chars().any(char::is_control));
        }
        if let Ok(body) = validate_reply(&description) {
            assert!(!body.is_empty());
        }
    }
}

#[tokio::test]
async fn nothing_from_outside_gets_a_5xx() {
    let app = spawn_app_with(NO_WRITE_LIMITS).await;
    let mut rng = StdRng::seed_from_u64(seed());
    let webhook = app.webhook_url();
    let plain = crate::helpers::plain_client();
    for _ in 0..300 {
        let body = match rng.gen_range(0..3) {
            0 => random_json(&mut rng, 0).to_string(),
            1 => mutated_event(&mut rng).to_string(),
            _ => nasty_string(&mut rng),
        };
        let status = plain
            .post(&webhook)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .status();
        assert!(
            !status.is_server_error(),
            "{status} for webhook {body:.200}"
        );
    }

    let client = app.signed_in("demo", "jordan@demo.example").await;
    let jwt = app.jwt_for("demo", "alex@demo.example").await;
    for n in 0..200 {
        let (title, description, priority) = (
            nasty_string(&mut rng),
            nasty_string(&mut rng),
            nasty_string(&mut rng),
        );
        let form = app
            .create_ticket(&client, &title, &description, &priority)
            .await;
        let status = form.status();
        let text = form.text().await.unwrap_or_default();
        assert!(
            !status.is_server_error(),
            "{status} for create_ticket({title:.80?}, {priority:.40?}): {text}"
        );
        let reply = app
            .call(
                &client,
                server_fn::<PostReply>(),
                &[("ticket_id", &title), ("body", &description)],
            )
            .await;
        assert!(
            !reply.status().is_server_error(),
            "{} for post_reply",
            reply.status()
        );
        let body = if n % 3 == 0 {
            json!({"title": random_json(&mut rng, 1), "priority": random_json(&mut rng, 1)})
        } else {
            json!({"title": title, "description": description, "priority": priority})
        };
        let rest = plain
            .post(app.url("/api/v1/ticket"))
            .bearer_auth(&jwt)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            !rest.status().is_server_error(),
            "{} for REST {body:.200}",
            rest.status()
        );
    }
}
