//! `/login`: asking for a sign-in link by email, and the "Continue as …" step a magic link opens
//! (opening a link never spends it; only the button does, so mail scanners cannot).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{ContinueSignIn, RequestSignInLink, check_link, demo_accounts};
use crate::components::ticket_form::{INPUT, PRIMARY_BUTTON};
use crate::i18n::{locale, td_string, words};
use crate::model::{LinkStatus, PortalBrand, text_colour_on};

/// `/login`: the email form for a new link, or the "Continue as …" step of a magic link.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let link = move || {
        let q = query.get();
        match (q.get("portal_id"), q.get("token")) {
            (Some(portal_id), Some(token)) => Some((portal_id, token)),
            _ => None,
        }
    };
    let status = Resource::new(link, |link| async move {
        match link {
            Some((portal_id, token)) => check_link(portal_id, token).await.map(Some),
            None => Ok(None),
        }
    });
    let l = locale();
    view! {
        <Title text=td_string!(l, sign_in.title) />
        <main id="main" class="mx-auto flex min-h-screen max-w-md flex-col justify-center px-4 py-12">
            <Suspense fallback=move || {
                view! { <p class="text-slate-600">{td_string!(l, sign_in.checking)}</p> }
            }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(Some(LinkStatus::Valid { email, portal })) => {
                            view! { <ContinueAs email portal /> }.into_any()
                        }
                        Ok(Some(LinkStatus::Unusable)) => view! { <LinkUnusable /> }.into_any(),
                        // Continuing failed after the page was shown (the link was used meanwhile).
                        Ok(None) if query.get_untracked().get("link").is_some() => {
                            view! { <LinkUnusable /> }.into_any()
                        }
                        Ok(None) | Err(_) => view! { <RequestLink /> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn BrandHeading(portal: PortalBrand) -> impl IntoView {
    let ink = text_colour_on(&portal.colour);
    view! {
        <div
            class="mb-6 flex items-center gap-3 rounded-lg px-4 py-3"
            style=format!("background-color:{};color:{ink}", portal.colour)
        >
            {portal
                .logo_url
                .clone()
                .map(|src| view! { <img src=src alt="" class="h-8 w-8 rounded bg-white object-contain" /> })}
            <p class="font-semibold">{portal.name.clone()}</p>
        </div>
    }
}

#[component]
fn ContinueAs(email: String, portal: PortalBrand) -> impl IntoView {
    // A plain form post: the token is spent only here, never by opening the link.
    let action = ServerAction::<ContinueSignIn>::new();
    let query = use_query_map().get_untracked();
    let token = query.get("token").unwrap_or_default();
    // A rating link from a resolution mail: the ticket page opens with that answer chosen.
    let rate = query
        .get("rate")
        .and_then(|r| crate::model::Rating::parse(&r))
        .map(|r| view! { <input type="hidden" name="rate" value=r.as_str() /> });
    let l = locale();
    view! {
        <Title text=td_string!(l, sign_in.continue_title, portal = portal.name.clone()) />
        <BrandHeading portal=portal.clone() />
        <h1 class="text-2xl font-bold tracking-tight">{td_string!(l, sign_in.welcome_back)}</h1>
        <p class="mt-2 text-slate-700">
            {td_string!(l, sign_in.link_signs_you_in, portal = portal.name.clone())}
        </p>
        <ActionForm action=action attr:class="mt-8">
            <input type="hidden" name="portal_id" value=portal.id.clone() />
            <input type="hidden" name="token" value=token />
            {rate}
            <button type="submit" class=format!("{PRIMARY_BUTTON} w-full")>
                {td_string!(l, sign_in.continue_as, email = email)}
            </button>
        </ActionForm>
        <p class="mt-4 text-sm text-slate-600">
            {td_string!(l, sign_in.not_you)}
        </p>
    }
}

#[component]
fn LinkUnusable() -> impl IntoView {
    let l = locale();
    view! {
        <Title text=td_string!(l, sign_in.expired_title) />
        <section role="alert" class="mb-8 rounded-lg border border-amber-300 bg-amber-50 p-4 text-amber-900">
            <h1 class="text-lg font-semibold">{td_string!(l, sign_in.expired_heading)}</h1>
            <p class="mt-1 text-sm">
                {td_string!(l, sign_in.expired_body)}
            </p>
        </section>
        <RequestLink />
    }
}

#[component]
fn RequestLink() -> impl IntoView {
    // A plain form post: the server answers by sending the browser back here with `sent` (or
    // `error`) in the address, which is what this page shows.
    let action = ServerAction::<RequestSignInLink>::new();
    let query = use_query_map().get_untracked();
    let l = locale();
    // Only codes travel in the URL; the words come from the portal itself.
    let outcome = match (query.get("sent"), query.get("error")) {
        (Some(_), _) => Some(Ok(())),
        (None, Some(code)) => {
            let minutes = query.get("minutes").and_then(|m| m.parse().ok());
            words::form_notice(l, &code, minutes).map(Err)
        }
        _ => None,
    };
    let signed_out = query.get("signed_out").is_some();
    view! {
        {signed_out
            .then(|| {
                view! {
                    <p role="status" class="mb-6 rounded-md bg-slate-100 px-4 py-3 text-sm text-slate-800">
                        {td_string!(l, sign_in.signed_out)}
                    </p>
                }
            })}
        <h1 class="text-2xl font-bold tracking-tight">{td_string!(l, sign_in.heading)}</h1>
        <p class="mt-2 text-slate-700">{td_string!(l, sign_in.intro)}</p>
        {outcome
            .map(|result| match result {
                Ok(()) => {
                    view! {
                        <p
                            role="status"
                            class="mt-6 rounded-md border border-emerald-300 bg-emerald-50 px-4 py-3 text-sm text-emerald-900"
                        >
                            {td_string!(l, sign_in.sent)}
                        </p>
                    }
                        .into_any()
                }
                Err(message) => {
                    view! {
                        <p
                            role="alert"
                            class="mt-6 rounded-md border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-800"
                        >
                            {message}
                        </p>
                    }
                        .into_any()
                }
            })}
        <ActionForm action=action attr:class="mt-8 space-y-4">
            <div class="space-y-1">
                <label for="email" class="block text-sm font-medium">
                    {td_string!(l, sign_in.email_label)}
                </label>
                <input
                    id="email"
                    name="email"
                    type="email"
                    required
                    autocomplete="email"
                    class=INPUT
                />
            </div>
            <button type="submit" class=format!("{PRIMARY_BUTTON} w-full")>
                {td_string!(l, sign_in.send_link)}
            </button>
        </ActionForm>
        <SignInHelp
            question=td_string!(l, sign_in.trouble).to_owned()
            help=td_string!(l, sign_in.trouble_help).to_owned()
        />
        <DemoAccounts />
    }
}

/// "Trouble signing in?": the one interactive piece of the login page. Its words come from
/// the server in the page's language (islands look nothing up).
#[island]
fn SignInHelp(question: String, help: String) -> impl IntoView {
    let (open, set_open) = signal(false);
    view! {
        <button
            type="button"
            aria-expanded=move || open.get().to_string()
            aria-controls="sign-in-help"
            class="mt-6 self-start rounded text-sm text-slate-700 underline underline-offset-4 hover:text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-slate-900"
            on:click=move |_| set_open.update(|open| *open = !*open)
        >
            {question}
        </button>
        <div
            id="sign-in-help"
            hidden=move || !open.get()
            class="mt-2 rounded-md bg-white p-4 text-sm text-slate-700 shadow-sm"
        >
            {help}
        </div>
    }
}

/// Only with the local board: who to sign in as, and where the mail goes.
#[component]
fn DemoAccounts() -> impl IntoView {
    let accounts = Resource::new(|| (), |()| demo_accounts());
    let l = locale();
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let accounts = accounts.await.unwrap_or_default();
                (!accounts.is_empty())
                    .then(|| {
                        view! {
                            <aside
                                aria-labelledby="demo-heading"
                                class="mt-10 rounded-lg border border-dashed border-slate-300 bg-white p-4 text-sm text-slate-700"
                            >
                                <h2 id="demo-heading" class="font-semibold text-slate-900">
                                    {td_string!(l, sign_in.demo_heading)}
                                </h2>
                                <p class="mt-1">
                                    {td_string!(l, sign_in.demo_before_link)}
                                    <a class="underline" href="/local-board/mail" rel="external">
                                        {td_string!(l, sign_in.demo_link)}
                                    </a>
                                    {td_string!(l, sign_in.demo_after_link)}
                                </p>
                                <ul class="mt-2 space-y-1">
                                    {accounts
                                        .into_iter()
                                        .map(|a| {
                                            view! {
                                                <li>
                                                    <code>{a.email}</code>
                                                    {format!(" · {} ({}, {})", a.name, a.portal_name, words::role(l, a.role))}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            </aside>
                        }
                    })
            })}
        </Suspense>
    }
}
