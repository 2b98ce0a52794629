//! Server functions for tickets: the dashboard, one ticket, creating a ticket and replying. Each
//! acts for the signed-in member's portal only.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{Dashboard, Reply, Ticket, TicketQuery, TicketView, Viewer};

#[cfg(feature = "ssr")]
pub(crate) async fn viewer_of(signed: &super::support::SignedIn) -> Result<Viewer, AppError> {
    let portal = signed
        .state
        .auth
        .portal(&signed.member.portal_id)
        .await?
        .ok_or(AppError::NotSignedIn)?;
    let other_portals = signed
        .state
        .auth
        .portals_of(&signed.member.email)
        .await?
        .iter()
        .filter(|other| other.id != portal.id)
        .cloned()
        .collect();
    Ok(Viewer {
        email: signed.member.email.clone(),
        display_name: signed.display_name(),
        role: signed.access.role,
        portal,
        other_portals,
        upload_limits: signed.state.tickets.upload_limits(),
        // Only the pages with a form that posts files fill it in (`with_flash`).
        flash: None,
    })
}

/// The viewer with the message a plain form post left in the session for this page (see
/// [`crate::model::Viewer::flash`]), taken so it shows once. Only a page the file form sent
/// back to (`?error=files`) looks in the session: other page loads do not pay for it.
#[cfg(feature = "ssr")]
async fn with_flash(mut viewer: Viewer) -> Viewer {
    let sent_back = use_context::<http::request::Parts>()
        .and_then(|parts| parts.uri.query().map(|q| q.contains("error=files")))
        .unwrap_or(false);
    if sent_back && let Ok(session) = leptos_axum::extract::<tower_sessions::Session>().await {
        viewer.flash = crate::server::auth::session::take_flash(&session).await;
    }
    viewer
}

/// The member writing, as the ticket service signs their message: `name` (their display name,
/// if they gave one) and the language of this request.
#[cfg(feature = "ssr")]
fn writer(name: &Option<String>) -> crate::server::tickets::Writer<'_> {
    crate::server::tickets::Writer {
        name: name.as_deref(),
        locale: crate::i18n::locale(),
    }
}

#[cfg(feature = "ssr")]
fn freshness(saved_at: Option<String>) -> crate::model::Freshness {
    match saved_at {
        Some(as_of) => crate::model::Freshness::Saved { as_of },
        None => crate::model::Freshness::Live,
    }
}

/// The signed-in portal's tickets under `query` (filters, search, sort, page).
#[server]
pub async fn load_dashboard(query: TicketQuery) -> Result<Dashboard, AppError> {
    let signed = super::support::signed_in().await?;
    let viewer = viewer_of(&signed).await?;
    let tickets = signed.state.tickets.list(&signed.access).await?;
    Ok(Dashboard {
        viewer,
        page: crate::model::apply_query(&tickets.value, &query, &signed.member.email),
        freshness: freshness(tickets.saved_at),
    })
}

