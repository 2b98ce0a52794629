//! The words for the portal's own values (statuses, priorities, ratings, roles, sort orders,
//! notification choices) and for the codes a plain form's redirect carries, in a language.
//! The model's `label()`s stay English: they are what the monday board and the REST API read.

use super::{Locale, td_string};
use crate::model::{
    DESCRIPTION_MAX_CHARS, NotifyMode, Priority, RATING_COMMENT_MAX_CHARS, REPLY_MAX_CHARS, Rating,
    Role, Sort, Status, TITLE_MAX_CHARS,
};

pub fn status(l: Locale, status: Status) -> &'static str {
    match status {
        Status::Open => td_string!(l, common.status.open),
        Status::InProgress => td_string!(l, common.status.in_progress),
        Status::Resolved => td_string!(l, common.status.resolved),
        Status::Closed => td_string!(l, common.status.closed),
    }
}

pub fn priority(l: Locale, priority: Priority) -> &'static str {
    match priority {
        Priority::Low => td_string!(l, common.priority.low),
        Priority::Medium => td_string!(l, common.priority.medium),
        Priority::High => td_string!(l, common.priority.high),
        Priority::Urgent => td_string!(l, common.priority.urgent),
    }
}

pub fn rating(l: Locale, rating: Rating) -> &'static str {
    match rating {
        Rating::Good => td_string!(l, common.rating.good),
        Rating::NotGood => td_string!(l, common.rating.not_good),
    }
}

pub fn role(l: Locale, role: Role) -> &'static str {
    match role {
        Role::Admin => td_string!(l, common.role.admin),
        Role::Member => td_string!(l, common.role.member),
        Role::Requester => td_string!(l, common.role.requester),
    }
}

/// What the role lets a person do, as the Colleagues page explains it.
pub fn role_explained(l: Locale, role: Role) -> &'static str {
    match role {
        Role::Admin => td_string!(l, common.role.admin_explained),
        Role::Member => td_string!(l, common.role.member_explained),
        Role::Requester => td_string!(l, common.role.requester_explained),
    }
}

pub fn sort(l: Locale, sort: Sort) -> &'static str {
    match sort {
        Sort::Created => td_string!(l, tickets.sort_created),
        Sort::Updated => td_string!(l, tickets.sort_updated),
        Sort::Priority => td_string!(l, tickets.sort_priority),
    }
}

pub fn notify_mode(l: Locale, mode: NotifyMode) -> &'static str {
    match mode {
        NotifyMode::All => td_string!(l, settings.mode_all),
        NotifyMode::Replies => td_string!(l, settings.mode_replies),
        NotifyMode::Digest => td_string!(l, settings.mode_digest),
        NotifyMode::None => td_string!(l, settings.mode_none),
    }
}

/// The words for a code a form's redirect carries (`?error=invalid_title`), or `None` for a
/// code the portal never sends. Only these sentences can appear: nothing from the URL is shown.
pub fn form_notice(l: Locale, code: &str, minutes: Option<u64>) -> Option<String> {
    let text = match code {
        "invalid_title" => td_string!(l, common.notice.invalid_title, max = TITLE_MAX_CHARS),
        "invalid_description" => {
            td_string!(
                l,
                common.notice.invalid_description,
                max = DESCRIPTION_MAX_CHARS
            )
        }
        "invalid_priority" => td_string!(l, common.notice.invalid_priority).to_owned(),
        "invalid_body" => td_string!(l, common.notice.invalid_body, max = REPLY_MAX_CHARS),
        "invalid_email" => td_string!(l, common.notice.invalid_email).to_owned(),
        "invalid_form" => td_string!(l, common.notice.invalid_form).to_owned(),
        "invalid_colleague" => td_string!(l, common.notice.invalid_colleague).to_owned(),
        "invalid_domain" => td_string!(l, common.notice.invalid_domain).to_owned(),
        "invalid_name" => td_string!(l, common.notice.invalid_name).to_owned(),
        "not_permitted" => td_string!(l, common.notice.not_permitted).to_owned(),
        "invalid_reason" => td_string!(l, common.notice.invalid_reason, max = REPLY_MAX_CHARS),
        "invalid_rating" => td_string!(l, common.notice.invalid_rating).to_owned(),
        "invalid_comment" => {
            td_string!(
                l,
                common.notice.invalid_comment,
                max = RATING_COMMENT_MAX_CHARS
            )
        }
        "invalid_status" => td_string!(l, common.notice.invalid_status).to_owned(),
        "invalid_zone" => td_string!(l, common.notice.invalid_zone).to_owned(),
        "invalid_language" => td_string!(l, common.notice.invalid_language).to_owned(),
        "rate_limited" => match minutes {
            Some(count) => td_string!(l, common.notice.rate_limited_minutes, count = count),
            None => td_string!(l, common.notice.rate_limited).to_owned(),
        },
        "unavailable" => td_string!(l, common.notice.unavailable).to_owned(),
        "not_found" => td_string!(l, common.notice.not_found).to_owned(),
        "forbidden" => td_string!(l, common.notice.forbidden).to_owned(),
        "unauthorized" => td_string!(l, common.notice.unauthorized).to_owned(),
        "internal" => td_string!(l, common.notice.internal).to_owned(),
        "network" => td_string!(l, common.notice.network).to_owned(),
        _ => return None,
    };
    Some(text)
}
