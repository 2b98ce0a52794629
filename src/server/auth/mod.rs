//! Portals, members, magic links, the audit log and the JWTs of the REST API.
//!
//! A magic link's token is 32 random bytes, kept only as a SHA-256 hash, valid once for one
//! hour and bound to its portal and email. Opening a link only *shows* who it signs in; the
//! token is spent by the "Continue" POST, so mail scanners that prefetch links cannot burn it.

pub mod access;
pub mod jwt;
pub mod rate_limit;
pub mod session;
pub mod store;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use self::access::{Access, Membership};
use self::rate_limit::Limiter;
use super::db::{Db, now_unix};
use super::mail::{Mail, Mailer};
use crate::model::{Colleague, PortalBrand, Role};
use crate::server::memory::Memory;

/// Who a session (or a JWT) belongs to. The portal always comes from here, never from the
/// browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub email: String,
    pub portal_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Invalid(String),
    #[error("try again in {} minute(s)", minutes(*.0))]
    RateLimited(Duration),
    #[error("the link has expired or was already used")]
    LinkUnusable,
    /// One field of a form is wrong (`colleague`, `domain`, `name`): the page marks it.
    #[error("{message}")]
    Field {
        field: &'static str,
        message: String,
    },
    /// Signed in, but the role does not allow it. `notice` is one of [`crate::model::REFUSALS`];
    /// `message` says what would be allowed, in English.
    #[error("{message}")]
    Forbidden {
        notice: &'static str,
        message: String,
    },
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

pub fn minutes(wait: Duration) -> u64 {
    wait.as_secs().div_ceil(60).max(1)
}

/// Events the audit log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditEvent {
    LinkIssued,
    LinkRequested,
    SignIn,
    SignInFailed,
    SignOut,
    TokenIssued,
    TicketCreated,
    ReplyPosted,
    AccessDenied,
    PortalSwitched,
    MemberRemoved,
    ColleagueInvited,
    RoleChanged,
    FollowerAdded,
    FollowerRemoved,
    TicketResolved,
    TicketReopened,
    TicketRated,
}

impl AuditEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditEvent::LinkIssued => "link_issued",
            AuditEvent::LinkRequested => "link_requested",
            AuditEvent::SignIn => "sign_in",
            AuditEvent::SignInFailed => "sign_in_failed",
            AuditEvent::SignOut => "sign_out",
            AuditEvent::TokenIssued => "token_issued",
            AuditEvent::TicketCreated => "ticket_created",
            AuditEvent::ReplyPosted => "reply_posted",
            AuditEvent::AccessDenied => "access_denied",
            AuditEvent::PortalSwitched => "portal_switched",
            AuditEvent::MemberRemoved => "member_removed",
            AuditEvent::ColleagueInvited => "colleague_invited",
            AuditEvent::RoleChanged => "role_changed",
            AuditEvent::FollowerAdded => "follower_added",
            AuditEvent::FollowerRemoved => "follower_removed",
            AuditEvent::TicketResolved => "ticket_resolved",
            AuditEvent::TicketReopened => "ticket_reopened",
            AuditEvent::TicketRated => "ticket_rated",
        }
    }
}

pub struct Auth {
    db: Db,
    public_url: String,
    link_ttl: Duration,
    mailer: Mailer,
    /// Links for one email asked from one address.
    per_email_and_address: Limiter,
    /// Links for one email from every address together (against mail bombing).
    per_email: Limiter,
    per_address: Limiter,
    /// Unusable links and tokens per address: guessing costs the guesser, not the database.
    failures_per_address: Limiter,
    /// Members and portals as last read, shared with the session store.
    memory: Arc<Memory>,
}

/// `client_abc123`, `demo`: lowercase letters, digits, `_` and `-`, up to 64 characters.
pub fn valid_portal_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Lowercases and checks an email address; deliberately simple (the real check is the mail).
pub fn normalize_email(raw: &str) -> Result<String, AuthError> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    if valid {
        Ok(email)
    } else {
        Err(AuthError::Invalid(
            "Enter an email address such as name@example.com.".into(),
        ))
    }
}

pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// 32 random bytes, URL-safe: 43 characters.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn plausible_token(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A portal's brand colour must be a plain `#rrggbb` to be safe in a style attribute.
pub fn valid_colour(colour: &str) -> bool {
    colour.len() == 7
        && colour.starts_with('#')
        && colour[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// A logo may come from an `https://` URL or a path on the portal itself. `//host/x` and
/// `/\host/x` look like paths but browsers load them from another host, so they are refused.
pub fn valid_logo_url(url: &str) -> bool {
    let https = url
        .strip_prefix("https://")
        .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    let local_path = url.starts_with('/') && !url.starts_with("//") && !url.starts_with("/\\");
    (https || local_path) && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

type PortalRow = (String, String, String, Option<String>);

fn brand((id, name, colour, logo_url): PortalRow) -> PortalBrand {
    PortalBrand {
        id,
        name,
        colour: if valid_colour(&colour) {
            colour
        } else {
            "#0f172a".into()
        },
        logo_url: logo_url.filter(|u| valid_logo_url(u)),
    }
}

pub struct LinkLimits {
    pub per_email_and_address_per_hour: u32,
    pub per_email_per_hour: u32,
    pub per_address_per_hour: u32,
    pub failures_per_address_per_hour: u32,
}

impl Auth {
    pub fn new(
        db: Db,
        public_url: String,
        link_ttl: Duration,
        mailer: Mailer,
        limits: LinkLimits,
    ) -> Self {
        let hour = Duration::from_secs(3600);
        Self {
            memory: Arc::new(Memory::new(db.clone())),
            db: db.clone(),
            public_url,
            link_ttl,
            mailer,
            per_email_and_address: Limiter::new(
                "links per email and address",
                limits.per_email_and_address_per_hour,
                hour,
                &db,
            ),
            per_email: Limiter::new("links per email", limits.per_email_per_hour, hour, &db),
            per_address: Limiter::new("links per address", limits.per_address_per_hour, hour, &db),
            failures_per_address: Limiter::new(
                "sign-in failures per address",
                limits.failures_per_address_per_hour,
                hour,
                &db,
            ),
        }
    }

    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    /// What sessions, memberships and portals memory may answer (see [`crate::server::memory`]).
    pub fn memory(&self) -> &Arc<Memory> {
        &self.memory
    }

    /// The language the portal's members read until they choose (`None`: each browser's).
    pub async fn set_portal_language(
        &self,
        portal_id: &str,
        language: Option<crate::i18n::Locale>,
    ) -> Result<(), AuthError> {
        crate::on_db!(&self.db, pool => sqlx::query("UPDATE portals SET language = $1 WHERE id = $2")
            .bind(language.map(crate::i18n::I18nLocaleTrait::as_str))
            .bind(portal_id)
            .execute(pool)
            .await
            .map(|_| ()))?;
        self.memory.changed_here();
        Ok(())
    }

    /// Creates the portal when missing; an existing portal keeps its settings unless a name is
    /// given.
    pub async fn upsert_portal(
        &self,
        id: &str,
        name: Option<&str>,
    ) -> Result<PortalBrand, AuthError> {
        if !valid_portal_id(id) {
            return Err(AuthError::Invalid(format!(
                "`{id}` is not a valid portal id: use lowercase letters, digits, _ and -"
            )));
        }
        crate::on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO portals (id, name, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET name = COALESCE($4, portals.name)",
        )
        .bind(id)
        .bind(name.unwrap_or(id))
        .bind(now_unix())
        .bind(name)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        self.memory.changed_here();
        self.portal(id)
            .await?
            .ok_or_else(|| AuthError::Invalid("the portal could not be created".into()))
    }

    pub async fn set_brand(
        &self,
        id: &str,
        colour: Option<&str>,
        logo_url: Option<&str>,
    ) -> Result<(), AuthError> {
        if let Some(colour) = colour
            && !valid_colour(colour)
        {
            return Err(AuthError::Invalid("a colour looks like #1d4ed8".into()));
        }
        if let Some(logo) = logo_url
            && !valid_logo_url(logo)
        {
            return Err(AuthError::Invalid(
                "a logo is an https:// URL or a path on the portal such as /logo.svg".into(),
            ));
        }
        crate::on_db!(&self.db, pool => sqlx::query(
            "UPDATE portals SET colour = COALESCE($1, colour), logo_url = COALESCE($2, logo_url) WHERE id = $3",
        )
        .bind(colour)
        .bind(logo_url)
        .bind(id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        self.memory.changed_here();
        Ok(())
    }

    /// Sets what a portal's members are mailed until they choose (`None`: `NOTIFY_DEFAULT`).
    pub async fn set_notify_default(
        &self,
        id: &str,
        mode: Option<crate::model::NotifyMode>,
    ) -> Result<bool, AuthError> {
        let changed = crate::on_db!(&self.db, pool => sqlx::query("UPDATE portals SET notify_default = $1 WHERE id = $2")
            .bind(mode.map(crate::model::NotifyMode::as_str))
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        self.memory.changed_here();
        Ok(changed == 1)
    }

    /// The portal's name and brand; from memory when it was read in this generation.
    pub async fn portal(&self, id: &str) -> Result<Option<PortalBrand>, AuthError> {
        let generation = self.memory.generation();
        if let Some(portal) = self.memory.portals.get(&id.to_owned(), generation) {
            return Ok(Some(portal));
        }
        let row: Option<PortalRow> = crate::on_db!(&self.db, pool => sqlx::query_as("SELECT id, name, colour, logo_url FROM portals WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await)?;
        let portal = row.map(brand);
        if let Some(portal) = &portal {
            self.memory
                .portals
                .put(id.to_owned(), portal.clone(), generation);
        }
        Ok(portal)
    }

    /// Every portal `email` is a member of, by name; from memory when read in this generation
    /// (a removal moves the generation, so a removed membership is never offered).
    pub async fn portals_of(&self, email: &str) -> Result<Arc<Vec<PortalBrand>>, AuthError> {
        let generation = self.memory.generation();
        if let Some(portals) = self.memory.portals_of.get(email, generation) {
            return Ok(portals);
        }
        let rows: Vec<PortalRow> = crate::on_db!(&self.db, pool => sqlx::query_as(
            "SELECT p.id, p.name, p.colour, p.logo_url FROM members m JOIN portals p ON p.id = m.portal_id
             WHERE m.email = $1 ORDER BY p.name, p.id",
        )
        .bind(email)
        .fetch_all(pool)
        .await)?;
        let portals = Arc::new(rows.into_iter().map(brand).collect::<Vec<_>>());
        self.memory
            .portals_of
            .put(email.to_owned(), portals.clone(), generation);
        Ok(portals)
    }

    /// Removes `email` from the portal and ends every session they have in it. Returns the
    /// address as stored and how many sessions ended, or `None` when they were not a member.
    /// Every instance hears of it through the directory counter (the tables' triggers), so
    /// open pages and sockets are signed out within a second.
    pub async fn remove_member(
        &self,
        portal_id: &str,
        email: &str,
    ) -> Result<Option<(String, u64)>, AuthError> {
        let member = Member {
            portal_id: portal_id.to_owned(),
            email: normalize_email(email)?,
        };
        let removed = crate::on_db!(&self.db, pool => sqlx::query(
            "DELETE FROM members WHERE portal_id = $1 AND email = $2",
        )
        .bind(&member.portal_id)
        .bind(&member.email)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        self.memory.changed_here();
        if removed == 0 {
            return Ok(None);
        }
        let sessions = store::DbSessionStore::new(self.db.clone(), self.memory.clone())
            .delete_member(&member)
            .await?;
        self.audit(
            AuditEvent::MemberRemoved,
            Some(&member.portal_id),
            Some(&member.email),
            None,
            Some(&format!("{sessions} session(s) ended")),
        )
        .await;
        Ok(Some((member.email, sessions)))
    }

    /// Adds `email` to the portal, or updates them: a name or role left `None` keeps what
    /// they have (a new member's role is then `member`).
    pub async fn upsert_member(
        &self,
        portal_id: &str,
        email: &str,
        name: Option<&str>,
        role: Option<Role>,
    ) -> Result<String, AuthError> {
        let email = normalize_email(email)?;
        let role = role.map(Role::as_str);
        crate::on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO members (portal_id, email, display_name, created_at, role)
             VALUES ($1, $2, $3, $4, COALESCE($5, 'member'))
             ON CONFLICT (portal_id, email) DO UPDATE SET
                 display_name = COALESCE($6, members.display_name),
                 role = COALESCE($7, members.role)",
        )
        .bind(portal_id)
        .bind(&email)
        .bind(name)
        .bind(now_unix())
        .bind(role)
        .bind(name)
        .bind(role)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        self.memory.changed_here();
        Ok(email)
    }

    /// The member's name and role, or `None` when the email is not (or no longer) a member.
    /// From memory when read in this generation; "not a member" is always asked again.
    pub async fn membership(&self, member: &Member) -> Result<Option<Membership>, AuthError> {
        let generation = self.memory.generation();
        let key = (member.portal_id.clone(), member.email.clone());
        if let Some(membership) = self.memory.members.get(&key, generation) {
            return Ok(Some(membership));
        }
        type Row = (
            Option<String>,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let row: Option<Row> = crate::on_db!(&self.db, pool => sqlx::query_as(
            "SELECT m.display_name, m.role, m.locale, m.time_zone, p.language \
             FROM members m JOIN portals p ON p.id = m.portal_id \
             WHERE m.portal_id = $1 AND m.email = $2",
        )
        .bind(&member.portal_id)
        .bind(&member.email)
        .fetch_optional(pool)
        .await)?;
        let membership = row.map(|(display_name, role, locale, time_zone, portal_language)| {
            Membership {
                display_name,
                // The column's CHECK allows only known roles; anything else sees least.
                role: Role::parse(&role).unwrap_or(Role::Requester),
                // A language or zone this build no longer knows counts as not chosen.
                locale: locale.as_deref().and_then(crate::i18n::locale_named),
                time_zone: time_zone.filter(|zone| crate::i18n::time::zone(zone).is_some()),
                portal_language: portal_language
                    .as_deref()
                    .and_then(crate::i18n::locale_named),
            }
        });
        if let Some(membership) = &membership {
            self.memory.members.put(key, membership.clone(), generation);
        }
        Ok(membership)
    }

    pub async fn is_member(&self, member: &Member) -> Result<bool, AuthError> {
        Ok(self.membership(member).await?.is_some())
    }

    /// Every portal with its members, for `client-portal portals`.
    pub async fn directory(&self) -> Result<Vec<(PortalBrand, Vec<Colleague>)>, AuthError> {
        let portals: Vec<PortalRow> = crate::on_db!(&self.db, pool => sqlx::query_as("SELECT id, name, colour, logo_url FROM portals ORDER BY id")
                .fetch_all(pool)
                .await)?;
        let mut directory = Vec::new();
        for row in portals {
            let members = self.colleagues(&row.0).await?;
            directory.push((brand(row), members));
        }
        Ok(directory)
    }

    /// Creates a fresh magic link for a member and returns its URL.
    pub async fn create_link(&self, portal_id: &str, email: &str) -> Result<String, AuthError> {
        self.insert_link(portal_id, email, None, self.link_ttl)
            .await
    }

    /// A magic link that signs the member in and opens one ticket (the link in a notification).
    /// The ticket is kept with the link's hash, so the address cannot point it elsewhere.
    pub async fn create_ticket_link(
        &self,
        portal_id: &str,
        email: &str,
        ticket_id: &str,
        ttl: Duration,
    ) -> Result<String, AuthError> {
        self.insert_link(portal_id, email, Some(ticket_id), ttl)
            .await
    }

    async fn insert_link(
        &self,
        portal_id: &str,
        email: &str,
        ticket_id: Option<&str>,
        ttl: Duration,
    ) -> Result<String, AuthError> {
        let token = new_token();
        let now = now_unix();
        crate::on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO magic_links (token_hash, portal_id, email, created_at, expires_at, ticket_id)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(hash_token(&token))
        .bind(portal_id)
        .bind(email)
        .bind(now)
        .bind(now + ttl.as_secs() as i64)
        .bind(ticket_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(format!(
            "{}/login?portal_id={portal_id}&token={token}",
            self.public_url
        ))
    }

    /// Who a link would sign in, without spending it.
    pub async fn peek_link(
        &self,
        portal_id: &str,
        token: &str,
    ) -> Result<Option<String>, AuthError> {
        if !plausible_token(token) || !valid_portal_id(portal_id) {
            return Ok(None);
        }
        let row: Option<(String,)> = crate::on_db!(&self.db, pool => sqlx::query_as(
            "SELECT email FROM magic_links
             WHERE token_hash = $1 AND portal_id = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(hash_token(token))
        .bind(portal_id)
        .bind(now_unix())
        .fetch_optional(pool)
        .await)?;
        Ok(row.map(|(email,)| email))
    }

    /// Spends a link: it works once, before it expires, for its own portal, for a member.
    /// `address_key` is the caller's address as limits count it: an address that keeps
    /// presenting unusable links must wait, and a link that is not even shaped like one writes
    /// nothing anywhere (an attacker's 60 KB "portal id" never reaches the audit log).
    pub async fn consume_link(
        &self,
        portal_id: &str,
        token: &str,
        address: Option<IpAddr>,
        address_key: &str,
    ) -> Result<Member, AuthError> {
        self.consume_link_to(portal_id, token, address, address_key)
            .await
            .map(|(member, _)| member)
    }

    /// [`Auth::consume_link`], with the ticket the link opens (notification links have one).
    pub async fn consume_link_to(
        &self,
        portal_id: &str,
        token: &str,
        address: Option<IpAddr>,
        address_key: &str,
    ) -> Result<(Member, Option<String>), AuthError> {
        if let Some(wait) = self.failures_per_address.wait(address_key).await {
            return Err(AuthError::RateLimited(wait));
        }
        if !plausible_token(token) || !valid_portal_id(portal_id) {
            let _ = self.failures_per_address.check(address_key).await;
            return Err(AuthError::LinkUnusable);
        }
        let spent: Option<(String, Option<String>)> = crate::on_db!(&self.db, pool => sqlx::query_as(
            "UPDATE magic_links SET used_at = $1
             WHERE token_hash = $2 AND portal_id = $3 AND used_at IS NULL AND expires_at > $4
             RETURNING email, ticket_id",
        )
        .bind(now_unix())
        .bind(hash_token(token))
        .bind(portal_id)
        .bind(now_unix())
        .fetch_optional(pool)
        .await)?;
        let (member, ticket_id) = match spent {
            Some((email, ticket_id)) => (
                Member {
                    email,
                    portal_id: portal_id.to_owned(),
                },
                ticket_id,
            ),
            None => {
                let _ = self.failures_per_address.check(address_key).await;
                self.audit(
                    AuditEvent::SignInFailed,
                    Some(portal_id),
                    None,
                    address,
                    Some("unusable link"),
                )
                .await;
                return Err(AuthError::LinkUnusable);
            }
        };
        if !self.is_member(&member).await? {
            self.audit(
                AuditEvent::SignInFailed,
                Some(portal_id),
                Some(&member.email),
                address,
                Some("no longer a member"),
            )
            .await;
            return Err(AuthError::LinkUnusable);
        }
        Ok((member, ticket_id))
    }

    /// The self-service form: mails a fresh link for each portal the address belongs to. The
    /// answer (and its timing) is the same whether or not the address is known, because the
    /// lookup and the mail happen after answering.
    ///
    /// Limits count per address, per email *from that address*, and per email overall with a
    /// higher ceiling: a stranger who knows a member's address can use up only their own budget
    /// for it, so the member, asking from their own address, still gets a link.
    pub async fn request_links(
        self: &std::sync::Arc<Self>,
        raw_email: &str,
        address: Option<IpAddr>,
        address_key: &str,
        language: crate::i18n::Locale,
    ) -> Result<String, AuthError> {
        let email = normalize_email(raw_email)?;
        // Every request counts against its address, refused ones included: an address that
        // floods is stopped sooner.
        self.per_address
            .check(address_key)
            .await
            .map_err(AuthError::RateLimited)?;
        let email_from_address = format!("{email}\n{address_key}");
        let per_email = [
            (&self.per_email_and_address, email_from_address.as_str()),
            (&self.per_email, email.as_str()),
        ];
        for (limiter, key) in &per_email {
            if let Some(wait) = limiter.wait(key).await {
                return Err(AuthError::RateLimited(wait));
            }
        }
        for (limiter, key) in per_email {
            let _ = limiter.check(key).await;
        }
        let auth = self.clone();
        let recipient = email.clone();
        tokio::spawn(async move {
            if let Err(error) = auth.send_links(&recipient, address, language).await {
                tracing::error!(%error, "could not send sign-in links");
            }
        });
        Ok(email)
    }

    async fn send_links(
        &self,
        email: &str,
        address: Option<IpAddr>,
        language: crate::i18n::Locale,
    ) -> Result<(), AuthError> {
        let portals: Vec<(String, Option<String>)> = crate::on_db!(&self.db, pool => sqlx::query_as(
            "SELECT portal_id, display_name FROM members WHERE email = $1 ORDER BY portal_id",
        )
        .bind(email)
        .fetch_all(pool)
        .await)?;
        self.audit(
            AuditEvent::LinkRequested,
            None,
            Some(email),
            address,
            Some(if portals.is_empty() {
                "unknown email"
            } else {
                "member"
            }),
        )
        .await;
        for (portal_id, name) in portals {
            let Some(portal) = self.portal(&portal_id).await? else {
                continue;
            };
            self.send_link(&portal, email, name.as_deref(), language)
                .await?;
        }
        Ok(())
    }

    /// Creates a link and mails it; returns the link. The mail is in the member's language,
    /// else their portal's, else `language` (the browser's that asked, or the inviter's).
    pub async fn send_link(
        &self,
        portal: &PortalBrand,
        email: &str,
        name: Option<&str>,
        language: crate::i18n::Locale,
    ) -> Result<String, AuthError> {
        self.send_link_from(portal, email, name, None, language)
            .await
    }

    /// [`Auth::send_link`]; with `invited_by`, the mail says who invited them.
    pub async fn send_link_from(
        &self,
        portal: &PortalBrand,
        email: &str,
        name: Option<&str>,
        invited_by: Option<&str>,
        language: crate::i18n::Locale,
    ) -> Result<String, AuthError> {
        let link = self.create_link(&portal.id, email).await?;
        let minutes = self.link_ttl.as_secs() / 60;
        let member = Member {
            portal_id: portal.id.clone(),
            email: email.to_owned(),
        };
        let l = match self.membership(&member).await? {
            Some(membership) => membership
                .locale
                .or(membership.portal_language)
                .unwrap_or(language),
            None => language,
        };
        let mail = match invited_by {
            Some(who) => Mail::invitation(l, portal, email, name, who, &link, minutes),
            None => Mail::sign_in(l, portal, email, name, &link, minutes),
        };
        if let Err(error) = self.mailer.send(mail).await {
            tracing::error!(%error, portal = %portal.id, "could not send a sign-in link");
        }
        self.audit(
            AuditEvent::LinkIssued,
            Some(&portal.id),
            Some(email),
            None,
            None,
        )
        .await;
        Ok(link)
    }

    /// Deletes what is kept only for a while: audit rows older than `audit_retention`, and
    /// links a day after they expired (kept that long for the audit trail). Returns the rows
    /// deleted.
    pub async fn prune(&self, audit_retention: Duration) -> Result<u64, AuthError> {
        let now = now_unix();
        let audit = crate::on_db!(&self.db, pool => sqlx::query("DELETE FROM audit_log WHERE at < $1")
            .bind(now - audit_retention.as_secs() as i64)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        let links = crate::on_db!(&self.db, pool => sqlx::query("DELETE FROM magic_links WHERE expires_at < $1")
            .bind(now - 86_400)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(audit + links)
    }

    /// Records who did what from where. Never fails the request it belongs to.
    /// Records what `member` did in their portal, from `address`.
    pub async fn audit_member(
        &self,
        event: AuditEvent,
        member: &Member,
        address: Option<IpAddr>,
        detail: &str,
    ) {
        self.audit(
            event,
            Some(&member.portal_id),
            Some(&member.email),
            address,
            Some(detail),
        )
        .await;
    }

    pub async fn audit(
        &self,
        event: AuditEvent,
        portal_id: Option<&str>,
        email: Option<&str>,
        address: Option<IpAddr>,
        detail: Option<&str>,
    ) {
        let result = crate::on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO audit_log (at, event, portal_id, email, address, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(now_unix())
        .bind(event.as_str())
        .bind(portal_id)
        .bind(email)
        .bind(address.map(|a| a.to_string()))
        .bind(detail)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()));
        if let Err(error) = result {
            tracing::error!(%error, event = event.as_str(), "could not write the audit log");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_url_safe_characters() {
        let token = new_token();
        assert!(plausible_token(&token), "{token}");
        assert_ne!(token, new_token());
        assert_eq!(hash_token(&token).len(), 64);
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalize_email("  Jane@Example.COM ").unwrap(),
            "jane@example.com"
        );
        for bad in [
            "",
            "jane",
            "jane@",
            "@example.com",
            "jane@example",
            "a b@example.com",
            "<x>@y.z",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn portal_ids_and_colours() {
        assert!(valid_portal_id("client_abc123"));
        assert!(!valid_portal_id("Client"));
        assert!(!valid_portal_id("a/b"));
        assert!(valid_colour("#1d4ed8"));
        assert!(valid_logo_url("https://cdn.example.com/logo.svg"));
        assert!(valid_logo_url("/logo.svg"));
        for bad in [
            "//evil.example/x.svg",
            "/\\evil.example/x",
            "http://x/y",
            "https:///x",
            "javascript:x",
        ] {
            assert!(!valid_logo_url(bad), "{bad}");
        }
        assert!(!valid_colour("red;background:url(x)"));
    }
}
