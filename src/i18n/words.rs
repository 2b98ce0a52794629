//! The words for the portal's own values (statuses, priorities, ratings, roles, sort orders,
//! notification choices) and for the codes a plain form's redirect carries, in a language.
//! The model's `label()`s stay English: they are what the monday board and the REST API read.

use super::{Locale, td_string};
use crate::model::{
    DESCRIPTION_MAX_CHARS, NotifyMode, Priority, RATING_COMMENT_MAX_CHARS, REPLY_MAX_CHARS, Rating,
    Role, Sort, Status, TITLE_MAX_CHARS,
};

/// A message's author as a reader sees it: a name as written, the unnamed team in their
/// language.
pub fn author(l: Locale, author: &str) -> &str {
    if author == crate::model::TEAM_AUTHOR {
        td_string!(l, common.support_team)
    } else {
        author
    }
}

/// The language's names for [`crate::model::SIZE_UNITS`].
pub fn size_units(l: Locale) -> [&'static str; 4] {
    [
        td_string!(l, common.size_unit.b),
        td_string!(l, common.size_unit.kb),
        td_string!(l, common.size_unit.mb),
        td_string!(l, common.size_unit.gb),
    ]
}

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
        "invalid_mode" => td_string!(l, common.notice.invalid_mode).to_owned(),
        "invalid_digest_hour" => td_string!(l, common.notice.invalid_digest_hour).to_owned(),
        "invalid_utc_offset_minutes" => {
            td_string!(l, common.notice.invalid_utc_offset_minutes).to_owned()
        }
        "invalid_role" => td_string!(l, common.notice.invalid_role).to_owned(),
        "invalid_pending_reply" => td_string!(l, common.notice.invalid_pending_reply).to_owned(),
        "invalid_pending_follow" => td_string!(l, common.notice.invalid_pending_follow).to_owned(),
        "invalid_reply_to" => td_string!(l, common.notice.invalid_reply_to).to_owned(),
        "invalid_files_storage" => td_string!(l, common.notice.invalid_files_storage).to_owned(),
        "admins_only" => td_string!(l, common.notice.admins_only).to_owned(),
        "own_role" => td_string!(l, common.notice.own_role).to_owned(),
        "remove_self" => td_string!(l, common.notice.remove_self).to_owned(),
        "followers_by_members" => td_string!(l, common.notice.followers_by_members).to_owned(),
        "other_portal" => td_string!(l, common.notice.other_portal).to_owned(),
        "bad_request" => td_string!(l, common.notice.bad_request).to_owned(),
        "too_large" => td_string!(l, common.notice.too_large).to_owned(),
        "slow" => td_string!(l, common.notice.slow).to_owned(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;
    use crate::i18n::I18nLocaleTrait;
    use crate::model::{FORM_FIELDS, REFUSALS};

    /// Every error a client can meet has its sentence in every language: a code without one
    /// would fall back to the English it was made with.
    #[test]
    fn every_code_an_error_can_carry_has_its_words_in_every_language() {
        let mut errors = vec![
            AppError::NotSignedIn,
            AppError::unauthorized("x"),
            AppError::NotFound,
            AppError::invalid("something else", "x"),
            AppError::RateLimited { minutes: 3 },
            AppError::Forbidden,
            AppError::bad_request("x"),
            AppError::Unavailable {
                message: "x".into(),
            },
            AppError::Internal,
            AppError::Network("x".into()),
        ];
        errors.extend(
            FORM_FIELDS
                .iter()
                .map(|field| AppError::invalid(field, "x")),
        );
        errors.extend(
            REFUSALS
                .iter()
                .map(|notice| AppError::not_permitted(notice, "x")),
        );
        for l in Locale::get_all() {
            for error in &errors {
                let (code, minutes) = error.form_code();
                assert!(
                    form_notice(*l, &code, minutes).is_some(),
                    "{code} has no words in {}",
                    l.as_str()
                );
                if *l != Locale::en {
                    assert_ne!(error.words(*l), "x", "{code} in {}", l.as_str());
                }
            }
            for code in ["too_large", "slow"] {
                assert!(form_notice(*l, code, None).is_some(), "{code}");
            }
        }
    }
}
