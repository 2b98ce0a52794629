//! `/settings/notifications`: which mails the member gets about their tickets. A plain form, so
//! it works without JavaScript; the server sends the browser back here with `saved=1`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::notify::{SaveNotifyPrefs, load_notify_prefs};
use crate::api::tickets::load_viewer;
use crate::components::frame::PortalFrame;
use crate::components::problem::Problem;
use crate::components::ticket_form::PRIMARY_BUTTON;
use crate::model::{NotifyMode, NotifyPrefs, form_notice};

#[component]
pub fn NotificationSettingsPage() -> impl IntoView {
    let data = Resource::new(
        || (),
        |()| async move {
            Ok::<_, crate::error::AppError>((load_viewer().await?, load_notify_prefs().await?))
        },
    );
    view! {
        <Title text="Notification settings" />
        <Suspense fallback=|| view! { <p class="p-8 text-slate-600">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((viewer, prefs)) => {
                        view! {
                            <PortalFrame viewer>
                                <SettingsForm prefs />
                            </PortalFrame>
                        }
                            .into_any()
                    }
                    Err(error) => view! { <Problem error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn hint(mode: NotifyMode) -> &'static str {
    match mode {
        NotifyMode::All => {
            "A mail when the team replies, the status changes, a new ticket reaches the team, or something could not be sent. Changes close together come as one mail."
        }
        NotifyMode::Replies => {
            "A mail when the team replies, when a ticket is resolved or closed, and when something could not be sent."
        }
        NotifyMode::Digest => {
            "One mail a day with everything that happened, at the hour you choose below."
        }
        NotifyMode::None => "No mails about tickets. Sign-in links still come by mail.",
    }
}

fn offset_label(minutes: i64) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let minutes = minutes.abs();
    format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// UTC offsets people live at, in minutes.
const OFFSETS: &[i64] = &[
    -720, -660, -600, -570, -540, -480, -420, -360, -300, -240, -210, -180, -120, -60, 0, 60, 120,
    180, 210, 240, 270, 300, 330, 345, 360, 390, 420, 480, 525, 540, 570, 600, 630, 660, 720, 765,
    780, 840,
];

#[component]
fn SettingsForm(prefs: NotifyPrefs) -> impl IntoView {
    let save = ServerAction::<SaveNotifyPrefs>::new();
    let query = use_query_map().get_untracked();
    let saved = query.get("saved").is_some();
    let url_error = query.get("error").and_then(|code| form_notice(&code, None));
    // After a save with JavaScript, what the server stored.
    let current = move || match save.value().get() {
        Some(Ok(stored)) => Some(stored),
        _ => None,
    };
    let saved_now = move || saved || current().is_some();
    let default_note = prefs.is_default.then(|| {
        view! { <p class="mt-1 text-sm text-slate-600">"You have not chosen yet: this is your portal's default."</p> }
    });
    view! {
        <div class="mx-auto max-w-2xl">
            <h1 class="text-2xl font-bold tracking-tight">"Notification settings"</h1>
            <p class="mt-1 text-slate-700">"Which mails you get about your tickets. Each mail has a link that opens the ticket."</p>
            {default_note}
            <Show when=saved_now>
                <p role="status" class="mt-4 rounded-md border border-emerald-300 bg-emerald-50 px-4 py-3 text-sm text-emerald-900">
                    "Saved."
                </p>
            </Show>
            {url_error.map(|error| view! {
                <p role="alert" class="mt-4 rounded-md border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-900">{error}</p>
            })}
            <ActionForm action=save attr:class="mt-6 rounded-lg bg-white p-6 shadow-sm">
                <fieldset>
                    <legend class="font-semibold">"Mail me"</legend>
                    {NotifyMode::ALL
                        .into_iter()
                        .map(|mode| {
                            let id = format!("mode-{}", mode.as_str());
                            let hint_id = format!("{id}-hint");
                            view! {
                                <div class="mt-3 flex gap-3">
                                    <input
                                        type="radio"
                                        name="mode"
                                        id=id.clone()
                                        value=mode.as_str()
                                        checked=prefs.mode == mode
                                        aria-describedby=hint_id.clone()
                                        class="mt-1"
                                    />
                                    <div>
                                        <label for=id class="font-medium">{mode.label()}</label>
                                        <p id=hint_id class="text-sm text-slate-600">{hint(mode)}</p>
                                    </div>
                                </div>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <fieldset class="mt-6">
                    <legend class="font-semibold">"Daily digest"</legend>
                    <div class="mt-3 flex flex-wrap gap-4">
                        <div>
                            <label for="digest_hour" class="block text-sm font-medium">"Send it at"</label>
                            <select id="digest_hour" name="digest_hour" class="mt-1 rounded-md border border-slate-400 px-3 py-2">
                                {(0..24)
                                    .map(|hour: i64| {
                                        view! {
                                            <option value=hour.to_string() selected=prefs.digest_hour == hour>
                                                {format!("{hour:02}:00")}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                        </div>
                        <div>
                            <label for="utc_offset_minutes" class="block text-sm font-medium">"Your time zone"</label>
                            <select id="utc_offset_minutes" name="utc_offset_minutes" class="mt-1 rounded-md border border-slate-400 px-3 py-2">
                                {OFFSETS
                                    .iter()
                                    .map(|&offset| {
                                        view! {
                                            <option value=offset.to_string() selected=prefs.utc_offset_minutes == offset>
                                                {offset_label(offset)}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                        </div>
                    </div>
                    <p class="mt-2 text-sm text-slate-600">"Summer time does not move the digest: pick the offset you are at now."</p>
                </fieldset>
                <button type="submit" class=format!("{PRIMARY_BUTTON} mt-6")>"Save"</button>
            </ActionForm>
        </div>
    }
}
