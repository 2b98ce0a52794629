//! The ticket page's forms for what a client does once the team has answered: "This is
//! solved", {td_string!(l, ticket.resolution.rating_heading)}, reopening within the window, and following a closed ticket up with
//! a new one. Plain forms, so each works without JavaScript; the server sends the browser back
//! to the ticket (with `?error=` when something was refused).

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use super::ticket_form::{INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::api::tickets::{FollowUpTicket, RateTicket, ReopenTicket, ResolveTicket};
use crate::i18n::{exact_time, locale, td_string, words};
use crate::model::{RATING_COMMENT_MAX_CHARS, REPLY_MAX_CHARS, Rating, Resolution, Status};

const CARD: &str = "rounded-lg bg-white p-5 shadow-sm";

/// What the client may do with the ticket now, by its status.
#[component]
pub fn ResolutionPanel(ticket_id: String, status: Status, resolution: Resolution) -> impl IntoView {
    let l = locale();
    if resolution.action_pending {
        return view! {
            <p class="rounded-md bg-amber-50 px-4 py-3 text-sm text-amber-900" data-testid="action-pending">
                {td_string!(l, ticket.resolution.pending)}
            </p>
        }
        .into_any();
    }
    if !status.is_done() {
        return view! { <SolvedForm ticket_id reopen_days=resolution.reopen_days /> }.into_any();
    }
    let reopen = match &resolution.reopen_until {
        Some(until) => {
            view! { <ReopenForm ticket_id=ticket_id.clone() until=until.clone() /> }.into_any()
        }
        None => view! {
            <p class="text-sm text-slate-700" data-testid="reopen-closed">
                {td_string!(l, ticket.resolution.reopen_closed, count = resolution.reopen_days)}
            </p>
        }
        .into_any(),
    };
    view! {
        <div class="space-y-4">
            <RatingForm ticket_id=ticket_id.clone() resolution=resolution.clone() />
            {reopen}
        </div>
    }
    .into_any()
}

#[component]
fn SolvedForm(ticket_id: String, reopen_days: u32) -> impl IntoView {
    let l = locale();
    view! {
        <section aria-labelledby="solved-heading" class=CARD data-testid="solved">
            <h2 id="solved-heading" class="text-lg font-semibold">{td_string!(l, ticket.resolution.solved_heading)}</h2>
            <p class="mt-1 text-sm text-slate-700">
                {td_string!(l, ticket.resolution.solved_body, count = reopen_days)}
            </p>
            <form method="post" action=ResolveTicket::PATH class="mt-3">
                <input type="hidden" name="ticket_id" value=ticket_id />
                <button type="submit" class=SECONDARY_BUTTON>{td_string!(l, ticket.resolution.solved_button)}</button>
            </form>
        </section>
    }
}

/// {td_string!(l, ticket.resolution.rating_heading)}: a choice and an optional comment. A mail's rating link only preselects
/// the choice (`?rate=good`); the rating counts when this form is sent.
#[component]
fn RatingForm(ticket_id: String, resolution: Resolution) -> impl IntoView {
    let query = use_query_map().get_untracked();
    let l = locale();
    let chosen = query
        .get("rate")
        .and_then(|r| Rating::parse(&r))
        .or(resolution.rating.as_ref().map(|r| r.score));
    let thanks = query.get("rated").is_some().then(|| {
        view! {
            <p role="status" class="mt-2 rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
                {td_string!(l, ticket.resolution.thanks)}
            </p>
        }
    });
    let current = resolution.rating.as_ref().map(|rating| {
        view! {
            <p class="mt-1 text-sm text-slate-700" data-testid="current-rating" data-rating=rating.score.as_str()>
                {td_string!(
                    l,
                    ticket.resolution.rated_by,
                    rating = words::rating(l, rating.score),
                    by = rating.by.clone()
                )}
            </p>
        }
    });
    let comment = resolution
        .rating
        .as_ref()
        .map(|r| r.comment.clone())
        .unwrap_or_default();
    view! {
        <section aria-labelledby="rating-heading" class=CARD data-testid="rating">
            <h2 id="rating-heading" class="text-lg font-semibold">{td_string!(l, ticket.resolution.rating_heading)}</h2>
            {current}
            {thanks}
            <form method="post" action=RateTicket::PATH class="mt-3 space-y-3">
                <input type="hidden" name="ticket_id" value=ticket_id />
                <fieldset>
                    <legend class="sr-only">{td_string!(l, ticket.resolution.your_rating)}</legend>
                    <div class="flex flex-wrap gap-4">
                        {Rating::ALL
                            .into_iter()
                            .map(|rating| {
                                let id = format!("rating-{}", rating.as_str());
                                let label_for = id.clone();
                                view! {
                                    <label for=label_for class="inline-flex items-center gap-2 font-medium">
                                        <input
                                            type="radio"
                                            id=id
                                            name="rating"
                                            value=rating.as_str()
                                            required
                                            checked=chosen == Some(rating)
                                        />
                                        {words::rating(l, rating)}
                                    </label>
                                }
                            })
                            .collect_view()}
                    </div>
                </fieldset>
                <label for="rating-comment" class="block text-sm font-medium">{td_string!(l, ticket.resolution.comment)}</label>
                <textarea
                    id="rating-comment"
                    name="comment"
                    rows="2"
                    maxlength=RATING_COMMENT_MAX_CHARS.to_string()
                    class=INPUT
                >
                    {comment}
                </textarea>
                <button type="submit" class=PRIMARY_BUTTON>{td_string!(l, ticket.resolution.send_rating)}</button>
            </form>
        </section>
    }
}

#[component]
fn ReopenForm(ticket_id: String, until: String) -> impl IntoView {
    let l = locale();
    view! {
        <section aria-labelledby="reopen-heading" class=CARD data-testid="reopen">
            <h2 id="reopen-heading" class="text-lg font-semibold">{td_string!(l, ticket.resolution.reopen_heading)}</h2>
            <p class="mt-1 text-sm text-slate-700">
                {td_string!(l, ticket.resolution.reopen_until, until = exact_time(&until))}
            </p>
            <form method="post" action=ReopenTicket::PATH class="mt-3 space-y-3">
                <input type="hidden" name="ticket_id" value=ticket_id />
                <label for="reopen-reason" class="block text-sm font-medium">{td_string!(l, ticket.resolution.reopen_reason)}</label>
                <textarea
                    id="reopen-reason"
                    name="reason"
                    rows="2"
                    required
                    maxlength=REPLY_MAX_CHARS.to_string()
                    class=INPUT
                ></textarea>
                <button type="submit" class=SECONDARY_BUTTON>{td_string!(l, ticket.resolution.reopen_button)}</button>
            </form>
        </section>
    }
}

/// Instead of the reply box on a ticket that can no longer be reopened (or when the agency
/// chose follow-ups): a new ticket that links back to this one.
#[component]
pub fn FollowUpForm(ticket_id: String) -> impl IntoView {
    let l = locale();
    view! {
        <section aria-labelledby="follow-up-heading" class=CARD data-testid="follow-up">
            <h2 id="follow-up-heading" class="text-lg font-semibold">{td_string!(l, ticket.resolution.follow_up_heading)}</h2>
            <p class="mt-1 text-sm text-slate-700">
                {td_string!(l, ticket.resolution.follow_up_body)}
            </p>
            <form method="post" action=FollowUpTicket::PATH class="mt-3 space-y-3">
                <input type="hidden" name="ticket_id" value=ticket_id />
                <label for="follow-up-body" class="block text-sm font-medium">{td_string!(l, ticket.your_message)}</label>
                <textarea
                    id="follow-up-body"
                    name="body"
                    rows="4"
                    required
                    maxlength=REPLY_MAX_CHARS.to_string()
                    class=INPUT
                ></textarea>
                <button type="submit" class=PRIMARY_BUTTON>{td_string!(l, ticket.resolution.follow_up_button)}</button>
            </form>
        </section>
    }
}
