//! Which monday updates a client may read, and how they are shown.
//!
//! monday updates have no visibility flag and the team writes internal notes on the same
//! items, so the rule (the README's table) is:
//!
//! - messages written through the portal are the client's (recorded in the outbox when sent);
//! - a team update at the top of the item is public only when it *begins* with the public
//!   marker (`@client`);
//! - a reply in a thread the client takes part in (under one of the client's messages, or under
//!   a public team update) answers the client, unless it begins with the internal marker
//!   (`@internal`): the team answers by pressing "Reply" under the message, as it would anywhere
//!   in monday;
//! - a reply under an internal note follows the top-level rule (`@client` or nothing).
//!
//! The marker is removed and the HTML goes through an allow-list sanitiser before it reaches a
//! page.

use std::sync::LazyLock;

use monday::{ReplyNode, UpdateNode, normalize_timestamp};
use regex::Regex;

use crate::model::{Delivery, Reply};
use crate::server::board::is_description_update;
use crate::server::html::{escape, text_to_html};
use crate::server::memory::{Memo, TIMELESS};

/// A message the client wrote, as the outbox keeps it.
#[derive(Debug, Clone)]
pub struct ClientMessage {
    pub id: String,
    pub author: String,
    pub body: String,
    pub created_at: String,
    pub monday_update_id: Option<String>,
    /// The monday update whose thread the message answers.
    pub parent_update_id: Option<String>,
    pub delivery: Delivery,
    /// The files attached to it, as stored.
    pub files: Vec<crate::model::FileRef>,
}

/// The markers the team's rule uses.
#[derive(Debug, Clone)]
pub struct Markers {
    /// A top-level team update beginning with this is public (`@client`).
    pub public: String,
    /// A reply in the client's thread beginning with this is internal (`@internal`).
    pub internal: String,
    /// Hosts whose images a team message may show (`REPLY_IMAGE_HOSTS`); other images become
    /// links, so opening a ticket tells no third party who read it, or when.
    pub image_hosts: Vec<String>,
    /// Team messages already made safe, by their source.
    pub bodies: std::sync::Arc<SafeBodies>,
}

impl Markers {
    pub fn new(public: String, internal: String, image_hosts: Vec<String>) -> Self {
        Self {
            public,
            internal,
            image_hosts,
            bodies: Default::default(),
        }
    }

    /// A team message's HTML as the client may see it ([`sanitize`]), with the `@client`
    /// marker taken out when `strip_marker` ([`public_body_html`]).
    fn safe_html(&self, body: &str, strip_marker: bool) -> String {
        if strip_marker {
            self.bodies.public.get_or_make(body, TIMELESS, || {
                public_body_html(body, &self.public, &self.image_hosts)
            })
        } else {
            self.bodies
                .plain
                .get_or_make(body, TIMELESS, || sanitize(body, &self.image_hosts))
        }
    }
}

/// Sanitised team messages by their source text. Making a body safe parses its HTML (ammonia),
/// which a ticket page would otherwise repeat for every message on every view; a body's safe
/// form depends only on its text and the markers, so it is made once.
#[derive(Default)]
pub struct SafeBodies {
    plain: Memo<String, String>,
    public: Memo<String, String>,
}

impl std::fmt::Debug for SafeBodies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SafeBodies").finish_non_exhaustive()
    }
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
    !marker.is_empty()
        && text.len() >= marker.len()
        && text.is_char_boundary(marker.len())
        && text[..marker.len()].eq_ignore_ascii_case(marker)
}

/// The plain text of an update or reply: monday's `text_body`, or the HTML without tags.
pub fn text_of(body: &str, text_body: Option<&str>) -> String {
    text_body.map_or_else(|| strip_tags(body), str::to_owned)
}

/// Whether a top-level team update is meant for the client.
pub fn is_public(update: &UpdateNode, marker: &str) -> bool {
    starts_with_marker(&text_of(&update.body, update.text_body.as_deref()), marker)
}

