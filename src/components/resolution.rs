//! The ticket page's forms for what a client does once the team has answered: "This is
//! solved", "How did we do?", reopening within the window, and following a closed ticket up with
//! a new one. Plain forms, so each works without JavaScript; the server sends the browser back
//! to the ticket (with `?error=` when something was refused).

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use super::ticket_form::{INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::api::tickets::{FollowUpTicket, RateTicket, ReopenTicket, ResolveTicket};
use crate::model::{
    RATING_COMMENT_MAX_CHARS, REPLY_MAX_CHARS, Rating, Resolution, Status, exact_time,
};

const CARD: &str = "rounded-lg bg-white p-5 shadow-sm";

/// What the client may do with the ticket now, by its status.
#[component]
pub fn ResolutionPanel(ticket_id: String, status: Status, resolution: Resolution) -> impl IntoView {
    if resolution.action_pending {
        return view! {
            <p class="rounded-md bg-amber-50 px-4 py-3 text-sm text-amber-900" data-testid="action-pending">
                "Your last change to this ticket is on its way to the team. The page updates when it arrives."
            </p>
        }
        .into_any();
    }
    if !status.is_done() {
        return view! { <SolvedForm ticket_id reopen_days=resolution.reopen_days /> }.into_any();
    }
    let reopen = match &resolution.reopen_until {
        Some(until) => view! { <ReopenForm ticket_id=ticket_id.clone() until=until.clone() /> }.into_any(),
        None => view! {
            <p class="text-sm text-slate-700" data-testid="reopen-closed">
                {format!(
                    "This ticket was resolved more than {} day(s) ago, so it can no longer be reopened. Start a follow-up ticket below if you need more help.",
                    resolution.reopen_days,
                )}
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
    view! {
        <section aria-labelledby="solved-heading" class=CARD data-testid="solved">
            <h2 id="solved-heading" class="text-lg font-semibold">"Is this solved?"</h2>
            <p class="mt-1 text-sm text-slate-700">
                {format!("Tell the team it can be closed. You can reopen it within {reopen_days} day(s) if it comes back.")}
            </p>
            <form method="post" action=ResolveTicket::PATH class="mt-3">
                <input type="hidden" name="ticket_id" value=ticket_id />
                <button type="submit" class=SECONDARY_BUTTON>"This is solved"</button>
            </form>
        </section>
    }
}

/// "How did we do?": a choice and an optional comment. A mail's rating link only preselects
/// the choice (`?rate=good`); the rating counts when this form is sent.
#[component]
fn RatingForm(ticket_id: String, resolution: Resolution) -> impl IntoView {
    let query = use_query_map().get_untracked();
    let chosen = query
        .get("rate")
        .and_then(|r| Rating::parse(&r))
        .or(resolution.rating.as_ref().map(|r| r.score));
    let thanks = query.get("rated").is_some().then(|| {
        view! {
            <p role="status" class="mt-2 rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
                "Thank you. The team sees your rating."
            </p>
        }
    });
    let current = resolution.rating.as_ref().map(|rating| {
        view! {
            <p class="mt-1 text-sm text-slate-700" data-testid="current-rating" data-rating=rating.score.as_str()>
                {format!("Rated {} by {}.", rating.score.label(), rating.by)}
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
            <h2 id="rating-heading" class="text-lg font-semibold">"How did we do?"</h2>
            {current}
            {thanks}
            <form method="post" action=RateTicket::PATH class="mt-3 space-y-3">
                <input type="hidden" name="ticket_id" value=ticket_id />
                <fieldset>
                    <legend class="sr-only">"Your rating"</legend>
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
                                        {rating.label()}
                                    </label>
                                }
                            })
                            .collect_view()}
                    </div>
                </fieldset>
                <label for="rating-comment" class="block text-sm font-medium">"Anything to add? (optional)"</label>
                <textarea
                    id="rating-comment"
                    name="comment"
                    rows="2"
                    maxlength=RATING_COMMENT_MAX_CHARS.to_string()
                    class=INPUT
                >
                    {comment}
                </textarea>
                <button type="submit" class=PRIMARY_BUTTON>"Send rating"</button>
            </form>
        </section>
    }
}

#[component]
fn ReopenForm(ticket_id: String, until: String) -> impl IntoView {
    view! {
        <section aria-labelledby="reopen-heading" class=CARD data-testid="reopen">
            <h2 id="reopen-heading" class="text-lg font-semibold">"Not solved after all?"</h2>
            <p class="mt-1 text-sm text-slate-700">
                {format!("You can reopen this ticket until {}.", exact_time(&until))}
            </p>
            <form method="post" action=ReopenTicket::PATH class="mt-3 space-y-3">
                <input type="hidden" name="ticket_id" value=ticket_id />
                <label for="reopen-reason" class="block text-sm font-medium">"What is still wrong?"</label>
                <textarea
                    id="reopen-reason"
                    name="reason"
                    rows="2"
                    required
                    maxlength=REPLY_MAX_CHARS.to_string()
                    class=INPUT
                ></textarea>
                <button type="submit" class=SECONDARY_BUTTON>"Reopen ticket"</button>
            </form>
        </section>
    }
}

/// Instead of the reply box on a ticket that can no longer be reopened (or when the agency
/// chose follow-ups): a new ticket that links back to this one.
#[component]
pub fn FollowUpForm(ticket_id: String) -> impl IntoView {
    view! {
        <section aria-labelledby="follow-up-heading" class=CARD data-testid="follow-up">
            <h2 id="follow-up-heading" class="text-lg font-semibold">"Start a follow-up ticket"</h2>
            <p class="mt-1 text-sm text-slate-700">
                "This ticket is closed. Your message starts a new ticket that links back to it."
            </p>
            <form method="post" action=FollowUpTicket::PATH class="mt-3 space-y-3">
                <input type="hidden" name="ticket_id" value=ticket_id />
                <label for="follow-up-body" class="block text-sm font-medium">"Your message"</label>
                <textarea
                    id="follow-up-body"
                    name="body"
                    rows="4"
                    required
                    maxlength=REPLY_MAX_CHARS.to_string()
                    class=INPUT
                ></textarea>
                <button type="submit" class=PRIMARY_BUTTON>"Start follow-up ticket"</button>
            </form>
        </section>
    }
}
