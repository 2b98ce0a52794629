//! Server functions for tickets: the dashboard, one ticket, creating a ticket and replying. Each
//! acts for the signed-in member's portal only.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{Dashboard, Reply, Ticket, TicketQuery, TicketView, Viewer};

#[cfg(feature = "ssr")]
async fn viewer_of(signed: &super::support::SignedIn) -> Result<Viewer, AppError> {
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
        display_name: signed.display_name().await?,
        portal,
        other_portals,
    })
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
    let tickets = signed.state.tickets.list(&signed.member).await?;
    Ok(Dashboard {
        viewer,
        page: crate::model::apply_query(&tickets.value, &query, &signed.member.email),
        freshness: freshness(tickets.saved_at),
    })
}

/// One ticket of the signed-in portal; another portal's ticket is not found.
#[server]
pub async fn load_ticket(id: String) -> Result<TicketView, AppError> {
    let signed = super::support::signed_in().await?;
    let viewer = viewer_of(&signed).await?;
    let detail = signed.state.tickets.detail(&signed.member, &id).await?;
    Ok(TicketView {
        viewer,
        detail: detail.value,
        freshness: freshness(detail.saved_at),
    })
}

/// The signed-in member, for pages that show only the frame (the new-ticket page).
#[server]
pub async fn load_viewer() -> Result<Viewer, AppError> {
    let signed = super::support::signed_in().await?;
    viewer_of(&signed).await
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
        let name = signed.display_name().await?;
        let ticket = signed
            .state
            .tickets
            .create(&signed.member, name.as_deref(), &new)
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
        let name = signed.display_name().await?;
        let reply = signed
            .state
            .tickets
            .reply(
                &signed.member,
                name.as_deref(),
                &ticket_id,
                &body,
                reply_to.as_deref(),
            )
            .await?;
        signed.audit(AuditEvent::ReplyPosted, &ticket_id).await;
        Ok(reply)
    }
    .await;
    finish_plain_form(result, |_| page.clone(), &page)
}
