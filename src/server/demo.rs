//! The demo portals and their members, beside the local board's demo tickets. All of it is
//! defined once, in [`monday_local::demo`]; this module turns it into portals and members of the
//! portal and into the sign-in hints on the login page.

use monday_local::demo::{PORTALS, is_demo_portal};

use super::auth::{Auth, AuthError};
use crate::model::{DemoAccount, Role};

/// Creates the demo portals and their members, unless they exist (a developer may have changed
/// them since).
pub async fn seed_portals(auth: &Auth) -> Result<(), AuthError> {
    for portal in &PORTALS {
        if auth.portal(portal.id).await?.is_some() {
            continue;
        }
        auth.upsert_portal(portal.id, Some(portal.name)).await?;
        auth.set_brand(portal.id, Some(portal.colour), None).await?;
        for (email, name, role) in portal.members {
            let role = Role::parse(role).unwrap_or(Role::Requester);
            auth.upsert_member(portal.id, email, Some(name), Some(role))
                .await?;
        }
    }
    Ok(())
}

/// The members of the demo portals as they stand now, for the login page's hints.
pub async fn accounts(auth: &Auth) -> Result<Vec<DemoAccount>, AuthError> {
    let directory = auth.directory().await?;
    Ok(directory
        .into_iter()
        .filter(|(portal, _)| is_demo_portal(&portal.id))
        .flat_map(|(portal, members)| {
            members.into_iter().map(move |colleague| DemoAccount {
                name: colleague.shown_name().to_owned(),
                email: colleague.email,
                portal_name: portal.name.clone(),
                role: colleague.role,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_names_every_demo_member() {
        let readme = include_str!("../../README.md");
        for portal in &PORTALS {
            for (email, ..) in portal.members {
                assert!(readme.contains(email), "README.md does not mention {email}");
            }
        }
    }
}
