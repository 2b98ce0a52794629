//! Every notification mail, in the recipient's language and time zone (the sentences are in
//! `locales/<language>/mail.json`). Each mail has a plain-text and an HTML part
//! built from the same sentences; the HTML is a single-column table-free layout with the
//! portal's name and colour as real text (readable with images off), text colour picked for
//! contrast against the brand colour, and the client's own words escaped. The team's HTML
//! goes through the portal's sanitiser ([`crate::server::html::sanitize`]) again.

use super::Change;
use crate::i18n::time::exact;
use crate::i18n::{I18nLocaleTrait, Locale, Prefs, direction, td_string, words};
use crate::model::{PortalBrand, Rating, Status, text_colour_on};
use crate::server::html::{escape, html_to_text, sanitize};

/// Who the mail is for and the links every mail carries.
pub struct MailContext<'a> {
    /// The recipient's language and zone.
    pub prefs: Prefs,
    pub portal: &'a PortalBrand,
    pub public_url: &'a str,
    pub name: Option<&'a str>,
    pub preferences_url: String,
    pub unsubscribe_url: String,
    /// How long the ticket links work.
    pub link_hours: u64,
}

/// What happened to one ticket, with the link that opens it.
pub struct TicketNews {
    pub ticket_id: String,
    pub title: String,
    pub link: String,
    /// For a ticket now resolved: links that open it with "Good" or "Not good" chosen (each a
    /// sign-in link of its own). Opening one records nothing; the page asks to confirm.
    pub rating_links: Option<(String, String)>,
    /// Each change with when it was recorded (Unix seconds).
    pub changes: Vec<(Change, i64)>,
}

pub struct Written {
    pub subject: String,
    pub text: String,
    pub html: String,
}

// ---- The sentences -------------------------------------------------------------------------

fn greeting(l: Locale, name: Option<&str>) -> String {
    match name {
        Some(name) => td_string!(l, mail.greeting_named, name = name),
        None => td_string!(l, mail.greeting).to_owned(),
    }
}

fn subject_one(l: Locale, change: &Change, title: &str) -> String {
    match change {
        Change::TeamReply { author, .. } => {
            td_string!(
                l,
                mail.subject_reply,
                author = words::author(l, author),
                title = title
            )
        }
        Change::StatusChanged { status } => {
            td_string!(
                l,
                mail.subject_status,
                title = title,
                status = words::status(l, *status)
            )
        }
        Change::Received { .. } => td_string!(l, mail.subject_received, title = title),
        Change::Refused { reply: false, .. } => {
            td_string!(l, mail.subject_refused_ticket, title = title)
        }
        Change::Refused { reply: true, .. } => {
            td_string!(l, mail.subject_refused_reply, title = title)
        }
    }
}

fn subject_many(l: Locale, count: usize, title: &str) -> String {
    td_string!(l, mail.subject_many, count = count, title = title)
}

fn subject_digest(l: Locale, portal: &str, count: usize) -> String {
    td_string!(l, mail.subject_digest, count = count, portal = portal)
}

fn intro_one(l: Locale, title: &str) -> String {
    td_string!(l, mail.intro_ticket, title = title)
}

fn intro_digest(l: Locale, portal: &str) -> String {
    td_string!(l, mail.intro_digest, portal = portal)
}

/// A change's heading line (plain text; escaped for HTML by the caller).
fn headline(l: Locale, change: &Change) -> String {
    match change {
        Change::TeamReply { author, .. } => {
            td_string!(l, mail.headline_reply, author = words::author(l, author))
        }
        Change::StatusChanged { status } => {
            td_string!(l, mail.headline_status, status = words::status(l, *status))
        }
        Change::Received { reference, .. } => {
            td_string!(l, mail.headline_received, reference = reference)
        }
        Change::Refused { reply: false, .. } => {
            td_string!(l, mail.headline_refused_ticket).to_owned()
        }
        Change::Refused { reply: true, .. } => {
            td_string!(l, mail.headline_refused_reply).to_owned()
        }
    }
}

