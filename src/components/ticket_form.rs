//! The new-ticket form, shared by the dashboard's dialog (an island) and `/tickets/new`, and the
//! form styles the pages share. It is a plain form post (files included) that works without
//! JavaScript; with it, the file picker sends it and shows the progress.

use leptos::prelude::*;

use crate::components::attachments::FilePicker;
use crate::i18n::islands::TicketFormWords;
use crate::model::{
    DESCRIPTION_MAX_CHARS, NEW_TICKET_PATH, Priority, TITLE_MAX_CHARS, UploadLimits,
};

pub const INPUT: &str = "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-slate-900 shadow-sm focus:border-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-slate-900";
pub const PRIMARY_BUTTON: &str = "inline-flex items-center justify-center rounded-md bg-slate-900 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-slate-700 disabled:opacity-60 focus:outline-none focus-visible:ring-2 focus-visible:ring-slate-900 focus-visible:ring-offset-2";
/// A compact secondary button, for actions beside a list (follow, add a colleague).
pub const SMALL_BUTTON: &str = "inline-flex items-center justify-center rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-900 hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-slate-900";
/// A button that reads as a link, for small actions inside a list (remove, stop following).
pub const LINK_BUTTON: &str = "text-sm font-medium text-slate-700 underline underline-offset-4 hover:text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-slate-900";
pub const SECONDARY_BUTTON: &str = "inline-flex items-center justify-center rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-semibold text-slate-900 hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-slate-900 focus-visible:ring-offset-2";

/// The new-ticket form: a plain `multipart/form-data` form (it works without JavaScript), with
/// the file picker, which sends it with progress when JavaScript runs.
#[component]
pub fn NewTicketForm(
    limits: UploadLimits,
    /// Its words, in the page's language (it also renders inside the dialog island).
    words: TicketFormWords,
    /// An error from a form posted without JavaScript (shown once).
    #[prop(optional)]
    url_error: Option<String>,
    #[prop(optional, into)] id_prefix: String,
    /// In the dashboard's dialog: stay on the page once saved.
    #[prop(optional)]
    stay: bool,
) -> impl IntoView {
    let id = move |name: &str| format!("{id_prefix}{name}");
    let title_id = id("title");
    let description_id = id("description");
    let priority_id = id("priority");
    let TicketFormWords {
        title,
        description,
        description_hint,
        priority,
        priorities,
        create,
        picker,
        ..
    } = words;
    view! {
        <form
            method="post"
            action=NEW_TICKET_PATH
            enctype="multipart/form-data"
            class="space-y-4"
        >
            {url_error
                .map(|message| {
                    view! {
                        <p
                            role="alert"
                            class="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800"
                        >
                            {message}
                        </p>
                    }
                })}
            <div class="space-y-1">
                <label for=title_id.clone() class="block text-sm font-medium text-slate-900">
                    {title}
                </label>
                <input
                    id=title_id
                    name="title"
                    type="text"
                    required
                    maxlength=TITLE_MAX_CHARS.to_string()
                    autocomplete="off"
                    class=INPUT
                />
            </div>
            <div class="space-y-1">
                <label for=description_id.clone() class="block text-sm font-medium text-slate-900">
                    {description}
                </label>
                <textarea
                    id=description_id
                    name="description"
                    rows="6"
                    maxlength=DESCRIPTION_MAX_CHARS.to_string()
                    aria-describedby=format!("{}-hint", id("description"))
                    class=INPUT
                ></textarea>
                <p id=format!("{}-hint", id("description")) class="text-xs text-slate-600">
                    {description_hint}
                </p>
            </div>
            <div class="space-y-1">
                <label for=priority_id.clone() class="block text-sm font-medium text-slate-900">
                    {priority}
                </label>
                <select id=priority_id name="priority" class=INPUT>
                    {priorities
                        .into_iter()
                        .map(|(p, label)| {
                            view! {
                                <option value=p.as_str() selected=p == Priority::Medium>
                                    {label}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <FilePicker limits words=picker id_prefix=id("") stay />
            <button type="submit" class=PRIMARY_BUTTON>
                {create}
            </button>
        </form>
    }
}

/// The dashboard's "New ticket" button and dialog. Without JavaScript the button is a link to
/// `/tickets/new`; with it, the form opens in place and the list refreshes once it is saved.
#[island]
pub fn NewTicketModal(limits: UploadLimits, words: TicketFormWords) -> impl IntoView {
    let (new_ticket, close) = (words.new_ticket.clone(), words.close.clone());
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    // Once saved (the file picker says so): close, and let the live island show the ticket.
    let saved = move |_: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            if let Some(dialog) = dialog.get() {
                dialog.close();
            }
            crate::live::request_refresh();
        }
    };
    view! {
        <a
            href="/tickets/new"
            class=PRIMARY_BUTTON
            on:click=move |event| {
                if let Some(dialog) = dialog.get() {
                    event.prevent_default();
                    let _ = dialog.show_modal();
                }
            }
        >
            {new_ticket.clone()}
        </a>
        <dialog
            node_ref=dialog
            on:portal:saved=saved
            aria-labelledby="new-ticket-heading"
            class="m-auto w-[min(36rem,calc(100vw-2rem))] rounded-lg p-0 text-start shadow-xl backdrop:bg-slate-900/50"
        >
            <div class="p-6">
                <div class="mb-4 flex items-start justify-between gap-4">
                    <h2 id="new-ticket-heading" class="text-xl font-semibold">
                        {new_ticket}
                    </h2>
                    <button
                        type="button"
                        class="rounded px-2 text-2xl leading-none text-slate-600 hover:text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-slate-900"
                        aria-label=close
                        on:click=move |_| {
                            if let Some(dialog) = dialog.get() {
                                dialog.close();
                            }
                        }
                    >
                        "×"
                    </button>
                </div>
                <NewTicketForm limits words id_prefix="modal-" stay=true />
            </div>
        </dialog>
    }
}
