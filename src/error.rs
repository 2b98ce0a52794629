//! The error every server function, page and HTTP handler ends in: what went wrong in words a
//! client understands, never a stack trace or monday's raw GraphQL error. Its status and code are
//! decided here, once; `server::http::error` turns it into a response.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in to continue.")]
    NotSignedIn,
    /// A credential other than the session (an API token, a link) was refused; says why.
    #[error("{message}")]
    Unauthorized { message: String },
    /// Also what a ticket of another portal answers: it does not exist for this client.
    #[error("We could not find that.")]
    NotFound,
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("You have done that a lot recently. Please try again in {minutes} minute(s).")]
    RateLimited { minutes: u64 },
    #[error("This request came from another site and was refused.")]
    Forbidden,
    /// Allowed to sign in, but not to this. `notice` names what was refused, one of
    /// [`crate::model::REFUSALS`] (its words are `common.notice.<notice>`); `message` says it in
    /// English for the REST API.
    #[error("{message}")]
    NotPermitted { notice: String, message: String },
    /// A request a machine sent that cannot be read (a webhook body, a bad JSON document).
    #[error("{message}")]
    BadRequest { message: String },
    /// monday (or another service) is not answering; `message` says what happens next.
    #[error("{message}")]
    Unavailable { message: String },
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
    /// Transport problems between the browser and the portal.
    #[error("Could not reach the portal. Check your connection and try again.")]
    Network(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    pub fn not_permitted(notice: &str, message: impl Into<String>) -> Self {
        AppError::NotPermitted {
            notice: notice.to_owned(),
            message: message.into(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        AppError::Unauthorized {
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        AppError::BadRequest {
            message: message.into(),
        }
    }

    /// The HTTP status a page or REST call answers with for this error.
    pub fn status(&self) -> u16 {
        match self {
            AppError::NotSignedIn | AppError::Unauthorized { .. } => 401,
            AppError::NotFound => 404,
            AppError::Invalid { .. } => 422,
            AppError::RateLimited { .. } => 429,
            AppError::Forbidden | AppError::NotPermitted { .. } => 403,
            AppError::BadRequest { .. } => 400,
            AppError::Unavailable { .. } => 503,
            AppError::Internal | AppError::Network(_) => 500,
        }
    }

    /// What a form posted without JavaScript is sent back with: a code for the URL (and the
    /// minutes to wait, for a rate limit), never the message itself, so a crafted link cannot
    /// make the page say anything. [`crate::i18n::words::form_notice`] turns it back into words.
    pub fn form_code(&self) -> (String, Option<u64>) {
        match self {
            AppError::Invalid { field, .. }
                if crate::model::FORM_FIELDS.contains(&field.as_str()) =>
            {
                (format!("invalid_{field}"), None)
            }
            AppError::Invalid { .. } => ("invalid_form".to_owned(), None),
            AppError::RateLimited { minutes } => ("rate_limited".to_owned(), Some(*minutes)),
            AppError::NotPermitted { notice, .. }
                if crate::model::REFUSALS.contains(&notice.as_str()) =>
            {
                (notice.clone(), None)
            }
            AppError::NotPermitted { .. } => ("not_permitted".to_owned(), None),
            other => (other.code().to_owned(), None),
        }
    }

    /// The error in a language: the translated sentence for its code, which the translation
    /// files hold for every code in every language. English readers get the sentence the error
    /// was made with where it has one, since it may say more ("at org.test only", "resolved more
    /// than 14 days ago"); the errors without one (a rate limit, not found) read from the English
    /// files too.
    pub fn words(&self, l: crate::i18n::Locale) -> String {
        match self {
            // Already in the request's language where it was made (a file's problem names it).
            AppError::Invalid { field, message } if field == "files" => return message.clone(),
            AppError::Invalid { .. }
            | AppError::NotPermitted { .. }
            | AppError::Unauthorized { .. }
            | AppError::BadRequest { .. }
            | AppError::Unavailable { .. }
                if l == crate::i18n::Locale::en =>
            {
                return self.to_string();
            }
            _ => {}
        }
        let (code, minutes) = self.form_code();
        crate::i18n::words::form_notice(l, &code, minutes).unwrap_or_else(|| self.to_string())
    }

    /// The same error with its sentence in a language (see [`AppError::words`]), as a server
    /// function answers it to an island.
    pub fn localized(self, l: crate::i18n::Locale) -> Self {
        let message = self.words(l);
        match self {
            AppError::Invalid { field, .. } => AppError::Invalid { field, message },
            AppError::NotPermitted { notice, .. } => AppError::NotPermitted { notice, message },
            AppError::Unavailable { .. } => AppError::Unavailable { message },
            AppError::BadRequest { .. } => AppError::BadRequest { message },
            AppError::Unauthorized { .. } => AppError::Unauthorized { message },
            other => other,
        }
    }

    /// A stable machine-readable code, for the REST API.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotSignedIn | AppError::Unauthorized { .. } => "unauthorized",
            AppError::NotFound => "not_found",
            AppError::Invalid { .. } => "invalid_input",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Forbidden | AppError::NotPermitted { .. } => "forbidden",
            AppError::BadRequest { .. } => "bad_request",
            AppError::Unavailable { .. } => "unavailable",
            AppError::Internal => "internal",
            AppError::Network(_) => "network",
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(message) | ServerFnErrorErr::Response(message) => {
                AppError::Network(message)
            }
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                AppError::invalid("form", format!("The form was incomplete: {message}"))
            }
            _ => AppError::Internal,
        }
    }
}