/// Whether a reply is meant for the client: in a thread the client takes part in, unless
/// marked internal; elsewhere only with the public marker.
pub fn reply_is_public(text: &str, thread_open: bool, markers: &Markers) -> bool {
    if thread_open {
        !starts_with_marker(text, &markers.internal)
    } else {
        starts_with_marker(text, &markers.public)
    }
}

fn strip_tags(html: &str) -> String {
    crate::server::html::strip_tags(html)
}

/// Removes the first occurrence of the marker (it is the start of the text) and sanitises.
pub fn public_body_html(body: &str, marker: &str, image_hosts: &[String]) -> String {
    let lower = body.to_lowercase();
    let found = (!marker.is_empty())
        .then(|| lower.find(&marker.to_lowercase()))
        .flatten();
    let without_marker = match found {
        Some(at) if body.is_char_boundary(at) && body.is_char_boundary(at + marker.len()) => {
            let rest = body[at + marker.len()..].trim_start_matches([' ', ':', ',', '\u{a0}']);
            let rest = rest.strip_prefix("&nbsp;").unwrap_or(rest);
            format!("{}{}", &body[..at], rest)
        }
        _ => body.to_owned(),
    };
    sanitize(&without_marker, image_hosts)
}

/// monday's update HTML through an allow-list: formatting and links stay, scripts, styles,
/// event handlers and unknown elements go; links open safely; images load only from
/// `image_hosts` (the rest become links to them).
pub fn sanitize(html: &str, image_hosts: &[String]) -> String {
    images_from(&crate::server::html::sanitize(html), image_hosts)
}

/// An `<img>` as ammonia writes it: every attribute double-quoted, with `"` and `&` escaped
/// inside, so the pattern cannot be fooled by an attribute's value.
static IMG_TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"<img((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*="[^"]*")*)\s*/?>"#)
        .expect("a valid pattern")
});
static ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"([a-zA-Z_:][-a-zA-Z0-9_:.]*)="([^"]*)""#).expect("a valid pattern")
});

/// Replaces each image whose source is not on an allowed host with a link to it, named by
/// its `alt` text. `html` is ammonia's output.
fn images_from(html: &str, image_hosts: &[String]) -> String {
    if !html.contains("<img") {
        return html.to_owned();
    }
    IMG_TAG
        .replace_all(html, |tag: &regex::Captures<'_>| {
            let attribute = |name: &str| {
                ATTRIBUTE
                    .captures_iter(&tag[1])
                    .find(|a| a[1].eq_ignore_ascii_case(name))
                    .map(|a| a[2].to_owned())
            };
            let Some(src) = attribute("src") else {
                return String::new();
            };
            // Attribute text escapes `&` and `"` only: unescape `&amp;` to read the URL.
            let host = reqwest::Url::parse(&src.replace("&amp;", "&"))
                .ok()
                .and_then(|url| url.host_str().map(str::to_ascii_lowercase));
            if host.is_some_and(|host| image_hosts.contains(&host)) {
                return tag[0].to_owned();
            }
            // In text, `<` and `>` must be escaped too; `&` and `"` already are.
            let label = attribute("alt")
                .filter(|alt| !alt.trim().is_empty())
                .unwrap_or_else(|| "Image".to_owned())
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            format!(
                r#"<a href="{src}" rel="noopener noreferrer nofollow" class="image-link">{label}</a>"#
            )
        })
        .into_owned()
}

fn author_of(creator: Option<&monday::UserRef>) -> String {
    creator.map_or_else(|| crate::model::TEAM_AUTHOR.to_owned(), |c| c.name.clone())
}

fn was_edited(created_at: Option<&str>, updated_at: Option<&str>) -> bool {
    matches!((created_at, updated_at), (Some(c), Some(u)) if normalize_timestamp(Some(c)) != normalize_timestamp(Some(u)))
}