/// What happens next, or what to do (plain text).
fn next_steps(context: &MailContext<'_>, change: &Change) -> Option<String> {
    let l = context.prefs.locale;
    match change {
        Change::StatusChanged {
            status: Status::Resolved,
        } => Some(td_string!(l, mail.next_resolved).to_owned()),
        Change::StatusChanged {
            status: Status::Closed,
        } => Some(td_string!(l, mail.next_closed).to_owned()),
        Change::Received {
            arrived_at,
            waited_seconds,
            ..
        } if *waited_seconds >= 60 => Some(td_string!(
            l,
            mail.next_delayed,
            when = exact(&context.prefs, *arrived_at).unwrap_or_default()
        )),
        Change::Refused { reason, .. } => Some(td_string!(l, mail.next_refused, reason = reason)),
        _ => None,
    }
}

// ---- Layout ---------------------------------------------------------------------------------

fn change_text(context: &MailContext<'_>, change: &Change) -> String {
    let mut out = headline(context.prefs.locale, change);
    if let Change::TeamReply { body_html, .. } = change {
        let text = html_to_text(&sanitize(body_html));
        for line in text.lines() {
            out.push_str("\n  ");
            out.push_str(line);
        }
    }
    if let Some(next) = next_steps(context, change) {
        out.push('\n');
        out.push_str(&next);
    }
    out
}

fn change_html(context: &MailContext<'_>, change: &Change) -> String {
    let mut out = format!(
        r#"<p style="margin:16px 0 4px;font-weight:600">{}</p>"#,
        escape(&headline(context.prefs.locale, change))
    );
    if let Change::TeamReply { body_html, .. } = change {
        // The quote's rule on the side the text starts from; a physical side, because mail
        // programs ignore `border-inline-start`.
        let side = if direction(context.prefs.locale) == "rtl" {
            "right"
        } else {
            "left"
        };
        out.push_str(&format!(
            r#"<blockquote style="margin:0 0 8px;padding:4px 12px;border-{side}:4px solid #cbd5e1;color:#0f172a">{}</blockquote>"#,
            sanitize(body_html)
        ));
    }
    if let Some(next) = next_steps(context, change) {
        out.push_str(&format!(
            r#"<p style="margin:4px 0;color:#334155">{}</p>"#,
            escape(&next)
        ));
    }
    out
}

fn button(context: &MailContext<'_>, link: &str) -> String {
    let ink = text_colour_on(&context.portal.colour);
    format!(
        r#"<p style="margin:20px 0 8px"><a href="{link}" style="display:inline-block;background:{colour};color:{ink};padding:10px 18px;border-radius:6px;text-decoration:none;font-weight:600">{label}</a></p>"#,
        link = escape(link),
        colour = escape(&context.portal.colour),
        label = escape(td_string!(context.prefs.locale, mail.open_ticket)),
    )
}

fn page(context: &MailContext<'_>, body: &str) -> String {
    let portal = &context.portal;
    let l = context.prefs.locale;
    let ink = text_colour_on(&portal.colour);
    let logo = portal.logo_url.as_ref().map_or_else(String::new, |url| {
        let src = if url.starts_with('/') {
            format!("{}{url}", context.public_url)
        } else {
            url.clone()
        };
        format!(
            r#"<img src="{}" alt="" width="28" height="28" style="vertical-align:middle;margin-inline-end:8px;background:#fff;border-radius:4px">"#,
            escape(&src)
        )
    });
    format!(
        r#"<!DOCTYPE html><html lang="{lang}" dir="{dir}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{name}</title></head>
<body style="margin:0;padding:0;background:#f8fafc;font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#0f172a;font-size:16px;line-height:1.5">
<div style="max-width:600px;margin:0 auto;padding:16px">
<div style="background:{colour};color:{ink};padding:12px 16px;border-radius:8px 8px 0 0;font-weight:700">{logo}{name}</div>
<div style="background:#ffffff;padding:16px 20px;border-radius:0 0 8px 8px">
{body}
</div>
<p style="color:#475569;font-size:13px;margin:16px 4px">{why}<br><a href="{preferences}" style="color:#1e3a8a">{change}</a> · <a href="{unsubscribe}" style="color:#1e3a8a">{unsubscribe_label}</a></p>
</div></body></html>"#,
        name = escape(&portal.name),
        colour = escape(&portal.colour),
        why = escape(&td_string!(l, mail.footer_why, portal = &portal.name)),
        preferences = escape(&context.preferences_url),
        change = escape(td_string!(l, mail.change_preferences)),
        unsubscribe = escape(&context.unsubscribe_url),
        unsubscribe_label = escape(td_string!(l, mail.unsubscribe)),
        lang = l.as_str(),
        dir = direction(l),
    )
}

