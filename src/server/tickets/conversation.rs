//! Which monday updates a client may read, and how they are shown.
//!
//! monday updates have no visibility flag and the team writes internal notes on the same
//! items, so the rule is: a client sees the messages written through the portal (recorded in
//! the outbox when they were sent) and the team's updates that *begin* with the public marker
//! (`@client` by default). Everything else is internal. The marker is removed and the HTML
//! goes through an allow-list sanitiser before it reaches a page.

use monday::{UpdateNode, normalize_timestamp};

use crate::model::{Delivery, Reply};
use crate::server::html::{escape, text_to_html};

/// A message the client wrote, as the outbox keeps it.
#[derive(Debug, Clone)]
pub struct ClientMessage {
    pub id: String,
    pub author: String,
    pub body: String,
    pub created_at: String,
    pub monday_update_id: Option<String>,
    pub delivery: Delivery,
}

/// The update the portal posts on monday for a client's message: who wrote it, then the text.
pub fn monday_body(author_name: Option<&str>, author_email: &str, text: &str) -> String {
    let who = match author_name {
        Some(name) => format!("{} ({})", escape(name), escape(author_email)),
        None => escape(author_email),
    };
    format!(
        "<p><strong>{who}</strong> wrote via the client portal:</p>{}",
        text_to_html(text)
    )
}

fn starts_with_marker(text: &str, marker: &str) -> bool {
    let text = text.trim_start();
    text.len() >= marker.len()
        && text.is_char_boundary(marker.len())
        && text[..marker.len()].eq_ignore_ascii_case(marker)
}

/// Whether a team update is meant for the client.
pub fn is_public(update: &UpdateNode, marker: &str) -> bool {
    let text = update
        .text_body
        .clone()
        .unwrap_or_else(|| strip_tags(&update.body));
    !marker.is_empty() && starts_with_marker(&text, marker)
}

fn strip_tags(html: &str) -> String {
    ammonia::Builder::empty().clean(html).to_string()
}

/// Removes the first occurrence of the marker (it is the start of the text) and sanitises.
pub fn public_body_html(body: &str, marker: &str) -> String {
    let lower = body.to_lowercase();
    let without_marker = match lower.find(&marker.to_lowercase()) {
        Some(at) if body.is_char_boundary(at) && body.is_char_boundary(at + marker.len()) => {
            let rest = body[at + marker.len()..].trim_start_matches([' ', ':', ',', '\u{a0}']);
            let rest = rest.strip_prefix("&nbsp;").unwrap_or(rest);
            format!("{}{}", &body[..at], rest)
        }
        _ => body.to_owned(),
    };
    sanitize(&without_marker)
}

/// monday's update HTML through an allow-list: formatting and links stay, scripts, styles,
/// event handlers and unknown elements go; links open safely.
pub fn sanitize(html: &str) -> String {
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .clean(html)
        .to_string()
}

/// The public conversation, oldest first.
pub fn conversation(
    updates: &[UpdateNode],
    client_messages: &[ClientMessage],
    marker: &str,
) -> Vec<Reply> {
    let mut replies: Vec<Reply> = client_messages
        .iter()
        .map(|m| Reply {
            id: m.id.clone(),
            author: m.author.clone(),
            from_client: true,
            body_html: text_to_html(&m.body),
            created_at: m.created_at.clone(),
            delivery: m.delivery.clone(),
        })
        .collect();
    for update in updates {
        let written_by_portal = client_messages
            .iter()
            .any(|m| m.monday_update_id.as_deref() == Some(update.id.as_str()));
        if written_by_portal || !is_public(update, marker) {
            continue;
        }
        replies.push(Reply {
            id: update.id.clone(),
            author: update
                .creator
                .as_ref()
                .map_or_else(|| "Support team".to_owned(), |c| c.name.clone()),
            from_client: false,
            body_html: public_body_html(&update.body, marker),
            created_at: normalize_timestamp(update.created_at.as_deref()),
            delivery: Delivery::Delivered,
        });
    }
    replies.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    replies
}

#[cfg(test)]
mod tests {
    use super::*;
    use monday::UserRef;

    fn update(id: &str, body: &str, at: &str) -> UpdateNode {
        UpdateNode {
            id: id.into(),
            body: body.into(),
            text_body: Some(strip_tags(body)),
            created_at: Some(at.into()),
            creator_id: Some("2".into()),
            creator: Some(UserRef {
                id: "2".into(),
                name: "Sam".into(),
            }),
            updated_at: None,
            replies: None,
        }
    }

    #[test]
    fn only_marked_team_updates_and_client_messages_are_shown() {
        let updates = vec![
            update("1", "<p>@client We are on it</p>", "2024-01-02T00:00:00Z"),
            update(
                "2",
                "<p>Internal: the client is difficult</p>",
                "2024-01-03T00:00:00Z",
            ),
            update(
                "3",
                "<p>Mentioning @client later is not public</p>",
                "2024-01-04T00:00:00Z",
            ),
            update("4", "<p>client wrote</p>", "2024-01-01T00:00:00Z"),
        ];
        let mine = vec![ClientMessage {
            id: "m1".into(),
            author: "Jane".into(),
            body: "Help <please>".into(),
            created_at: "2024-01-01T00:00:00Z".into(),
            monday_update_id: Some("4".into()),
            delivery: Delivery::Delivered,
        }];
        let shown = conversation(&updates, &mine, "@client");
        let ids: Vec<&str> = shown.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["m1", "1"]);
        assert_eq!(shown[0].body_html, "<p>Help &lt;please&gt;</p>");
        assert_eq!(shown[1].body_html, "<p>We are on it</p>");
        assert_eq!(shown[1].author, "Sam");
    }

    #[test]
    fn the_marker_is_case_insensitive_and_removed() {
        let u = update("1", "<p>@Client: Fixed!</p>", "2024-01-01T00:00:00Z");
        assert!(is_public(&u, "@client"));
        assert_eq!(public_body_html(&u.body, "@client"), "<p>Fixed!</p>");
    }

    #[test]
    fn update_html_is_sanitised() {
        let html = public_body_html(
            r#"<p>@client <a href="javascript:alert(1)">x</a><img src=x onerror=alert(1)><script>alert(1)</script><b>ok</b> <a href="https://example.com">site</a></p>"#,
            "@client",
        );
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("<b>ok</b>"), "{html}");
        assert!(
            html.contains(r#"rel="noopener noreferrer nofollow""#),
            "{html}"
        );
    }

    #[test]
    fn client_text_becomes_escaped_paragraphs() {
        assert_eq!(
            text_to_html("line one\nline two\n\n<b>two</b>"),
            "<p>line one<br>line two</p><p>&lt;b&gt;two&lt;/b&gt;</p>"
        );
        assert!(monday_body(Some("Jane <J>"), "j@x.test", "hi").starts_with(
            "<p><strong>Jane &lt;J&gt; (j@x.test)</strong> wrote via the client portal:</p>"
        ));
    }
}
