//! Server functions for the Colleagues page: a portal's admins invite colleagues, change their
//! roles and remove them. Every rule (admins only, allowed domains, never oneself) is the auth
//! service's; these only check the session and pass the portal it names.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::{Colleague, Viewer};

/// Everything the Colleagues page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColleaguesView {
    pub viewer: Viewer,
    pub colleagues: Vec<Colleague>,
    /// The domains invitations are limited to; empty: any.
    pub allowed_domains: Vec<String>,
}

#[cfg(feature = "ssr")]
async fn signed_in_admin() -> Result<super::support::SignedIn, AppError> {
    let signed = super::support::signed_in().await?;
    if signed.access.is_admin() {
        Ok(signed)
    } else {
        Err(AppError::not_permitted(
            "admins_only",
            "Only the portal's admins manage colleagues.",
        ))
    }
}

/// The portal's people, for its admins.
#[server]
pub async fn load_colleagues() -> Result<ColleaguesView, AppError> {
    let signed = signed_in_admin().await?;
    let viewer = super::tickets::viewer_of(&signed).await?;
    let auth = &signed.state.auth;
    Ok(ColleaguesView {
        colleagues: auth.colleagues(&signed.member.portal_id).await?,
        allowed_domains: auth.allowed_domains(&signed.member.portal_id).await?,
        viewer,
    })
}

/// Adds a colleague with a role and mails them a sign-in link naming the portal.
#[server]
pub async fn invite_colleague(
    email: String,
    #[server(default)] name: Option<String>,
    role: String,
) -> Result<String, AppError> {
    use super::support::finish_plain_form;
    use crate::server::http::limits::Write;
    let result = async {
        let signed = signed_in_admin().await?;
        let role = crate::model::Role::parse(&role)
            .ok_or_else(|| AppError::invalid("role", "Choose admin, member or requester."))?;
        // Each invitation sends a mail: limited like tickets are.
        signed.check_write_limit(Write::Ticket).await?;
        Ok(signed
            .state
            .auth
            .invite_colleague(
                &signed.access,
                &email,
                name.as_deref(),
                role,
                signed.address,
                crate::i18n::locale(),
            )
            .await?)
    }
    .await;
    finish_plain_form(
        result,
        |_| "/colleagues?invited=1".to_owned(),
        "/colleagues",
    )
}

/// Changes a colleague's role (never one's own).
#[server]
pub async fn change_role(email: String, role: String) -> Result<(), AppError> {
    use super::support::finish_plain_form;
    let result = async {
        let signed = signed_in_admin().await?;
        let role = crate::model::Role::parse(&role)
            .ok_or_else(|| AppError::invalid("role", "Choose admin, member or requester."))?;
        Ok(signed
            .state
            .auth
            .set_role(&signed.access, &email, role, signed.address)
            .await?)
    }
    .await;
    finish_plain_form(result, |_| "/colleagues?saved=1".to_owned(), "/colleagues")
}

/// Removes a colleague: their sessions end and their open pages are signed out at once.
#[server]
pub async fn remove_colleague(email: String) -> Result<(), AppError> {
    use super::support::finish_plain_form;
    let result = async {
        let signed = signed_in_admin().await?;
        Ok(signed
            .state
            .auth
            .remove_colleague(&signed.access, &email, signed.address)
            .await?)
    }
    .await;
    finish_plain_form(
        result,
        |_| "/colleagues?removed=1".to_owned(),
        "/colleagues",
    )
}
