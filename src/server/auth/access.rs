//! What a signed-in person may see and do inside their portal: their role, the tickets they
//! follow, and the colleague management an admin does. Every path that shows a ticket (pages,
//! server functions, REST, the live socket, mail) asks an [`Access`], so the rule "a requester
//! sees only what they raised or follow" lives here once.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;

use super::{AuditEvent, Auth, AuthError, Member, normalize_email};
use crate::model::{Colleague, Role, Ticket};
use crate::server::db::now_unix;
pub use crate::server::memory::Membership;

/// A current member of a portal, with what they may see. Made only by [`Auth::access`], on
/// every request, so a role change or a new follow counts from the next request on.
#[derive(Debug, Clone)]
pub struct Access {
    pub member: Member,
    pub role: Role,
    pub display_name: Option<String>,
    /// The member's language and zone, as chosen, and their portal's language.
    pub locale: Option<crate::i18n::Locale>,
    pub time_zone: Option<String>,
    pub portal_language: Option<crate::i18n::Locale>,
    following: Arc<HashSet<String>>,
}

impl Access {
    /// Whether the ticket is one this person may see: any of their portal's for members and
    /// admins; for requesters, the ones they raised or follow.
    pub fn can_see(&self, ticket: &Ticket) -> bool {
        ticket.portal_id == self.member.portal_id
            && self.can_see_raised(&ticket.id, ticket.client_email.as_deref())
    }

    /// [`Access::can_see`] for a ticket of this portal known by id and raiser only.
    pub fn can_see_raised(&self, ticket_id: &str, raised_by: Option<&str>) -> bool {
        self.role.sees_all_tickets()
            || raised_by.is_some_and(|email| email.eq_ignore_ascii_case(&self.member.email))
            || self.following.contains(ticket_id)
    }

    /// Whether a requester follows the ticket (for members and admins, who see every ticket,
    /// the followed tickets are not read: always false).
    pub fn follows(&self, ticket_id: &str) -> bool {
        self.following.contains(ticket_id)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

type ColleagueRow = (String, Option<String>, String);

fn colleague((email, display_name, role): ColleagueRow) -> Colleague {
    Colleague {
        email,
        display_name,
        role: Role::parse(&role).unwrap_or(Role::Requester),
    }
}

/// `example.com other.org` -> the domains, lowercased; empty when any domain is allowed.
pub fn parse_domains(raw: &str) -> Result<Vec<String>, AuthError> {
    let domains: Vec<String> = raw
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|d| !d.is_empty())
        .map(|d| d.trim_start_matches('@').to_lowercase())
        .collect();
    for domain in &domains {
        let plausible = domain.contains('.')
            && domain.len() <= 253
            && domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if !plausible {
            return Err(AuthError::Invalid(format!(
                "`{domain}` is not a domain such as example.com"
            )));
        }
    }
    Ok(domains)
}

impl Auth {
    /// The member's access as it stands now, or `None` when they are no longer a member.
    pub async fn access(&self, member: Member) -> Result<Option<Access>, AuthError> {
        let Some(membership) = self.membership(&member).await? else {
            return Ok(None);
        };
        // Only a requester's view depends on what they follow: members and admins see every
        // ticket, and their requests skip the lookup.
        let following = if membership.role.sees_all_tickets() {
            Arc::default()
        } else {
            self.following(&member).await?
        };
        Ok(Some(Access {
            member,
            role: membership.role,
            display_name: membership.display_name,
            locale: membership.locale,
            time_zone: membership.time_zone,
            portal_language: membership.portal_language,
            following,
        }))
    }

    /// The tickets `member` follows; from memory when read in this generation (a follow or
    /// unfollow anywhere moves it, through the `followers` table's triggers).
    async fn following(&self, member: &Member) -> Result<Arc<HashSet<String>>, AuthError> {
        let key = (member.portal_id.clone(), member.email.clone());
        let read = async {
            let rows: Vec<(String,)> = crate::on_db!(&self.db, pool => sqlx::query_as(
                "SELECT ticket_id FROM followers WHERE portal_id = $1 AND email = $2",
            )
            .bind(&member.portal_id)
            .bind(&member.email)
            .fetch_all(pool)
            .await)?;
            Ok::<_, AuthError>(Arc::new(rows.into_iter().map(|(id,)| id).collect()))
        };
        self.memory
            .following
            .get_or_read(key, self.memory.generation(), read)
            .await
    }

    /// [`Auth::colleagues`], from memory while the directory has not changed (the ticket
    /// page reads it on every load).
    pub async fn colleagues_kept(&self, portal_id: &str) -> Result<Arc<Vec<Colleague>>, AuthError> {
        let read = async { Ok(Arc::new(self.colleagues(portal_id).await?)) };
        self.memory
            .colleagues
            .get_or_read(portal_id.to_owned(), self.memory.generation(), read)
            .await
    }