fn client_reply(message: &ClientMessage, in_reply_to: Option<String>) -> Reply {
    Reply {
        id: message.id.clone(),
        author: message.author.clone(),
        from_client: true,
        body_html: text_to_html(&message.body),
        created_at: message.created_at.clone(),
        delivery: message.delivery.clone(),
        in_reply_to,
        thread: message.monday_update_id.clone(),
        edited: false,
        files: message.files.clone(),
    }
}

/// The team's files on a message, as the page lists them.
fn team_files(assets: Option<&Vec<monday::AssetNode>>) -> Vec<crate::model::FileRef> {
    assets
        .into_iter()
        .flatten()
        .map(super::attachments::asset_ref)
        .collect()
}

fn team_reply(reply: &ReplyNode, body_html: String, root: &str, shown_root: &str) -> Reply {
    Reply {
        id: reply.id.clone(),
        author: author_of(reply.creator.as_ref()),
        from_client: false,
        body_html,
        created_at: normalize_timestamp(reply.created_at.as_deref()),
        delivery: Delivery::Delivered,
        in_reply_to: Some(shown_root.to_owned()),
        thread: Some(root.to_owned()),
        edited: was_edited(reply.created_at.as_deref(), reply.updated_at.as_deref()),
        files: team_files(reply.assets.as_ref()),
    }
}

/// A public team message built from a webhook's payload (no read): at the top level without
/// its marker, in a thread as written.
pub fn team_post(
    id: &str,
    author: String,
    body: &str,
    created_at: String,
    thread: Option<&str>,
    shown_root: Option<String>,
    markers: &Markers,
) -> Reply {
    let body_html = match thread {
        None => markers.safe_html(body, true),
        Some(_) => markers.safe_html(body, false),
    };
    Reply {
        id: id.to_owned(),
        author,
        from_client: false,
        body_html,
        created_at,
        delivery: Delivery::Delivered,
        in_reply_to: shown_root,
        thread: Some(thread.unwrap_or(id).to_owned()),
        edited: false,
        files: Vec::new(),
    }
}

