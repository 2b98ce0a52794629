//! `/tickets/{id}`: one ticket with every field, its status timeline, the public conversation
//! and the reply box.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::tickets::{SetFollowing, load_ticket};
use crate::components::attachments::{FileList, FilePicker};
use crate::components::badges::{DeliveryBadge, PriorityBadge, StatusBadge};
use crate::components::frame::{FreshnessNotice, PortalFrame};
use crate::components::problem::Problem;
use crate::components::resolution::{FollowUpForm, ResolutionPanel};
use crate::components::ticket_form::{INPUT, LINK_BUTTON, PRIMARY_BUTTON, SMALL_BUTTON};
use crate::components::time::When;
use crate::i18n::islands::PickerWords;
use crate::i18n::{exact_time, locale, td_string, words};
use crate::live::LIVE_REGION;
use crate::model::{
    ClosedReplies, Colleague, Delivery, REPLY_MAX_CHARS, Reply, TicketView, UploadLimits,
    message_path,
};

/// `/tickets/{id}`: every field, the status timeline and the public conversation.
#[component]
pub fn TicketPage() -> impl IntoView {
    let params = use_params_map();
    let ticket = Resource::new(
        move || params.get().get("id").unwrap_or_default(),
        load_ticket,
    );
    let l = locale();
    view! {
        <Suspense fallback=move || view! { <p class="p-8 text-slate-600">{td_string!(l, ticket.loading)}</p> }>
            {move || Suspend::new(async move {
                match ticket.await {
                    Ok(view) => view! { <TicketBody view /> }.into_any(),
                    Err(error) => view! { <Problem error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TicketBody(view: TicketView) -> impl IntoView {
    let TicketView {
        viewer,
        detail,
        followers,
        can_add,
        resolution,
        freshness,
    } = view;
    let done = detail.ticket.status.is_done();
    // A message on a resolved ticket reopens it while it may be reopened; after that (or when
    // the agency chose follow-ups) the reply box becomes a follow-up ticket.
    let replies_reopen =
        resolution.closed_replies == ClosedReplies::Reopen && resolution.reopen_until.is_some();
    let ticket = detail.ticket.clone();
    let pending = !matches!(ticket.delivery, Delivery::Delivered);
    let (viewer_email, may_manage) = (viewer.email.clone(), viewer.role.sees_all_tickets());
    let (upload_limits, flash) = (viewer.upload_limits, viewer.flash.clone());
    let waiting = pending
        || detail
            .replies
            .iter()
            .any(|r| matches!(r.delivery, Delivery::Waiting { .. }));
    let l = locale();
    let description = if ticket.description.trim().is_empty() {
        td_string!(l, ticket.no_description).to_owned()
    } else {
        ticket.description.clone()
    };
    view! {
        <Title text=ticket.title.clone() />
        <PortalFrame viewer>
            <p>
                <a href="/dashboard" class="text-sm text-slate-700 underline underline-offset-4">
                    {td_string!(l, ticket.all_tickets)}
                </a>
            </p>
            // What the team changes refreshes here; the reply box below keeps what is typed.
            <div id=LIVE_REGION data-waiting=waiting.to_string() data-ticket-id=ticket.id.clone()>
                <FreshnessNotice freshness />
                <div class="mt-2 flex flex-wrap items-start justify-between gap-3">
                    <h1 class="min-w-0 break-words text-2xl font-bold tracking-tight" data-testid="ticket-title">
                        {ticket.title.clone()}
                    </h1>
                    <div class="flex flex-wrap items-center gap-2" data-testid="ticket-badges">
                        <DeliveryBadge delivery=ticket.delivery.clone() />
                        <StatusBadge status=ticket.status />
                        <PriorityBadge priority=ticket.priority />
                    </div>
                </div>
                <div class="mt-6 grid gap-6 lg:grid-cols-[1fr_18rem]">
                    <div class="min-w-0 space-y-6">
                        <section aria-labelledby="description-heading" class="rounded-lg bg-white p-5 shadow-sm">
                            <h2 id="description-heading" class="text-sm font-semibold text-slate-700">
                                {td_string!(l, ticket.description)}
                            </h2>
                            <p class="mt-2 whitespace-pre-wrap break-words text-slate-900">{description}</p>
                            <FileList ticket_id=ticket.id.clone() files=detail.files.clone() />
                        </section>
                        <Conversation ticket_id=ticket.id.clone() replies=detail.replies.clone() />
                        {(!pending)
                            .then(|| {
                                view! {
                                    <ResolutionPanel
                                        ticket_id=ticket.id.clone()
                                        status=ticket.status
                                        resolution=resolution.clone()
                                    />
                                }
                            })}
                    </div>
                    <aside class="space-y-6">
                        <section aria-labelledby="details-heading" class="rounded-lg bg-white p-5 shadow-sm">
                            <h2 id="details-heading" class="text-sm font-semibold text-slate-700">
                                {td_string!(l, ticket.details)}
                            </h2>
                            <dl class="mt-3 grid grid-cols-[max-content_1fr] gap-x-3 gap-y-2 text-sm">
                                <dt class="text-slate-600">{td_string!(l, ticket.status)}</dt>
                                <dd data-testid="ticket-status">{words::status(l, ticket.status)}</dd>
                                <dt class="text-slate-600">{td_string!(l, ticket.priority)}</dt>
                                <dd>{words::priority(l, ticket.priority)}</dd>
                                <dt class="text-slate-600">{td_string!(l, ticket.opened)}</dt>
                                <dd>{exact_time(&ticket.created_at)}</dd>
                                <dt class="text-slate-600">{td_string!(l, ticket.updated)}</dt>
                                <dd>
                                    <When at=ticket.updated_at.clone() />
                                </dd>
                                <dt class="text-slate-600">{td_string!(l, ticket.raised_by)}</dt>
                                <dd class="break-all">
                                    {ticket.client_email.clone().unwrap_or_else(|| td_string!(l, ticket.the_team).into())}
                                </dd>
                                <dt class="text-slate-600">{td_string!(l, ticket.reference)}</dt>
                                <dd class="break-all">{ticket.id.clone()}</dd>
                            </dl>
                        </section>
                        {(!pending)
                            .then(|| {
                                view! {
                                    <Followers
                                        ticket_id=ticket.id.clone()
                                        viewer_email=viewer_email.clone()
                                        may_manage
                                        followers=followers.clone()
                                        can_add=can_add.clone()
                                    />
                                }
                            })}
                        <section aria-labelledby="timeline-heading" class="rounded-lg bg-white p-5 shadow-sm">
                            <h2 id="timeline-heading" class="text-sm font-semibold text-slate-700">
                                {td_string!(l, ticket.timeline)}
                            </h2>
                            <ol class="mt-3 space-y-3 border-s border-slate-200 ps-4" data-testid="timeline">
                                {detail
                                    .timeline
                                    .into_iter()
                                    .map(|entry| {
                                        view! {
                                            <li class="text-sm">
                                                <StatusBadge status=entry.status />
                                                <div class="mt-1 text-xs text-slate-600">{exact_time(&entry.at)}</div>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ol>
                        </section>
                    </aside>
                </div>
            </div>
            <div class="mt-6 lg:me-[19.5rem]">
                {if pending {
                    view! {
                        <p class="rounded-md bg-amber-50 px-4 py-3 text-sm text-amber-900">
                            {td_string!(l, ticket.on_its_way)}
                        </p>
                    }
                        .into_any()
                } else if done && !replies_reopen {
                    view! { <FollowUpForm ticket_id=ticket.id.clone() /> }.into_any()
                } else {
                    view! {
                        <ReplyForm
                            ticket_id=ticket.id.clone()
                            replies=detail.replies.clone()
                            reopens=done
                            limits=upload_limits
                            flash=flash.clone()
                        />
                    }
                        .into_any()
                }}
            </div>
        </PortalFrame>
    }
}

/// Who follows the ticket, with plain forms (they work without JavaScript) to follow, stop
/// following, and (for members and admins) add or remove a colleague.
#[component]
fn Followers(
    ticket_id: String,
    viewer_email: String,
    may_manage: bool,
    followers: Vec<Colleague>,
    can_add: Vec<Colleague>,
) -> impl IntoView {
    let following = followers.iter().any(|f| f.email == viewer_email);
    let l = locale();
    let form =
        |ticket_id: String, email: String, stop: bool, label: String, class: &'static str| {
            view! {
                <form method="post" action=SetFollowing::PATH class="inline">
                    <input type="hidden" name="ticket_id" value=ticket_id />
                    <input type="hidden" name="email" value=email />
                    {stop.then(|| view! { <input type="hidden" name="stop" value="1" /> })}
                    <button type="submit" class=class>
                        {label}
                    </button>
                </form>
            }
        };
    let list = followers
        .iter()
        .map(|f| {
            let remove = (may_manage || f.email == viewer_email).then(|| {
                let label = if f.email == viewer_email {
                    td_string!(l, ticket.stop_following).to_owned()
                } else {
                    td_string!(l, ticket.remove_follower, name = f.shown_name())
                };
                form(ticket_id.clone(), f.email.clone(), true, label, LINK_BUTTON)
            });
            view! {
                <li class="flex flex-wrap items-center justify-between gap-2" data-follower=f.email.clone()>
                    <span class="min-w-0 break-all">{f.shown_name().to_owned()}</span>
                    {remove}
                </li>
            }
        })
        .collect_view();
    let follow_self = (!following).then(|| {
        form(
            ticket_id.clone(),
            viewer_email.clone(),
            false,
            td_string!(l, ticket.follow).into(),
            SMALL_BUTTON,
        )
    });
    let add = (!can_add.is_empty()).then(|| {
        view! {
            <form method="post" action=SetFollowing::PATH class="mt-3 flex flex-wrap items-end gap-2">
                <input type="hidden" name="ticket_id" value=ticket_id.clone() />
                <label class="block text-xs font-medium text-slate-700">
                    {td_string!(l, ticket.add_colleague)}
                    <select name="email" class=format!("{INPUT} mt-1")>
                        {can_add
                            .iter()
                            .map(|c| view! { <option value=c.email.clone()>{c.shown_name().to_owned()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <button type="submit" class=SMALL_BUTTON>
                    {td_string!(l, ticket.add)}
                </button>
            </form>
        }
    });
    view! {
        <section aria-labelledby="followers-heading" class="rounded-lg bg-white p-5 shadow-sm" data-testid="followers">
            <h2 id="followers-heading" class="text-sm font-semibold text-slate-700">
                {td_string!(l, ticket.followers)}
            </h2>
            <p class="mt-1 text-xs text-slate-600">{td_string!(l, ticket.followers_explained)}</p>
            {if followers.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-600">{td_string!(l, ticket.no_followers)}</p> }.into_any()
            } else {
                view! { <ul class="mt-2 space-y-2 text-sm">{list}</ul> }.into_any()
            }}
            <div class="mt-3">{follow_self}</div>
            {add}
        </section>
    }
}

/// The author of the message a thread starts with, as shown here.
fn thread_author(replies: &[Reply], thread: &str) -> Option<String> {
    replies
        .iter()
        .find(|r| r.thread.as_deref() == Some(thread) && r.in_reply_to.is_none())
        .or_else(|| replies.iter().find(|r| r.thread.as_deref() == Some(thread)))
        .map(|r| words::author(locale(), &r.author).to_owned())
}

#[component]
fn Conversation(ticket_id: String, replies: Vec<Reply>) -> impl IntoView {
    let l = locale();
    let authors: Vec<(String, String)> = replies
        .iter()
        .map(|r| (r.id.clone(), words::author(l, &r.author).to_owned()))
        .collect();
    view! {
        <section aria-labelledby="conversation-heading">
            <h2 id="conversation-heading" class="text-lg font-semibold">
                {td_string!(l, ticket.conversation)}
            </h2>
            {if replies.is_empty() {
                view! {
                    <p class="mt-2 text-sm text-slate-600">
                        {td_string!(l, ticket.no_messages)}
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <ol class="mt-3 space-y-3" data-testid="conversation">
                        {replies
                            .into_iter()
                            .map(|reply| {
                                let card = match (reply.from_client, reply.in_reply_to.is_some()) {
                                    (true, false) => "rounded-lg bg-indigo-50 p-4 ring-1 ring-indigo-100 sm:ms-12",
                                    (true, true) => "rounded-lg bg-indigo-50 p-4 ring-1 ring-indigo-100 ms-6 sm:ms-12 border-s-4 border-indigo-200",
                                    (false, false) => "rounded-lg bg-white p-4 shadow-sm sm:me-12",
                                    (false, true) => "rounded-lg bg-white p-4 shadow-sm ms-6 sm:me-12 border-s-4 border-slate-200",
                                };
                                let who = if reply.from_client {
                                    td_string!(l, ticket.from_client)
                                } else {
                                    td_string!(l, ticket.from_team)
                                };
                                let answering = reply.in_reply_to.as_ref().map(|root| {
                                    let author = authors
                                        .iter()
                                        .find(|(id, _)| id == root)
                                        .map_or_else(
                                            || td_string!(l, ticket.a_message).to_owned(),
                                            |(_, a)| td_string!(l, ticket.someones_message, author = a),
                                        );
                                    view! {
                                        <p class="text-xs text-slate-600" data-testid="in-reply-to">
                                            {td_string!(l, ticket.in_reply_to, message = author)}
                                        </p>
                                    }
                                });
                                // The client answers a team message in its thread, as on monday.
                                let answer = (!reply.from_client)
                                    .then(|| reply.thread.clone())
                                    .flatten()
                                    .map(|thread| {
                                        view! {
                                            <a
                                                class="mt-2 inline-block text-sm font-medium text-indigo-700 underline underline-offset-4"
                                                href=format!("?reply_to={thread}#reply-heading")
                                                data-testid="reply-in-thread"
                                            >
                                                {td_string!(l, ticket.reply_link)}
                                                <span class="sr-only">{td_string!(l, ticket.reply_to_author, author = words::author(l, &reply.author))}</span>
                                            </a>
                                        }
                                    });
                                let edited = reply.edited.then(|| view! { <span>{td_string!(l, ticket.edited)}</span> });
                                view! {
                                    <li class=card data-reply-id=reply.id.clone() data-in-reply-to=reply.in_reply_to.clone().unwrap_or_default()>
                                        {answering}
                                        <div class="flex flex-wrap items-center gap-2 text-xs text-slate-600">
                                            <span class="font-semibold text-slate-900">{words::author(l, &reply.author).to_owned()}</span>
                                            <span>{format!("· {who} ·")}</span>
                                            <When at=reply.created_at.clone() />
                                            {edited}
                                            <DeliveryBadge delivery=reply.delivery.clone() />
                                        </div>
                                        // Sanitised on the server through an allow-list (ammonia).
                                        <div class="reply-body mt-2 space-y-2 break-words text-slate-900" inner_html=reply.body_html.clone()></div>
                                        <FileList ticket_id=ticket_id.clone() files=reply.files.clone() />
                                        {answer}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ol>
                }
                    .into_any()
            }}
        </section>
    }
}

/// A plain form: it posts and comes back to this page, with or without JavaScript.
#[component]
fn ReplyForm(
    ticket_id: String,
    replies: Vec<Reply>,
    reopens: bool,
    limits: UploadLimits,
    /// The last plain form post's message (it names a file, so it came through the session).
    flash: Option<String>,
) -> impl IntoView {
    let query = use_query_map().get_untracked();
    let l = locale();
    // Only a code travels in the URL; the words come from the portal itself.
    let error = query
        .get("error")
        .and_then(|code| {
            words::form_notice(l, &code, query.get("minutes").and_then(|m| m.parse().ok()))
        })
        .or(flash);
    // Answering a team message: in that message's thread (`?reply_to=` from its "Reply" link).
    let thread = query.get("reply_to").filter(|t| {
        replies
            .iter()
            .any(|r| !r.from_client && r.thread.as_deref() == Some(t.as_str()))
    });
    let replying = thread.as_ref().map(|thread| {
        let message = thread_author(&replies, thread).map_or_else(
            || td_string!(l, ticket.a_message).to_owned(),
            |author| td_string!(l, ticket.someones_message, author = author),
        );
        view! {
            <p class="mt-2 rounded-md bg-slate-50 px-3 py-2 text-sm text-slate-700" data-testid="replying-to">
                {td_string!(l, ticket.replying_in_thread, message = message)}
                <a href="?" class="underline underline-offset-4">
                    {td_string!(l, ticket.write_new_instead)}
                </a>
            </p>
        }
    });
    view! {
        <section aria-labelledby="reply-heading" class="rounded-lg bg-white p-5 shadow-sm">
            <h2 id="reply-heading" class="text-lg font-semibold">
                {td_string!(l, ticket.reply_heading)}
            </h2>
            {error
                .map(|message| {
                    view! {
                        <p
                            role="alert"
                            class="mt-2 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800"
                        >
                            {message}
                        </p>
                    }
                })}
            {replying}
            {reopens
                .then(|| {
                    view! {
                        <p class="mt-2 text-sm text-slate-700" data-testid="reply-reopens">
                            {td_string!(l, ticket.reply_reopens)}
                        </p>
                    }
                })}
            <form
                method="post"
                action=message_path(&ticket_id)
                enctype="multipart/form-data"
                class="mt-3 space-y-3"
            >
                {thread.map(|thread| view! { <input type="hidden" name="reply_to" value=thread /> })}
                <label for="reply-body" class="block text-sm font-medium">
                    {td_string!(l, ticket.your_message)}
                </label>
                <textarea
                    id="reply-body"
                    name="body"
                    rows="4"
                    maxlength=REPLY_MAX_CHARS.to_string()
                    class=INPUT
                ></textarea>
                <FilePicker
                    limits
                    words=PickerWords::new(l, limits)
                    id_prefix="reply-".to_owned()
                    stay=false
                />
                <button type="submit" class=PRIMARY_BUTTON>
                    {td_string!(l, ticket.send_reply)}
                </button>
            </form>
        </section>
    }
}
