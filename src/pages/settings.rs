//! `/settings/notifications`: the member's preferences: their language and time zone, and which
//! mails they get about their tickets. Plain forms, so they work without JavaScript; the server
//! sends the browser back here with `saved=…` (the language form always loads the page again,
//! so it shows in the new language).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use leptos::server_fn::ServerFn;

use crate::api::notify::{SaveNotifyPrefs, load_notify_prefs};
use crate::api::preferences::{SaveLanguagePrefs, load_language_prefs};
use crate::api::tickets::load_viewer;
use crate::components::frame::PortalFrame;
use crate::components::problem::Problem;
use crate::components::ticket_form::{INPUT, PRIMARY_BUTTON};
use crate::i18n::{I18nLocaleTrait, Locale, locale, locale_named, native_name, td_string, words};
use crate::model::{LanguagePrefs, NotifyMode, NotifyPrefs};

#[component]
pub fn NotificationSettingsPage() -> impl IntoView {
    let data = Resource::new(
        || (),
        |()| async move {
            Ok::<_, crate::error::AppError>((
                load_viewer().await?,
                load_notify_prefs().await?,
                load_language_prefs().await?,
            ))
        },
    );
    let l = locale();
    view! {
        <Title text=td_string!(l, settings.title) />
        <Suspense fallback=move || view! { <p class="p-8 text-slate-600">{td_string!(l, settings.loading)}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((viewer, prefs, language)) => {
                        view! {
                            <PortalFrame viewer>
                                <div class="mx-auto max-w-2xl">
                                    <h1 class="text-2xl font-bold tracking-tight">{td_string!(l, settings.title)}</h1>
                                    <LanguageForm prefs=language />
                                    <SettingsForm prefs />
                                </div>
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

fn hint(l: Locale, mode: NotifyMode) -> &'static str {
    match mode {
        NotifyMode::All => td_string!(l, settings.hint_all),
        NotifyMode::Replies => td_string!(l, settings.hint_replies),
        NotifyMode::Digest => td_string!(l, settings.hint_digest),
        NotifyMode::None => td_string!(l, settings.hint_none),
    }
}

/// Language and time zone: a plain form (also with JavaScript), so the page comes back in the
/// chosen language.
#[component]
fn LanguageForm(prefs: LanguagePrefs) -> impl IntoView {
    let l = locale();
    let query = use_query_map().get_untracked();
    let saved = query.get("saved").as_deref() == Some("language");
    let url_error = query
        .get("error")
        .filter(|code| code == "invalid_zone" || code == "invalid_language")
        .and_then(|code| words::form_notice(l, &code, None));
    let default_language = match prefs.portal_language.as_deref().and_then(locale_named) {
        Some(portal) => td_string!(
            l,
            settings.language_portal_default,
            language = native_name(portal)
        ),
        None => td_string!(l, settings.language_browser_default).to_owned(),
    };
    let default_zone = match &prefs.browser_zone {
        Some(zone) => td_string!(l, settings.zone_browser_default, zone = zone.clone()),
        None => td_string!(l, settings.zone_browser_unknown).to_owned(),
    };
    let chosen_zone = prefs.zone.clone().unwrap_or_default();
    view! {
        <section aria-labelledby="language-heading" class="mt-6 rounded-lg bg-white p-6 shadow-sm" data-testid="language-prefs">
            <h2 id="language-heading" class="text-lg font-semibold">{td_string!(l, settings.language_heading)}</h2>
            <p class="mt-1 text-sm text-slate-700">{td_string!(l, settings.language_intro)}</p>
            {saved.then(|| view! {
                <p role="status" class="mt-4 rounded-md border border-emerald-300 bg-emerald-50 px-4 py-3 text-sm text-emerald-900">
                    {td_string!(l, settings.saved)}
                </p>
            })}
            {url_error.map(|error| view! {
                <p role="alert" class="mt-4 rounded-md border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-900">{error}</p>
            })}
            <form method="post" action=SaveLanguagePrefs::PATH class="mt-4 grid gap-4 sm:grid-cols-2">
                <div>
                    <label for="language" class="block text-sm font-medium">{td_string!(l, settings.language)}</label>
                    <select id="language" name="language" class=format!("{INPUT} mt-1")>
                        <option value="" selected=prefs.language.is_none()>{default_language}</option>
                        {Locale::get_all()
                            .iter()
                            .map(|&option| {
                                let code = option.as_str();
                                view! {
                                    // Each language named in itself, marked so a screen reader
                                    // reads it in that language.
                                    <option value=code lang=code selected=prefs.language.as_deref() == Some(code)>
                                        {native_name(option)}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
                <div>
                    <label for="zone" class="block text-sm font-medium">{td_string!(l, settings.zone)}</label>
                    <select id="zone" name="zone" aria-describedby="zone-hint" class=format!("{INPUT} mt-1")>
                        <option value="" selected=chosen_zone.is_empty()>{default_zone}</option>
                        {prefs
                            .zones
                            .into_iter()
                            .map(|zone| {
                                let selected = zone == chosen_zone;
                                let value = zone.clone();
                                view! { <option value=value selected=selected>{zone}</option> }
                            })
                            .collect_view()}
                    </select>
                    <p id="zone-hint" class="mt-1 text-xs text-slate-600">{td_string!(l, settings.zone_hint)}</p>
                </div>
                <div>
                    <button type="submit" class=PRIMARY_BUTTON>{td_string!(l, settings.save_language)}</button>
                </div>
            </form>
        </section>
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
    let l = locale();
    let saved = query.get("saved").as_deref() == Some("1");
    let url_error = query
        .get("error")
        .filter(|code| code != "invalid_zone" && code != "invalid_language")
        .and_then(|code| words::form_notice(l, &code, None));
    // After a save with JavaScript, what the server stored.
    let current = move || match save.value().get() {
        Some(Ok(stored)) => Some(stored),
        _ => None,
    };
    let saved_now = move || saved || current().is_some();
    let default_note = prefs.is_default.then(|| {
        view! { <p class="mt-1 text-sm text-slate-600">{td_string!(l, settings.default_note)}</p> }
    });
    view! {
        <section aria-labelledby="notifications-heading" class="mt-8">
            <h2 id="notifications-heading" class="text-lg font-semibold">{td_string!(l, settings.notifications_heading)}</h2>
            <p class="mt-1 text-slate-700">{td_string!(l, settings.notifications_intro)}</p>
            {default_note}
            <Show when=saved_now>
                <p role="status" class="mt-4 rounded-md border border-emerald-300 bg-emerald-50 px-4 py-3 text-sm text-emerald-900">
                    {td_string!(l, settings.saved)}
                </p>
            </Show>
            {url_error.map(|error| view! {
                <p role="alert" class="mt-4 rounded-md border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-900">{error}</p>
            })}
            <ActionForm action=save attr:class="mt-6 rounded-lg bg-white p-6 shadow-sm">
                <fieldset>
                    <legend class="font-semibold">{td_string!(l, settings.mail_me)}</legend>
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
                                        <label for=id class="font-medium">{words::notify_mode(l, mode)}</label>
                                        <p id=hint_id class="text-sm text-slate-600">{hint(l, mode)}</p>
                                    </div>
                                </div>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <fieldset class="mt-6">
                    <legend class="font-semibold">{td_string!(l, settings.digest)}</legend>
                    <div class="mt-3 flex flex-wrap gap-4">
                        <div>
                            <label for="digest_hour" class="block text-sm font-medium">{td_string!(l, settings.send_at)}</label>
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
                            <label for="utc_offset_minutes" class="block text-sm font-medium">{td_string!(l, settings.digest_offset)}</label>
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
                    <p class="mt-2 text-sm text-slate-600">{td_string!(l, settings.digest_offset_hint)}</p>
                </fieldset>
                <button type="submit" class=format!("{PRIMARY_BUTTON} mt-6")>{td_string!(l, settings.save)}</button>
            </ActionForm>
        </section>
    }
}
