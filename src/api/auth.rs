//! Server functions for signing in and out: checking a magic link without spending it, mailing
//! new links, spending a link to start a session, signing out, and the demo sign-in hints.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{DemoAccount, LinkStatus};

/// What a magic link would do, without spending it (mail scanners may open links).
#[server]
pub async fn check_link(portal_id: String, token: String) -> Result<LinkStatus, AppError> {
    let request = super::support::request().await?;
    let auth = &request.state.auth;
    let Some(email) = auth.peek_link(&portal_id, &token).await? else {
        return Ok(LinkStatus::Unusable);
    };
    match auth.portal(&portal_id).await? {
        Some(portal) => Ok(LinkStatus::Valid { email, portal }),
        None => Ok(LinkStatus::Unusable),
    }
}

/// The self-service form. The answer is the same whether or not the email is known.
#[server]
pub async fn request_sign_in_link(email: String) -> Result<String, AppError> {
    use super::support::{finish_plain_form, request};
    let result = async {
        let request = request().await?;
        Ok(request
            .state
            .auth
            .request_links(
                &email,
                request.address,
                &request.address_key,
                crate::i18n::locale(),
            )
            .await?)
    }
    .await;
    finish_plain_form(
        result,
        // The page says "if that address has access…" without repeating it from the URL.
        |_| "/login?sent=1".to_owned(),
        "/login",
    )
}

/// Spends the link and starts a session with a fresh id. A notification's link opens its
/// ticket; with `rate` (a resolution mail's rating link) the page opens with that answer chosen,
/// recording nothing.
#[server]
pub async fn continue_sign_in(
    portal_id: String,
    token: String,
    #[server(default)] rate: Option<String>,
) -> Result<(), AppError> {
    use crate::server::auth::AuditEvent;
    use crate::server::auth::session::sign_in;
    let request = super::support::request().await?;
    let auth = &request.state.auth;
    let consumed = auth
        .consume_link_to(&portal_id, &token, request.address, &request.address_key)
        .await;
    let (member, ticket_id) = match consumed {
        Ok(spent) => spent,
        Err(crate::server::auth::AuthError::LinkUnusable) => {
            if super::support::plain_form_post() {
                leptos_axum::redirect("/login?link=unusable");
            }
            return Err(AppError::NotFound);
        }
        Err(other) => return Err(other.into()),
    };
    sign_in(&request.session, &member).await.map_err(|error| {
        tracing::error!(%error, "could not start a session");
        AppError::Internal
    })?;
    auth.audit(
        AuditEvent::SignIn,
        Some(&member.portal_id),
        Some(&member.email),
        request.address,
        None,
    )
    .await;
    // A notification's link opens its ticket; a sign-in link the dashboard.
    let rate = rate
        .as_deref()
        .and_then(crate::model::Rating::parse)
        .map(|r| format!("?rate={}#rating-heading", r.as_str()))
        .unwrap_or_default();
    let destination = match ticket_id {
        Some(ticket) if crate::model::valid_ticket_path_id(&ticket) => {
            format!("/tickets/{ticket}{rate}")
        }
        _ => "/dashboard".to_owned(),
    };
    leptos_axum::redirect(&destination);
    Ok(())
}

#[server]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::server::auth::AuditEvent;
    let request = super::support::request().await?;
    let max_age = request.state.config.auth.session_max_age;
    if let Some(member) = crate::server::auth::session::current(&request.session, max_age).await {
        request
            .state
            .auth
            .audit(
                AuditEvent::SignOut,
                Some(&member.portal_id),
                Some(&member.email),
                request.address,
                None,
            )
            .await;
    }
    crate::server::auth::session::sign_out(&request.session)
        .await
        .map_err(|_| AppError::Internal)?;
    leptos_axum::redirect("/login?signed_out=1");
    Ok(())
}

/// Moves the signed-in person to another portal their email is a member of, under a fresh
/// session id, and opens its dashboard. The portal named here is only a choice: it counts only
/// when the membership exists, and anything else answers as if there were no such portal.
#[server]
pub async fn switch_portal(portal_id: String) -> Result<(), AppError> {
    use crate::server::auth::session::sign_in;
    use crate::server::auth::{AuditEvent, Member, valid_portal_id};
    let request = super::support::request().await?;
    let state = &request.state;
    let member = crate::server::http::request::session_access(state, &request.session)
        .await?
        .member;
    let target = Member {
        email: member.email.clone(),
        portal_id,
    };
    let switched = async {
        if !valid_portal_id(&target.portal_id) || !state.auth.is_member(&target).await? {
            state
                .auth
                .audit(
                    AuditEvent::AccessDenied,
                    Some(&member.portal_id),
                    Some(&member.email),
                    request.address,
                    Some("switch to a portal without membership"),
                )
                .await;
            return Err(AppError::NotFound);
        }
        sign_in(&request.session, &target)
            .await
            .map_err(|_| AppError::Internal)?;
        state
            .auth
            .audit(
                AuditEvent::PortalSwitched,
                Some(&target.portal_id),
                Some(&target.email),
                request.address,
                Some(&format!("from {}", member.portal_id)),
            )
            .await;
        Ok(())
    }
    .await;
    // A form posted without JavaScript lands on a dashboard either way: the new portal's, or
    // (refused) the one it came from. A call from a script is sent to the new one.
    if switched.is_ok() && !super::support::plain_form_post() {
        leptos_axum::redirect("/dashboard");
    }
    super::support::finish_plain_form(switched, |()| "/dashboard".into(), "/dashboard")
}

/// The demo portals' members, shown on the login page only while the local board's team
/// console and demo inbox are served.
#[server]
pub async fn demo_accounts() -> Result<Vec<DemoAccount>, AppError> {
    let request = super::support::request().await?;
    let local = leptos::prelude::use_context::<http::request::Parts>()
        .is_some_and(|parts| crate::server::http::guard::devtools_allowed(&request.state, &parts));
    if !local {
        return Ok(Vec::new());
    }
    Ok(crate::server::demo::accounts(&request.state.auth).await?)
}