    /// Everyone in the portal, admins first, then by name.
    pub async fn colleagues(&self, portal_id: &str) -> Result<Vec<Colleague>, AuthError> {
        let rows: Vec<ColleagueRow> = crate::on_db!(&self.db, pool => sqlx::query_as(
            "SELECT email, display_name, role FROM members WHERE portal_id = $1
             ORDER BY CASE role WHEN 'admin' THEN 0 WHEN 'member' THEN 1 ELSE 2 END,
                      COALESCE(display_name, email), email",
        )
        .bind(portal_id)
        .fetch_all(pool)
        .await)?;
        Ok(rows.into_iter().map(colleague).collect())
    }

    /// Who follows a ticket, by name; from memory while the directory has not changed (every
    /// follow moves it).
    pub async fn followers(
        &self,
        portal_id: &str,
        ticket_id: &str,
    ) -> Result<Arc<Vec<Colleague>>, AuthError> {
        let read = async {
            let rows: Vec<ColleagueRow> = crate::on_db!(&self.db, pool => sqlx::query_as(
                "SELECT m.email, m.display_name, m.role FROM followers f
                 JOIN members m ON m.portal_id = f.portal_id AND m.email = f.email
                 WHERE f.portal_id = $1 AND f.ticket_id = $2
                 ORDER BY COALESCE(m.display_name, m.email), m.email",
            )
            .bind(portal_id)
            .bind(ticket_id)
            .fetch_all(pool)
            .await)?;
            Ok(Arc::new(rows.into_iter().map(colleague).collect()))
        };
        let key = (portal_id.to_owned(), ticket_id.to_owned());
        self.memory
            .followers
            .get_or_read(key, self.memory.generation(), read)
            .await
    }

