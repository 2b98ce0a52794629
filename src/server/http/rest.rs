//! The REST API with the original design's contract, for API clients and the old front end:
//! a magic link exchanged for a JWT, then tickets with `Authorization: Bearer`. Errors are
//! [`AppError`]s, answered as `{"error": {"code", "message"}}` like every machine-facing error.

use std::time::Duration;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::error::{ErrorBody, ErrorDetail};
use super::limits::Write;
use super::limits::address_key;
use super::request::{client_address, current_access};
use super::state::AppState;
use crate::error::AppError;
use crate::model::{
    DESCRIPTION_MAX_CHARS, Delivery, NewTicket, Priority, Status, TITLE_MAX_CHARS, Ticket,
};
use crate::server::auth::jwt::JwtError;
use crate::server::auth::{Access, AuditEvent, AuthError, valid_portal_id};
use crate::server::tickets::PENDING_PREFIX;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/{portal_id}/{token}", get(exchange_link))
        .route("/api/v1/tickets/{portal_id}", get(list_tickets))
        .route("/api/v1/ticket", post(create_ticket))
        .route("/api/v1/openapi.json", get(openapi))
}

/// The member a valid `Authorization: Bearer <JWT>` names, still a member of its portal.
/// The member a bearer token names, with what they may see.
pub struct BearerMember(pub Access);

impl FromRequestParts<AppState> for BearerMember {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer(&parts.headers).ok_or_else(|| {
            AppError::unauthorized(
                "send the token from /api/v1/auth as Authorization: Bearer <token>",
            )
        })?;
        let member = state.jwt.verify(token).map_err(|error| match error {
            JwtError::Expired => AppError::unauthorized("the token has expired; sign in again"),
            JwtError::Invalid => AppError::unauthorized("the token is not valid"),
        })?;
        match current_access(state, member).await {
            Ok(access) => Ok(BearerMember(access)),
            Err(AppError::NotSignedIn) => {
                Err(AppError::unauthorized("this account no longer has access"))
            }
            Err(other) => Err(other),
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

#[derive(Serialize, ToSchema)]
pub struct AuthResponse {
    access_token: String,
    /// Always `bearer`.
    token_type: String,
    portal_id: String,
}

/// Exchanges a magic link's token for a JWT (24 hours). The link is spent.
#[utoipa::path(
    get,
    path = "/api/v1/auth/{portal_id}/{token}",
    params(("portal_id" = String, Path), ("token" = String, Path, description = "the token from the magic link")),
    responses(
        (status = 200, body = AuthResponse),
        (status = 401, body = ErrorBody, description = "expired, used, tampered or foreign link"),
    )
)]
async fn exchange_link(
    State(state): State<AppState>,
    Path((portal_id, token)): Path<(String, String)>,
    parts: Parts,
) -> Result<Json<AuthResponse>, AppError> {
    let address = client_address(&parts, &state.config.trusted_proxies);
    let member = state
        .auth
        .consume_link(&portal_id, &token, address, &address_key(address))
        .await
        .map_err(|error| match error {
            AuthError::LinkUnusable => {
                AppError::unauthorized("this link has expired or was already used")
            }
            other => other.into(),
        })?;
    let access_token = state.jwt.issue(&member).map_err(|_| AppError::Internal)?;
    state
        .auth
        .audit(
            AuditEvent::TokenIssued,
            Some(&member.portal_id),
            Some(&member.email),
            address,
            None,
        )
        .await;
    Ok(Json(AuthResponse {
        access_token,
        token_type: "bearer".into(),
        portal_id: member.portal_id,
    }))
}

/// Whether monday has a ticket yet.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Delivered,
    Waiting,
    Failed,
}

/// A ticket in the original contract's shape.
#[derive(Serialize, ToSchema)]
pub struct RestTicket {
    /// monday's item id, or `pending-…` while the ticket waits to reach monday.
    id: String,
    title: String,
    description: String,
    status: Status,
    priority: Priority,
    /// The portal the ticket belongs to.
    client_id: String,
    /// RFC 3339, UTC.
    created_at: String,
    updated_at: String,
    delivery: DeliveryState,
}

impl From<Ticket> for RestTicket {
    fn from(ticket: Ticket) -> Self {
        let delivery = match ticket.delivery {
            Delivery::Delivered => DeliveryState::Delivered,
            Delivery::Waiting { .. } => DeliveryState::Waiting,
            Delivery::Failed { .. } => DeliveryState::Failed,
        };
        Self {
            id: ticket.id,
            title: ticket.title,
            description: ticket.description,
            status: ticket.status,
            priority: ticket.priority,
            client_id: ticket.portal_id,
            created_at: ticket.created_at,
            updated_at: ticket.updated_at,
            delivery,
        }
    }
}