/// The client's messages, each with its monday id when monday has it. A message delivered a
/// moment ago can be on the board (and in a page loaded on its webhook) before the outbox has
/// recorded the id it got: it is recognised by what the portal wrote ("… wrote via the client
/// portal:" and its text, in its thread), so it shows once, as the client's, and not also as a
/// team message beside its still-sending copy.
fn with_fresh_ids<'a>(
    updates: &[UpdateNode],
    client_messages: &'a [ClientMessage],
) -> std::borrow::Cow<'a, [ClientMessage]> {
    // Nearly always every message has its id: then nothing is copied.
    if client_messages.iter().all(|m| m.monday_update_id.is_some()) {
        return std::borrow::Cow::Borrowed(client_messages);
    }
    let squeeze = |text: &str| -> String { text.chars().filter(|c| !c.is_whitespace()).collect() };
    let mut claimed: Vec<&str> = client_messages
        .iter()
        .filter_map(|m| m.monday_update_id.as_deref())
        .collect();
    let mut out = client_messages.to_vec();
    for message in out.iter_mut().filter(|m| m.monday_update_id.is_none()) {
        let words = squeeze(&message.body);
        let says_it = |body: &str, text_body: Option<&str>| {
            let text = text_of(body, text_body);
            text.contains("wrote via the client portal:") && squeeze(&text).ends_with(&words)
        };
        let candidates: Vec<&str> = match &message.parent_update_id {
            None => updates
                .iter()
                .filter(|u| says_it(&u.body, u.text_body.as_deref()))
                .map(|u| u.id.as_str())
                .collect(),
            Some(parent) => updates
                .iter()
                .filter(|u| &u.id == parent)
                .flat_map(|u| u.replies.iter().flatten())
                .filter(|r| says_it(&r.body, r.text_body.as_deref()))
                .map(|r| r.id.as_str())
                .collect(),
        };
        if let Some(id) = candidates.into_iter().find(|id| !claimed.contains(id)) {
            claimed.push(id);
            message.monday_update_id = Some(id.to_owned());
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The public conversation: threads in the order they started, each message followed by the
/// replies in its thread, oldest first.
pub fn conversation(
    updates: &[UpdateNode],
    client_messages: &[ClientMessage],
    markers: &Markers,
) -> Vec<Reply> {
    let client_messages = &with_fresh_ids(updates, client_messages);
    let written_by_portal = |id: &str| {
        client_messages
            .iter()
            .find(|m| m.monday_update_id.as_deref() == Some(id))
    };
    // Each thread: its first message (or None when the client cannot see it) and its replies.
    let mut threads: Vec<(String, Option<Reply>, Vec<Reply>)> = Vec::new();
    for update in updates {
        let mine = written_by_portal(&update.id);
        // The item's first update holding a long description is the client's words too: the
        // team replying under it answers the client. It is not repeated in the conversation
        // (the page shows the description).
        let description = mine.is_none()
            && is_description_update(&text_of(&update.body, update.text_body.as_deref()));
        let first = match mine {
            // A client's message reads from the outbox, where its words are exactly kept.
            Some(message) if message.parent_update_id.is_none() => {
                Some(client_reply(message, None))
            }
            Some(_) => None,
            None if is_public(update, &markers.public) => Some(Reply {
                id: update.id.clone(),
                author: author_of(update.creator.as_ref()),
                from_client: false,
                body_html: markers.safe_html(&update.body, true),
                created_at: normalize_timestamp(update.created_at.as_deref()),
                delivery: Delivery::Delivered,
                in_reply_to: None,
                thread: Some(update.id.clone()),
                edited: was_edited(update.created_at.as_deref(), update.updated_at.as_deref()),
                files: team_files(update.assets.as_ref()),
            }),
            None => None,
        };
        let thread_open = first.is_some() || description;
        let shown_root = first.as_ref().map_or(update.id.clone(), |r| r.id.clone());
        let mut replies = Vec::new();
        for reply in update.replies.iter().flatten() {
            if let Some(message) = written_by_portal(&reply.id) {
                replies.push(client_reply(message, Some(shown_root.clone())));
                continue;
            }
            let text = text_of(&reply.body, reply.text_body.as_deref());
            if !reply_is_public(&text, thread_open, markers) {
                continue;
            }
            // A reply made public by `@client` under an internal note shows without the marker.
            let html = if thread_open {
                markers.safe_html(&reply.body, false)
            } else {
                markers.safe_html(&reply.body, true)
            };
            let mut shown = team_reply(reply, html, &update.id, &shown_root);
            if first.is_none() {
                // Its thread's first message is not shown (the description).
                shown.in_reply_to = None;
            }
            replies.push(shown);
        }
        let start = first
            .as_ref()
            .map(|r| r.created_at.clone())
            .or_else(|| replies.first().map(|r| r.created_at.clone()))
            .unwrap_or_default();
        if first.is_some() || !replies.is_empty() {
            threads.push((start, first, replies));
        }
    }
    // The client's messages monday does not list yet (still in the outbox, or just sent).
    let listed = |message: &ClientMessage| {
        message.monday_update_id.as_deref().is_some_and(|id| {
            updates
                .iter()
                .any(|u| u.id == id || u.replies.iter().flatten().any(|r| r.id == id))
        })
    };
    for message in client_messages.iter().filter(|m| !listed(m)) {
        let thread = message.parent_update_id.as_deref().and_then(|parent| {
            threads.iter_mut().find(|(_, first, _)| {
                first
                    .as_ref()
                    .is_some_and(|f| f.thread.as_deref() == Some(parent))
            })
        });
        match thread {
            Some((_, first, replies)) => {
                let root = first.as_ref().map(|f| f.id.clone());
                replies.push(client_reply(message, root));
            }
            None => threads.push((
                message.created_at.clone(),
                Some(client_reply(message, None)),
                Vec::new(),
            )),
        }
    }
    threads.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::new();
    for (_, first, mut replies) in threads {
        replies.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        out.extend(first);
        out.extend(replies);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use monday::{ReplyNode, UserRef};

    fn markers() -> Markers {
        Markers::new(
            "@client".into(),
            "@internal".into(),
            vec!["files.monday.com".into()],
        )
    }

    #[test]
    fn a_body_is_made_safe_once_and_kept_apart_by_kind() {
        let m = markers();
        let body = "<p>@client Fixed <script>alert(1)</script></p>";
        for _ in 0..2 {
            assert_eq!(
                m.safe_html(body, true),
                public_body_html(body, "@client", &m.image_hosts)
            );
            assert_eq!(m.safe_html(body, false), sanitize(body, &m.image_hosts));
        }
        assert_ne!(m.safe_html(body, true), m.safe_html(body, false));
        assert!(!m.safe_html(body, false).contains("script"));
        assert_eq!(m.bodies.plain.len(), 1);
        assert_eq!(m.bodies.public.len(), 1);
    }

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
            assets: None,
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
            parent_update_id: None,
            delivery: Delivery::Delivered,
            files: Vec::new(),
        }];
        let shown = conversation(&updates, &mine, &markers());
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
        assert_eq!(public_body_html(&u.body, "@client", &[]), "<p>Fixed!</p>");
    }

    #[test]
    fn update_html_is_sanitised() {
        let html = public_body_html(
            r#"<p>@client <a href="javascript:alert(1)">x</a><img src=x onerror=alert(1)><script>alert(1)</script><b>ok</b> <a href="https://example.com">site</a></p>"#,
            "@client",
            &[],
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
    fn images_load_only_from_allowed_hosts_and_the_rest_become_links() {
        let hosts = markers().image_hosts;
        let html = sanitize(
            r#"<p><img src="https://files.monday.com/a.png" alt="ok"><img src="https://tracker.test/p.gif?u=1&amp;t=2" alt="<b>chart</b> &quot;x&quot;"><img src="//tracker.test/q.gif"><img src="https://FILES.monday.com.tracker.test/r.gif" alt=""></p>"#,
            &hosts,
        );
        assert!(
            html.contains(r#"<img src="https://files.monday.com/a.png" alt="ok">"#),
            "{html}"
        );
        assert_eq!(
            html.matches("<img").count(),
            1,
            "only the allowed image loads: {html}"
        );
        assert!(
            html.contains(r#"<a href="https://tracker.test/p.gif?u=1&amp;t=2" rel="noopener noreferrer nofollow" class="image-link">&lt;b&gt;chart&lt;/b&gt; &quot;x&quot;</a>"#),
            "{html}"
        );
        assert!(
            html.contains(">Image</a>"),
            "an image without alt text is named: {html}"
        );
        // A look-alike host is not the allowed one.
        assert!(
            html.contains(r#"<a href="https://FILES.monday.com.tracker.test/r.gif" rel="noopener noreferrer nofollow" class="image-link">Image</a>"#),
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

    fn reply(id: &str, body: &str, at: &str) -> ReplyNode {
        ReplyNode {
            id: id.into(),
            body: body.into(),
            text_body: Some(strip_tags(body)),
            created_at: Some(at.into()),
            updated_at: None,
            creator_id: Some("3".into()),
            creator: Some(UserRef {
                id: "3".into(),
                name: "Kim".into(),
            }),
            assets: None,
        }
    }

    fn message(id: &str, monday_id: &str, parent: Option<&str>, at: &str) -> ClientMessage {
        ClientMessage {
            id: id.into(),
            author: "Jane".into(),
            body: format!("client text {id}"),
            created_at: at.into(),
            monday_update_id: Some(monday_id.into()),
            parent_update_id: parent.map(str::to_owned),
            delivery: Delivery::Delivered,
            files: Vec::new(),
        }
    }

    #[test]
    fn a_message_on_the_board_before_the_outbox_knows_it_shows_once_as_the_clients() {
        let question = {
            let mut q = update(
                "55",
                "<p>@client Which model is it?</p>",
                "2024-01-01T00:00:00Z",
            );
            q.replies = Some(vec![ReplyNode {
                id: "56".into(),
                body: monday_body(Some("Kim"), "kim@x.test", "It is a\nLaserJet 4000."),
                text_body: None,
                created_at: Some("2024-01-01T00:01:00Z".into()),
                updated_at: None,
                creator_id: Some("9".into()),
                creator: None,
                assets: None,
            }]);
            q
        };
        // Delivered a moment ago: monday has it, the outbox has not recorded its id yet.
        let sending = ClientMessage {
            id: "b296".into(),
            author: "Kim".into(),
            body: "It is a\nLaserJet 4000.".into(),
            created_at: "2024-01-01T00:01:00Z".into(),
            monday_update_id: None,
            parent_update_id: Some("55".into()),
            delivery: Delivery::Waiting {
                attempts: 0,
                last_error: None,
            },
            files: Vec::new(),
        };
        let shown = conversation(&[question], &[sending], &markers());
        let laserjets: Vec<&Reply> = shown
            .iter()
            .filter(|r| r.body_html.contains("LaserJet"))
            .collect();
        assert_eq!(laserjets.len(), 1, "{shown:#?}");
        assert!(laserjets[0].from_client, "shown as the client's own");
    }

    #[test]
    fn replies_in_the_clients_thread_answer_the_client_unless_marked_internal() {
        let mut from_client = update("10", "<p>client wrote</p>", "2024-01-01T00:00:00Z");
        from_client.replies = Some(vec![
            reply(
                "11",
                "<p>We are looking into it</p>",
                "2024-01-01T01:00:00Z",
            ),
            reply(
                "12",
                "<p>@internal they broke it themselves</p>",
                "2024-01-01T02:00:00Z",
            ),
        ]);
        let mut note = update("20", "<p>Internal: VIP client</p>", "2024-01-02T00:00:00Z");
        note.replies = Some(vec![
            reply("21", "<p>agreed, hurry</p>", "2024-01-02T01:00:00Z"),
            reply("22", "<p>@client Fixed now</p>", "2024-01-02T02:00:00Z"),
        ]);
        let shown = conversation(
            &[note, from_client],
            &[message("m1", "10", None, "2024-01-01T00:00:00Z")],
            &markers(),
        );
        let ids: Vec<&str> = shown.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["m1", "11", "22"]);
        assert_eq!(shown[1].in_reply_to.as_deref(), Some("m1"));
        assert_eq!(
            shown[1].thread.as_deref(),
            Some("10"),
            "a reply goes under update 10"
        );
        assert_eq!(shown[1].author, "Kim");
        assert_eq!(
            shown[2].body_html, "<p>Fixed now</p>",
            "the marker is removed"
        );
    }

    #[test]
    fn the_clients_answer_to_a_team_message_sits_in_that_thread() {
        let mut team = update(
            "30",
            "<p>@client Can you send a screenshot?</p>",
            "2024-01-03T00:00:00Z",
        );
        team.replies = Some(vec![reply(
            "32",
            "<p>Thanks, got it</p>",
            "2024-01-03T02:00:00Z",
        )]);
        // Delivered (monday lists it as reply 31) and one still waiting in the outbox.
        team.replies.as_mut().unwrap().push(reply(
            "31",
            "<p>Jane wrote via the client portal</p>",
            "2024-01-03T01:00:00Z",
        ));
        let mut waiting = message("m3", "", Some("30"), "2024-01-03T03:00:00Z");
        waiting.monday_update_id = None;
        waiting.delivery = Delivery::Waiting {
            attempts: 0,
            last_error: None,
        };
        let shown = conversation(
            &[team],
            &[
                message("m2", "31", Some("30"), "2024-01-03T01:00:00Z"),
                waiting,
            ],
            &markers(),
        );
        let ids: Vec<&str> = shown.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["30", "m2", "32", "m3"]);
        assert!(shown[1].from_client && shown[3].from_client);
        assert!(
            shown[1..]
                .iter()
                .all(|r| r.in_reply_to.as_deref() == Some("30"))
        );
    }
}