    /// Adds `email` (a colleague in `by`'s portal) as a follower of a ticket `by` may see; the
    /// caller has checked that. `by` may add themselves; only members and admins add others.
    /// Returns whether they were not following yet.
    pub async fn follow(
        &self,
        by: &Access,
        ticket_id: &str,
        email: &str,
        address: Option<IpAddr>,
    ) -> Result<bool, AuthError> {
        let email = normalize_email(email)?;
        let portal_id = &by.member.portal_id;
        if email != by.member.email && !by.role.sees_all_tickets() {
            return Err(AuthError::Forbidden {
                notice: "followers_by_members",
                message: "Only members and admins can add colleagues as followers.".into(),
            });
        }
        let colleague = Member {
            portal_id: portal_id.clone(),
            email: email.clone(),
        };
        if !self.is_member(&colleague).await? {
            return Err(not_a_colleague(&email));
        }
        let added = crate::on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO followers (portal_id, ticket_id, email, added_by, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(portal_id)
        .bind(ticket_id)
        .bind(&email)
        .bind(&by.member.email)
        .bind(now_unix())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        self.memory.changed_here();
        if added == 1 {
            self.audit(
                AuditEvent::FollowerAdded,
                Some(portal_id),
                Some(&by.member.email),
                address,
                Some(&format!("{email} follows {ticket_id}")),
            )
            .await;
        }
        Ok(added == 1)
    }

    /// Stops `email` following a ticket: anyone may stop themselves; members and admins may
    /// stop others. Returns whether they were following.
    pub async fn unfollow(
        &self,
        by: &Access,
        ticket_id: &str,
        email: &str,
        address: Option<IpAddr>,
    ) -> Result<bool, AuthError> {
        let email = normalize_email(email)?;
        if email != by.member.email && !by.role.sees_all_tickets() {
            return Err(AuthError::Forbidden {
                notice: "followers_by_members",
                message: "Only members and admins can remove other followers.".into(),
            });
        }
        let portal_id = &by.member.portal_id;
        let removed = crate::on_db!(&self.db, pool => sqlx::query(
            "DELETE FROM followers WHERE portal_id = $1 AND ticket_id = $2 AND email = $3",
        )
        .bind(portal_id)
        .bind(ticket_id)
        .bind(&email)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        self.memory.changed_here();
        if removed == 1 {
            self.audit(
                AuditEvent::FollowerRemoved,
                Some(portal_id),
                Some(&by.member.email),
                address,
                Some(&format!("{email} no longer follows {ticket_id}")),
            )
            .await;
        }
        Ok(removed == 1)
    }

    /// The addresses that follow a ticket (for its notifications).
    pub async fn follower_emails(
        &self,
        portal_id: &str,
        ticket_id: &str,
    ) -> Result<Vec<String>, AuthError> {
        let rows: Vec<(String,)> = crate::on_db!(&self.db, pool => sqlx::query_as(
            "SELECT email FROM followers WHERE portal_id = $1 AND ticket_id = $2 ORDER BY email",
        )
        .bind(portal_id)
        .bind(ticket_id)
        .fetch_all(pool)
        .await)?;
        Ok(rows.into_iter().map(|(email,)| email).collect())
    }

    /// The email domains admins of a portal may invite from; empty: any.
    pub async fn allowed_domains(&self, portal_id: &str) -> Result<Vec<String>, AuthError> {
        let row: Option<(Option<String>,)> = crate::on_db!(&self.db, pool => sqlx::query_as(
            "SELECT allowed_domains FROM portals WHERE id = $1",
        )
        .bind(portal_id)
        .fetch_optional(pool)
        .await)?;
        let raw = row.and_then(|(domains,)| domains).unwrap_or_default();
        parse_domains(&raw)
    }

    /// Sets the domains admins may invite from (the agency's `invite --allowed-domains`).
    pub async fn set_allowed_domains(
        &self,
        portal_id: &str,
        domains: &[String],
    ) -> Result<(), AuthError> {
        let value = (!domains.is_empty()).then(|| domains.join(" "));
        crate::on_db!(&self.db, pool => sqlx::query("UPDATE portals SET allowed_domains = $1 WHERE id = $2")
            .bind(value)
            .bind(portal_id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        self.memory.changed_here();
        Ok(())
    }

    /// An admin invites a colleague: they become a member with `role` and are mailed a sign-in
    /// link naming the portal. Someone already in the portal keeps their role (change it
    /// separately) and is mailed a fresh link. Returns the address as stored.
    pub async fn invite_colleague(
        &self,
        admin: &Access,
        raw_email: &str,
        name: Option<&str>,
        role: Role,
        address: Option<IpAddr>,
        language: crate::i18n::Locale,
    ) -> Result<String, AuthError> {
        require_admin(admin)?;
        let email = normalize_email(raw_email)?;
        let portal_id = &admin.member.portal_id;
        let domains = self.allowed_domains(portal_id).await?;
        let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
        if !domains.is_empty() && !domains.iter().any(|allowed| allowed == domain) {
            return Err(AuthError::Field {
                field: "domain",
                message: format!(
                    "This portal invites addresses at {} only.",
                    domains.join(", ")
                ),
            });
        }
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        if name.is_some_and(|n| n.chars().count() > 100 || n.chars().any(char::is_control)) {
            return Err(AuthError::Field {
                field: "name",
                message: "A name is at most 100 characters on one line.".into(),
            });
        }
        let colleague = Member {
            portal_id: portal_id.clone(),
            email: email.clone(),
        };
        let existing = self.membership(&colleague).await?;
        if existing.is_none() {
            self.upsert_member(portal_id, &email, name, Some(role))
                .await?;
        }
        let portal = self
            .portal(portal_id)
            .await?
            .ok_or_else(|| AuthError::Invalid("the portal no longer exists".into()))?;
        let shown_name = name.or(existing.as_ref().and_then(|m| m.display_name.as_deref()));
        let inviter = admin.display_name.as_deref().unwrap_or(&admin.member.email);
        self.send_link_from(&portal, &email, shown_name, Some(inviter), language)
            .await?;
        self.audit(
            AuditEvent::ColleagueInvited,
            Some(portal_id),
            Some(&admin.member.email),
            address,
            Some(&match existing {
                None => format!("{email} as {}", role.as_str()),
                Some(_) => format!("{email} (already a colleague: a fresh link)"),
            }),
        )
        .await;
        Ok(email)
    }

    /// A member chooses their language and time zone (`None`: the portal's language, the
    /// browser's zone). The zone must be one the server knows.
    pub async fn set_preferences(
        &self,
        member: &Member,
        locale: Option<crate::i18n::Locale>,
        time_zone: Option<&str>,
    ) -> Result<(), AuthError> {
        if let Some(zone) = time_zone
            && crate::i18n::time::zone(zone).is_none()
        {
            return Err(AuthError::Invalid(format!("unknown time zone {zone:?}")));
        }
        crate::on_db!(&self.db, pool => sqlx::query(
            "UPDATE members SET locale = $1, time_zone = $2 WHERE portal_id = $3 AND email = $4",
        )
        .bind(locale.map(crate::i18n::I18nLocaleTrait::as_str))
        .bind(time_zone)
        .bind(&member.portal_id)
        .bind(&member.email)
        .execute(pool)
        .await
        .map(|_| ()))?;
        self.memory.changed_here();
        Ok(())
    }

    /// An admin changes a colleague's role. Admins cannot change their own (another admin
    /// can), so a portal never loses its last admin by a slip.
    pub async fn set_role(
        &self,
        admin: &Access,
        raw_email: &str,
        role: Role,
        address: Option<IpAddr>,
    ) -> Result<(), AuthError> {
        require_admin(admin)?;
        let email = normalize_email(raw_email)?;
        if email == admin.member.email {
            return Err(AuthError::Forbidden {
                notice: "own_role",
                message: "You cannot change your own role; another admin can.".into(),
            });
        }
        let portal_id = &admin.member.portal_id;
        let changed = crate::on_db!(&self.db, pool => sqlx::query(
            "UPDATE members SET role = $1 WHERE portal_id = $2 AND email = $3 AND role != $4",
        )
        .bind(role.as_str())
        .bind(portal_id)
        .bind(&email)
        .bind(role.as_str())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        self.memory.changed_here();
        if changed == 1 {
            self.audit(
                AuditEvent::RoleChanged,
                Some(portal_id),
                Some(&admin.member.email),
                address,
                Some(&format!("{email} is now {}", role.as_str())),
            )
            .await;
        } else if self
            .membership(&Member {
                portal_id: portal_id.clone(),
                email: email.clone(),
            })
            .await?
            .is_none()
        {
            return Err(not_a_colleague(&email));
        }
        Ok(())
    }

    /// An admin removes a colleague: their sessions end and their sockets close at once (see
    /// [`Auth::remove_member`]). Admins cannot remove themselves.
    pub async fn remove_colleague(
        &self,
        admin: &Access,
        raw_email: &str,
        address: Option<IpAddr>,
    ) -> Result<(), AuthError> {
        require_admin(admin)?;
        let email = normalize_email(raw_email)?;
        if email == admin.member.email {
            return Err(AuthError::Forbidden {
                notice: "remove_self",
                message: "You cannot remove yourself; another admin can.".into(),
            });
        }
        let portal_id = &admin.member.portal_id;
        match self.remove_member(portal_id, &email).await? {
            Some(_) => {
                self.audit(
                    AuditEvent::MemberRemoved,
                    Some(portal_id),
                    Some(&admin.member.email),
                    address,
                    Some(&format!("{email} removed by an admin")),
                )
                .await;
                Ok(())
            }
            None => Err(not_a_colleague(&email)),
        }
    }
}

fn not_a_colleague(email: &str) -> AuthError {
    AuthError::Field {
        field: "colleague",
        message: format!("{email} is not a colleague in this portal."),
    }
}

fn require_admin(access: &Access) -> Result<(), AuthError> {
    if access.is_admin() {
        Ok(())
    } else {
        Err(AuthError::Forbidden {
            notice: "admins_only",
            message: "Only the portal's admins manage colleagues.".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Delivery, Priority, Status};

    fn access(role: Role, following: &[&str]) -> Access {
        Access {
            member: Member {
                portal_id: "acme".into(),
                email: "riley@acme.example".into(),
            },
            role,
            display_name: None,
            locale: None,
            time_zone: None,
            portal_language: None,
            following: Arc::new(following.iter().map(|s| s.to_string()).collect()),
        }
    }

    fn ticket(id: &str, portal: &str, raised_by: Option<&str>) -> Ticket {
        Ticket {
            id: id.into(),
            portal_id: portal.into(),
            title: "t".into(),
            description: String::new(),
            status: Status::Open,
            priority: Priority::Low,
            client_email: raised_by.map(str::to_owned),
            created_at: String::new(),
            updated_at: String::new(),
            delivery: Delivery::default(),
        }
    }

    #[test]
    fn a_requester_sees_what_they_raised_or_follow_and_nothing_else() {
        let requester = access(Role::Requester, &["3"]);
        assert!(requester.can_see(&ticket("1", "acme", Some("Riley@Acme.example"))));
        assert!(!requester.can_see(&ticket("2", "acme", Some("morgan@acme.example"))));
        assert!(!requester.can_see(&ticket("2", "acme", None)));
        assert!(requester.can_see(&ticket("3", "acme", Some("morgan@acme.example"))));
        assert!(
            !requester.can_see(&ticket("3", "other", Some("riley@acme.example"))),
            "never another portal's, whoever raised it"
        );
        for role in [Role::Member, Role::Admin] {
            let member = access(role, &[]);
            assert!(member.can_see(&ticket("2", "acme", Some("morgan@acme.example"))));
            assert!(member.can_see(&ticket("4", "acme", None)));
            assert!(!member.can_see(&ticket("4", "other", None)));
        }
    }

    #[test]
    fn domains_are_read_leniently_and_checked() {
        assert_eq!(
            parse_domains(" Example.com, @other.org ").unwrap(),
            vec!["example.com", "other.org"]
        );
        assert!(parse_domains("").unwrap().is_empty());
        assert!(parse_domains("not a domain").is_err());
        assert!(parse_domains("evil.com/<script>").is_err());
    }
}