fn text_footer(context: &MailContext<'_>) -> String {
    let l = context.prefs.locale;
    format!(
        "\n--\n{}\n{}: {}\n{}: {}\n",
        td_string!(l, mail.footer_why, portal = &context.portal.name),
        td_string!(l, mail.change_preferences),
        context.preferences_url,
        td_string!(l, mail.unsubscribe),
        context.unsubscribe_url
    )
}

fn ticket_text(context: &MailContext<'_>, news: &TicketNews) -> String {
    let l = context.prefs.locale;
    let mut text = String::new();
    for (change, _) in &news.changes {
        text.push_str(&change_text(context, change));
        text.push_str("\n\n");
    }
    if let Some((good, bad)) = &news.rating_links {
        text.push_str(&format!(
            "{}\n{}: {good}\n{}: {bad}\n{}\n\n",
            td_string!(l, mail.how_did_we_do),
            words::rating(l, Rating::Good),
            words::rating(l, Rating::NotGood),
            td_string!(l, mail.rating_note)
        ));
    }
    text.push_str(&format!(
        "{}: {}\n{}\n",
        td_string!(l, mail.open_ticket),
        news.link,
        td_string!(l, mail.link_note, hours = context.link_hours)
    ));
    text
}

fn ticket_html(context: &MailContext<'_>, news: &TicketNews) -> String {
    let l = context.prefs.locale;
    let mut html = String::new();
    for (change, _) in &news.changes {
        html.push_str(&change_html(context, change));
    }
    if let Some((good, bad)) = &news.rating_links {
        let choice = |link: &str, label: &str| {
            format!(
                r#"<a href="{}" style="display:inline-block;margin-inline-end:8px;padding:8px 14px;border:1px solid #94a3b8;border-radius:6px;color:#0f172a;text-decoration:none;font-weight:600">{}</a>"#,
                escape(link),
                escape(label)
            )
        };
        html.push_str(&format!(
            r#"<p style="margin:16px 0 6px;font-weight:600">{}</p><p style="margin:0 0 6px">{}{}</p><p style="margin:0;color:#475569;font-size:14px">{}</p>"#,
            escape(td_string!(l, mail.how_did_we_do)),
            choice(good, words::rating(l, Rating::Good)),
            choice(bad, words::rating(l, Rating::NotGood)),
            escape(td_string!(l, mail.rating_note))
        ));
    }
    html.push_str(&button(context, &news.link));
    html.push_str(&format!(
        r#"<p style="color:#475569;font-size:14px;margin:0">{}</p>"#,
        escape(&td_string!(l, mail.link_note, hours = context.link_hours))
    ));
    html
}

/// The mail about one ticket (one change, or several coalesced).
pub fn ticket(context: &MailContext<'_>, news: &TicketNews) -> Written {
    let l = context.prefs.locale;
    let subject = match news.changes.as_slice() {
        [(only, _)] => subject_one(l, only, &news.title),
        many => subject_many(l, many.len(), &news.title),
    };
    let intro = intro_one(l, &news.title);
    let text = format!(
        "{}\n\n{intro}\n\n{}{}",
        greeting(l, context.name),
        ticket_text(context, news),
        text_footer(context)
    );
    let body = format!(
        r#"<p>{}</p><p>{}</p>{}"#,
        escape(&greeting(l, context.name)),
        escape(&intro),
        ticket_html(context, news)
    );
    Written {
        subject,
        text,
        html: page(context, &body),
    }
}