/// The tickets of the token's portal, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{portal_id}",
    params(("portal_id" = String, Path, description = "must be the token's portal")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<RestTicket>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "the path names another portal"),
        (status = 503, body = ErrorBody, description = "monday is not answering and nothing is saved"),
    )
)]
async fn list_tickets(
    State(state): State<AppState>,
    BearerMember(access): BearerMember,
    Path(portal_id): Path<String>,
    parts: Parts,
) -> Result<Response, AppError> {
    let member = &access.member;
    if portal_id != member.portal_id {
        let address = client_address(&parts, &state.config.trusted_proxies);
        state
            .auth
            .audit(
                AuditEvent::AccessDenied,
                // The path is the caller's to write: only an id-shaped value is recorded.
                Some(portal_id.as_str()).filter(|id| valid_portal_id(id)),
                Some(&member.email),
                address,
                Some("REST tickets of another portal"),
            )
            .await;
        return Err(AppError::not_permitted(
            "other_portal",
            "this token belongs to another portal",
        ));
    }
    let fresh = state.tickets.list(&access).await?;
    let mut tickets = fresh.value;
    tickets.sort_by(|a, b| b.created_at.cmp(&a.created_at));
    let body: Vec<RestTicket> = tickets.into_iter().map(RestTicket::from).collect();
    let mut response = Json(body).into_response();
    if let Some(saved_at) = fresh.saved_at
        && let Ok(value) =
            format!("110 - \"monday is not answering; data saved at {saved_at}\"").parse()
    {
        response.headers_mut().insert("warning", value);
    }
    Ok(response)
}

// Every constraint on this body is one the handler checks, and the handler checks nothing else:
// the API tests send requests on both sides of each and compare the answers with the document.
/// A new ticket.
#[derive(Deserialize, ToSchema)]
pub struct NewTicketBody {
    /// One line of 1 to 255 characters, not only spaces. The pattern says "no control
    /// characters, and at least one that is not a space", as `check` does.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    title: String,
    /// Up to 10,000 characters; line breaks are kept.
    #[serde(default)]
    #[schema(max_length = 10000)]
    description: String,
    /// Missing or null means medium.
    #[serde(default)]
    #[schema(nullable)]
    priority: Option<Priority>,
}

impl NewTicketBody {
    /// The document's constraints on the raw body, before the ticket is trimmed and saved.
    fn check(&self) -> Result<(), AppError> {
        let title_chars = self.title.chars().count();
        let title_is_one_line = !self.title.chars().any(char::is_control);
        if title_chars == 0
            || title_chars > TITLE_MAX_CHARS
            || !title_is_one_line
            || self.title.trim().is_empty()
        {
            return Err(AppError::invalid(
                "title",
                format!(
                    "the title must be one line of 1 to {TITLE_MAX_CHARS} characters, not only spaces"
                ),
            ));
        }
        if self.description.chars().count() > DESCRIPTION_MAX_CHARS {
            return Err(AppError::invalid(
                "description",
                format!("the description holds at most {DESCRIPTION_MAX_CHARS} characters"),
            ));
        }
        Ok(())
    }
}

/// How long the API waits for monday before answering 202 with the saved ticket.
const CREATE_WAIT: Duration = Duration::from_secs(5);

/// Creates a ticket in the token's portal. 201 once monday has it; 202 when it is saved and
/// still on its way (monday busy or down): it will arrive without being sent again.
#[utoipa::path(
    post,
    path = "/api/v1/ticket",
    request_body = NewTicketBody,
    security(("bearer" = [])),
    responses(
        (status = 201, body = RestTicket),
        (status = 202, body = RestTicket, description = "saved; monday has not confirmed it yet"),
        (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody),
    )
)]
async fn create_ticket(
    State(state): State<AppState>,
    BearerMember(access): BearerMember,
    parts: Parts,
    body: Result<Json<NewTicketBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, AppError> {
    let Json(body) = body.map_err(|rejection| {
        AppError::invalid(
            "body",
            format!(
                "the body must be JSON with title, description and priority: {}",
                rejection.body_text()
            ),
        )
    })?;
    body.check()?;
    let priority = body.priority.unwrap_or(Priority::Medium);
    let new = NewTicket::validate(&body.title, &body.description, priority.as_str())
        .map_err(|e| AppError::invalid(e.field, e.message))?;
    let address = client_address(&parts, &state.config.trusted_proxies);
    state
        .write_limits
        .check(&access.member, address, Write::Ticket)
        .await?;
    let member = &access.member;
    let pending = state
        .tickets
        .create(member, access.display_name.as_deref(), &new, Vec::new())
        .await?;
    state
        .auth
        .audit_member(AuditEvent::TicketCreated, member, address, &new.title)
        .await;
    let outbox_id = pending.id.trim_start_matches(PENDING_PREFIX).to_owned();
    let delivery = state
        .tickets
        .wait_for_delivery(&outbox_id, CREATE_WAIT)
        .await;
    if let (Some(Delivery::Delivered), Some(item_id)) =
        (&delivery, state.tickets.delivered_item(&outbox_id).await)
    {
        let ticket = Ticket {
            id: item_id,
            delivery: Delivery::Delivered,
            ..pending
        };
        return Ok((StatusCode::CREATED, Json(RestTicket::from(ticket))).into_response());
    }
    let ticket = Ticket {
        delivery: delivery.unwrap_or(pending.delivery.clone()),
        ..pending
    };
    Ok((StatusCode::ACCEPTED, Json(RestTicket::from(ticket))).into_response())
}

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "client-portal REST API", description = "Tickets of one client portal, stored on a monday.com board."),
    paths(exchange_link, list_tickets, create_ticket),
    components(schemas(
        AuthResponse,
        RestTicket,
        NewTicketBody,
        ErrorBody,
        ErrorDetail,
        Status,
        Priority,
        DeliveryState
    )),
    modifiers(&BearerScheme)
)]
pub struct ApiDoc;

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