/// One ticket the signed-in member may see, with who follows it; another portal's ticket (or,
/// for a requester, a colleague's they do not follow) is not found.
#[server]
pub async fn load_ticket(id: String) -> Result<TicketView, AppError> {
    let signed = super::support::signed_in().await?;
    let viewer = with_flash(viewer_of(&signed).await?).await;
    let detail = signed.state.tickets.detail(&signed.access, &id).await?;
    let auth = &signed.state.auth;
    let ticket_id = &detail.value.ticket.id;
    let followers = auth.followers(&signed.member.portal_id, ticket_id).await?;
    // Requesters do not see the portal's people; pending tickets cannot be followed yet.
    let can_add = if signed.access.role.sees_all_tickets() && !ticket_id.starts_with("pending-") {
        auth.colleagues_kept(&signed.member.portal_id)
            .await?
            .iter()
            .filter(|c| !followers.iter().any(|f| f.email == c.email))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let followers = followers.as_ref().clone();
    let resolution = signed.state.tickets.resolution(&detail.value).await?;
    Ok(TicketView {
        viewer,
        detail: detail.value,
        followers,
        can_add,
        resolution,
        freshness: freshness(detail.saved_at),
    })
}

/// Follows a ticket the member may see (`email` empty: the member themselves; otherwise a
/// colleague, which only members and admins may add), or stops following with `stop`. Answers
/// whether the member still sees the ticket (a requester who stops following a colleague's
/// ticket does not, and a plain form goes back to the dashboard). Works as a plain form post.
#[server]
pub async fn set_following(
    ticket_id: String,
    #[server(default)] email: Option<String>,
    #[server(default)] stop: Option<String>,
) -> Result<bool, AppError> {
    use super::support::{finish_plain_form, signed_in};
    use crate::server::html::query_value;
    use crate::server::http::limits::Write;
    let page = format!("/tickets/{}", query_value(&ticket_id));
    let result = async {
        let signed = signed_in().await?;
        signed.check_write_limit(Write::Reply).await?;
        // The same check as reading the ticket: nobody follows what they may not see.
        let detail = signed
            .state
            .tickets
            .detail(&signed.access, &ticket_id)
            .await?;
        let ticket_id = &detail.value.ticket.id;
        if ticket_id.starts_with("pending-") {
            return Err(AppError::invalid(
                "pending_follow",
                "This ticket has not reached the team yet. Follow it once it has.",
            ));
        }
        let email = email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .unwrap_or(&signed.member.email);
        let auth = &signed.state.auth;
        if stop.is_some_and(|s| !s.is_empty()) {
            auth.unfollow(&signed.access, ticket_id, email, signed.address)
                .await?;
        } else {
            auth.follow(&signed.access, ticket_id, email, signed.address)
                .await?;
        }
        let now = auth
            .access(signed.member.clone())
            .await?
            .ok_or(AppError::NotSignedIn)?;
        Ok(now.can_see(&detail.value.ticket))
    }
    .await;
    finish_plain_form(
        result,
        |still_sees| {
            if *still_sees {
                page.clone()
            } else {
                "/dashboard".to_owned()
            }
        },
        &page,
    )
}

/// The signed-in member, for pages that show only the frame (the new-ticket page).
#[server]
pub async fn load_viewer() -> Result<Viewer, AppError> {
    let signed = super::support::signed_in().await?;
    Ok(with_flash(viewer_of(&signed).await?).await)
}

/// Saves a new ticket; it reaches monday through the outbox. Works as a plain form post too.
#[server]
pub async fn create_ticket(
    title: String,
    description: String,
    priority: String,
) -> Result<Ticket, AppError> {
    use super::support::{finish_plain_form, signed_in};
    use crate::server::auth::AuditEvent;
    use crate::server::http::limits::Write;
    let result = async {
        let signed = signed_in().await?;
        let new = crate::model::NewTicket::validate(&title, &description, &priority)
            .map_err(|e| AppError::invalid(e.field, e.message))?;
        signed.check_write_limit(Write::Ticket).await?;
        let name = signed.display_name();
        let ticket = signed
            .state
            .tickets
            .create(&signed.member, name.as_deref(), &new, Vec::new())
            .await?;
        signed.audit(AuditEvent::TicketCreated, &new.title).await;
        Ok(ticket)
    }
    .await;
    finish_plain_form(
        result,
        |_| "/dashboard?created=1".to_owned(),
        "/tickets/new",
    )
}

/// Posts the client's message on the ticket (through the outbox); with `reply_to`, as a reply
/// in the thread of that team message.
#[server]
pub async fn post_reply(
    ticket_id: String,
    body: String,
    #[server(default)] reply_to: Option<String>,
) -> Result<Reply, AppError> {
    use super::support::{finish_plain_form, signed_in};
    use crate::server::auth::AuditEvent;
    use crate::server::html::query_value;
    use crate::server::http::limits::Write;
    let page = format!("/tickets/{}", query_value(&ticket_id));
    let result = async {
        let signed = signed_in().await?;
        signed.check_write_limit(Write::Reply).await?;
        let name = signed.display_name();
        let reply = signed
            .state
            .tickets
            .reply(
                &signed.access,
                writer(&name),
                &ticket_id,
                &body,
                reply_to.as_deref(),
                Vec::new(),
            )
            .await?;
        signed.audit(AuditEvent::ReplyPosted, &ticket_id).await;
        Ok(reply)
    }
    .await;
    finish_plain_form(result, |_| page.clone(), &page)
}

/// "This is solved": the ticket becomes Resolved on monday (through the outbox), with a message
/// saying who. Works as a plain form post too.
#[server]
pub async fn resolve_ticket(ticket_id: String) -> Result<Reply, AppError> {
    use super::support::{finish_plain_form, signed_in};
    use crate::server::auth::AuditEvent;
    use crate::server::html::query_value;
    use crate::server::http::limits::Write;
    let page = format!("/tickets/{}", query_value(&ticket_id));
    let result = async {
        let signed = signed_in().await?;
        signed.check_write_limit(Write::Reply).await?;
        let reply = signed
            .state
            .tickets
            .resolve(&signed.access, writer(&signed.display_name()), &ticket_id)
            .await?;
        signed.audit(AuditEvent::TicketResolved, &ticket_id).await;
        Ok(reply)
    }
    .await;
    finish_plain_form(result, |_| page.clone(), &page)
}

/// Reopens a resolved ticket within the reopen window, with the client's reason. Works as a
/// plain form post too.
#[server]
pub async fn reopen_ticket(ticket_id: String, reason: String) -> Result<Reply, AppError> {
    use super::support::{finish_plain_form, signed_in};
    use crate::server::auth::AuditEvent;
    use crate::server::html::query_value;
    use crate::server::http::limits::Write;
    let page = format!("/tickets/{}", query_value(&ticket_id));
    let result = async {
        let signed = signed_in().await?;
        signed.check_write_limit(Write::Reply).await?;
        let reply = signed
            .state
            .tickets
            .reopen(
                &signed.access,
                writer(&signed.display_name()),
                &ticket_id,
                &reason,
            )
            .await?;
        signed.audit(AuditEvent::TicketReopened, &ticket_id).await;
        Ok(reply)
    }
    .await;
    finish_plain_form(result, |_| page.clone(), &page)
}

/// Records how the answer was (good / not good, optional comment) on a resolved ticket. Only a
/// POST records: a mail's rating link opens the page with the choice made, nothing more.
#[server]
pub async fn rate_ticket(
    ticket_id: String,
    rating: String,
    #[server(default)] comment: Option<String>,
) -> Result<Reply, AppError> {
    use super::support::{finish_plain_form, signed_in};
    use crate::server::auth::AuditEvent;
    use crate::server::html::query_value;
    use crate::server::http::limits::Write;
    let page = format!("/tickets/{}", query_value(&ticket_id));
    let result = async {
        let signed = signed_in().await?;
        let score = crate::model::Rating::parse(&rating)
            .ok_or_else(|| AppError::invalid("rating", "Choose Good or Not good."))?;
        signed.check_write_limit(Write::Reply).await?;
        let reply = signed
            .state
            .tickets
            .rate(
                &signed.access,
                writer(&signed.display_name()),
                &ticket_id,
                score,
                comment.as_deref().unwrap_or_default(),
            )
            .await?;
        signed
            .audit(
                AuditEvent::TicketRated,
                &format!("{ticket_id}: {}", score.as_str()),
            )
            .await;
        Ok(reply)
    }
    .await;
    finish_plain_form(result, |_| format!("{page}?rated=1"), &page)
}

/// Starts a new ticket that follows up a resolved one. Works as a plain form post too.
#[server]
pub async fn follow_up_ticket(ticket_id: String, body: String) -> Result<Ticket, AppError> {
    use super::support::{finish_plain_form, signed_in};
    use crate::server::auth::AuditEvent;
    use crate::server::html::query_value;
    use crate::server::http::limits::Write;
    let page = format!("/tickets/{}", query_value(&ticket_id));
    let result = async {
        let signed = signed_in().await?;
        signed.check_write_limit(Write::Ticket).await?;
        let ticket = signed
            .state
            .tickets
            .follow_up(
                &signed.access,
                writer(&signed.display_name()),
                &ticket_id,
                &body,
            )
            .await?;
        signed.audit(AuditEvent::TicketCreated, &ticket.title).await;
        Ok(ticket)
    }
    .await;
    finish_plain_form(result, |_| "/dashboard?created=1".to_owned(), &page)
}