/// The daily digest: every ticket with news, each with its changes and link.
pub fn digest(context: &MailContext<'_>, news: &[TicketNews]) -> Written {
    let l = context.prefs.locale;
    let count: usize = news.iter().map(|n| n.changes.len()).sum();
    let intro = intro_digest(l, &context.portal.name);
    let mut text = format!("{}\n\n{intro}\n\n", greeting(l, context.name));
    let mut body = format!(
        "<p>{}</p><p>{}</p>",
        escape(&greeting(l, context.name)),
        escape(&intro)
    );
    for ticket in news {
        text.push_str(&format!("== {} ==\n\n", ticket.title));
        text.push_str(&ticket_text(context, ticket));
        text.push('\n');
        body.push_str(&format!(
            r#"<h2 style="font-size:18px;margin:24px 0 0;border-top:1px solid #e2e8f0;padding-top:16px">{}</h2>"#,
            escape(&ticket.title)
        ));
        body.push_str(&ticket_html(context, ticket));
    }
    text.push_str(&text_footer(context));
    Written {
        subject: subject_digest(l, &context.portal.name, count),
        text,
        html: page(context, &body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn portal() -> PortalBrand {
        PortalBrand {
            id: "acme".into(),
            name: "Acme & Co".into(),
            colour: "#1d4ed8".into(),
            logo_url: None,
        }
    }

    fn context(portal: &PortalBrand) -> MailContext<'_> {
        MailContext {
            prefs: Prefs::default(),
            portal,
            public_url: "https://portal.example.com",
            name: Some("Kim <script>"),
            preferences_url: "https://portal.example.com/settings/notifications".into(),
            unsubscribe_url: "https://portal.example.com/notifications/unsubscribe?token=t".into(),
            link_hours: 72,
        }
    }

    #[test]
    fn a_team_reply_is_sanitised_and_the_clients_words_escaped() {
        let portal = PortalBrand {
            id: "acme".into(),
            name: "Acme & Co".into(),
            colour: "#1d4ed8".into(),
            logo_url: None,
        };
        let news = TicketNews {
            ticket_id: "1".into(),
            title: "<b>Printer</b>".into(),
            link: "https://portal.example.com/login?portal_id=acme&token=x".into(),
            rating_links: None,
            changes: vec![(
                Change::TeamReply {
                    author: "Ana".into(),
                    body_html: r#"<p>Fixed <img src=x onerror=alert(1)><script>x()</script></p>"#
                        .into(),
                },
                0,
            )],
        };
        let mail = ticket(&context(&portal), &news);
        assert_eq!(mail.subject, "Ana replied: <b>Printer</b>");
        assert!(mail.html.contains("&lt;b&gt;Printer&lt;/b&gt;"));
        assert!(mail.html.contains("Kim &lt;script&gt;"));
        assert!(!mail.html.contains("onerror"));
        assert!(!mail.html.contains("<script>"));
        assert!(mail.html.contains("Acme &amp; Co"));
        assert!(mail.text.contains("  Fixed"));
        assert!(mail.text.contains("Unsubscribe from these mails: https://"));
        assert!(mail.html.contains("portal_id=acme&amp;token=x"));
    }

    #[test]
    fn a_resolution_mail_asks_how_it_went_with_links_that_only_choose() {
        let portal = PortalBrand {
            id: "acme".into(),
            name: "Acme".into(),
            colour: "#b91c1c".into(),
            logo_url: None,
        };
        let news = TicketNews {
            ticket_id: "1".into(),
            title: "Printer".into(),
            link: "https://p.example/login?portal_id=acme&token=a".into(),
            rating_links: Some((
                "https://p.example/login?portal_id=acme&token=b&rate=good".into(),
                "https://p.example/login?portal_id=acme&token=c&rate=bad".into(),
            )),
            changes: vec![(
                Change::StatusChanged {
                    status: Status::Resolved,
                },
                0,
            )],
        };
        let mail = ticket(&context(&portal), &news);
        assert!(mail.text.contains("How did we do?\nGood: https://p.example/login?portal_id=acme&token=b&rate=good\nNot good: https://p.example/login?portal_id=acme&token=c&rate=bad"), "{}", mail.text);
        assert!(mail.text.contains("one more click sends it"));
        assert!(mail.html.contains("token=b&amp;rate=good"));
        assert!(mail.html.contains(">Not good</a>"));
    }

    #[test]
    fn resolved_and_closed_say_what_happens_next() {
        for status in [Status::Resolved, Status::Closed] {
            let text = change_text(&context(&portal()), &Change::StatusChanged { status });
            assert!(text.contains("reply on the ticket page"), "{text}");
        }
        assert!(
            !change_text(
                &context(&portal()),
                &Change::StatusChanged {
                    status: Status::InProgress
                }
            )
            .contains('\n')
        );
    }

    /// A notification mail in each language: both parts, every sentence filled in, the page's
    /// language and direction set, dates in the member's zone.
    #[test]
    fn every_mail_reads_in_every_language() {
        let portal = portal();
        let news = TicketNews {
            ticket_id: "1".into(),
            title: "Printer".into(),
            link: "https://p.example/login?portal_id=acme&token=a".into(),
            rating_links: Some((
                "https://p.example/good".into(),
                "https://p.example/bad".into(),
            )),
            changes: vec![
                (
                    Change::Received {
                        reference: "4711".into(),
                        // 2026-11-25 13:05 UTC, after an hour in the outbox.
                        arrived_at: 1_795_611_900,
                        waited_seconds: 3600,
                    },
                    0,
                ),
                (
                    Change::TeamReply {
                        author: "Ana".into(),
                        body_html: "<p>Fixed</p>".into(),
                    },
                    0,
                ),
                (
                    Change::StatusChanged {
                        status: Status::Resolved,
                    },
                    0,
                ),
            ],
        };
        let english = ticket(&context(&portal), &news);
        for &locale in Locale::get_all() {
            let mut context = context(&portal);
            context.prefs = Prefs::of_member(Some(locale), None, Some("Europe/Berlin".into()));
            let mails = [
                ticket(&context, &news),
                digest(&context, std::slice::from_ref(&news)),
            ];
            for mail in mails {
                let language = locale.as_str();
                for part in [&mail.subject, &mail.text, &mail.html] {
                    assert!(
                        !part.contains("{{") && !part.trim().is_empty(),
                        "{language}: {part}"
                    );
                }
                assert!(
                    mail.html.contains(&format!(
                        "lang=\"{language}\" dir=\"{}\"",
                        direction(locale)
                    )),
                    "{language}"
                );
                let open = td_string!(locale, mail.open_ticket);
                assert!(
                    mail.text.contains(open) && mail.html.contains(&escape(open)),
                    "{language}"
                );
                assert!(
                    mail.text.contains("Fixed") && mail.text.contains("Printer"),
                    "{language}"
                );
                // Delivered at 14:05 in Berlin, written the language's way.
                assert!(
                    mail.text.contains("14:05") || mail.text.contains("2:05"),
                    "{language}: {}",
                    mail.text
                );
                assert!(mail.text.contains("CET"), "{language}: {}", mail.text);
                if locale != Locale::en {
                    assert_ne!(mail.subject, english.subject, "{language}");
                    assert!(!mail.text.contains("Open the ticket"), "{language}");
                    assert!(!mail.text.contains("How did we do?"), "{language}");
                }
            }
        }
    }
}
