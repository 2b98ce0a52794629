//! `/colleagues`: a portal's admins invite colleagues, change their roles and remove them.
//! Plain forms, so every action works without JavaScript; the server sends the browser back
//! here with what happened (`invited=1`, `saved=1`, `removed=1` or an error code).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::colleagues::{
    ChangeRole, ColleaguesView, InviteColleague, RemoveColleague, load_colleagues,
};
use crate::components::frame::PortalFrame;
use crate::components::problem::Problem;
use crate::components::ticket_form::{INPUT, LINK_BUTTON, PRIMARY_BUTTON, SMALL_BUTTON};
use crate::i18n::{locale, td_string, words};
use crate::model::{Colleague, Role};

#[component]
pub fn ColleaguesPage() -> impl IntoView {
    let data = Resource::new(|| (), |()| load_colleagues());
    let l = locale();
    view! {
        <Title text=td_string!(l, settings.colleagues.title) />
        <Suspense fallback=move || view! { <p class="p-8 text-slate-600">{td_string!(l, settings.loading)}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => view! { <Colleagues view /> }.into_any(),
                    Err(error) => view! { <Problem error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// What the last form did, from the address the server sent the browser to.
fn outcome() -> Option<Result<&'static str, String>> {
    let query = use_query_map().get_untracked();
    let l = locale();
    if let Some(code) = query.get("error") {
        return words::form_notice(l, &code, query.get("minutes").and_then(|m| m.parse().ok()))
            .map(Err);
    }
    [
        ("invited", td_string!(l, settings.colleagues.invited)),
        ("saved", td_string!(l, settings.colleagues.role_saved)),
        ("removed", td_string!(l, settings.colleagues.removed)),
    ]
    .into_iter()
    .find(|(key, _)| query.get(key).is_some())
    .map(|(_, text)| Ok(text))
}

#[component]
fn Colleagues(view: ColleaguesView) -> impl IntoView {
    let ColleaguesView {
        viewer,
        colleagues,
        allowed_domains,
    } = view;
    let me = viewer.email.clone();
    let l = locale();
    let notice = outcome().map(|outcome| match outcome {
        Ok(text) => view! {
            <p role="status" class="mt-4 rounded-md border border-emerald-300 bg-emerald-50 px-4 py-3 text-sm text-emerald-900">
                {text}
            </p>
        }
        .into_any(),
        Err(text) => view! {
            <p role="alert" class="mt-4 rounded-md border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-900">
                {text}
            </p>
        }
        .into_any(),
    });
    let domains_hint = (!allowed_domains.is_empty()).then(|| {
        view! {
            <p class="mt-1 text-sm text-slate-600" data-testid="allowed-domains">
                {td_string!(l, settings.colleagues.domains_only, domains = allowed_domains.join(", "))}
            </p>
        }
    });
    let invite = ServerAction::<InviteColleague>::new();
    let count = colleagues.len();
    view! {
        <PortalFrame viewer>
            <div class="mx-auto max-w-3xl">
                <h1 class="text-2xl font-bold tracking-tight">{td_string!(l, settings.colleagues.title)}</h1>
                <p class="mt-1 text-slate-700">
                    {td_string!(l, settings.colleagues.intro)}
                </p>
                {notice}
                <section aria-labelledby="invite-heading" class="mt-6 rounded-lg bg-white p-6 shadow-sm">
                    <h2 id="invite-heading" class="text-lg font-semibold">{td_string!(l, settings.colleagues.invite_heading)}</h2>
                    {domains_hint}
                    <ActionForm action=invite attr:class="mt-4 grid gap-4 sm:grid-cols-2">
                        <div>
                            <label for="invite-email" class="block text-sm font-medium">{td_string!(l, settings.colleagues.email)}</label>
                            <input id="invite-email" name="email" type="email" required autocomplete="off" class=format!("{INPUT} mt-1") />
                        </div>
                        <div>
                            <label for="invite-name" class="block text-sm font-medium">{td_string!(l, settings.colleagues.name)}</label>
                            <input id="invite-name" name="name" type="text" maxlength="100" autocomplete="off" class=format!("{INPUT} mt-1") />
                        </div>
                        <div>
                            <label for="invite-role" class="block text-sm font-medium">{td_string!(l, settings.colleagues.role)}</label>
                            <RoleSelect id="invite-role".into() current=Role::Member />
                        </div>
                        <div class="flex items-end">
                            <button type="submit" class=PRIMARY_BUTTON>{td_string!(l, settings.colleagues.send_invitation)}</button>
                        </div>
                    </ActionForm>
                </section>
                <section aria-labelledby="people-heading" class="mt-6 rounded-lg bg-white p-6 shadow-sm">
                    <h2 id="people-heading" class="text-lg font-semibold">
                        {td_string!(l, settings.colleagues.people, count = count)}
                    </h2>
                    <ul class="mt-3 divide-y divide-slate-200" data-testid="colleagues">
                        {colleagues
                            .into_iter()
                            .map(|colleague| {
                                let is_me = colleague.email == me;
                                view! { <Person colleague is_me /> }
                            })
                            .collect_view()}
                    </ul>
                </section>
            </div>
        </PortalFrame>
    }
}

#[component]
fn RoleSelect(id: String, current: Role) -> impl IntoView {
    let l = locale();
    view! {
        <select id=id name="role" class=format!("{INPUT} mt-1")>
            {Role::ALL
                .into_iter()
                .map(|role| {
                    view! {
                        <option value=role.as_str() selected=role == current>
                            {td_string!(
                                l,
                                settings.colleagues.role_option,
                                role = words::role(l, role),
                                explained = words::role_explained(l, role)
                            )}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

/// One colleague: who they are, their role, and (for anyone but oneself) forms to change it or
/// remove them.
#[component]
fn Person(colleague: Colleague, is_me: bool) -> impl IntoView {
    let name = colleague.shown_name().to_owned();
    let l = locale();
    let manage = (!is_me).then(|| {
        let change = ServerAction::<ChangeRole>::new();
        let remove = ServerAction::<RemoveColleague>::new();
        let select_id = format!("role-{}", colleague.email);
        let (email, also_email) = (colleague.email.clone(), colleague.email.clone());
        let role_label = td_string!(l, settings.colleagues.role_of, name = name.clone());
        let change_label = td_string!(l, settings.colleagues.of_name, name = name.clone());
        let remove_label = format!(" {name}");
        let current = colleague.role;
        view! {
            <div class="flex flex-wrap items-end gap-3">
                <ActionForm action=change attr:class="flex flex-wrap items-end gap-2">
                    <input type="hidden" name="email" value=email />
                    <div>
                        <label for=select_id.clone() class="sr-only">{role_label}</label>
                        <RoleSelect id=select_id current />
                    </div>
                    <button type="submit" class=SMALL_BUTTON>
                        {td_string!(l, settings.colleagues.change_role)}
                        <span class="sr-only">{change_label}</span>
                    </button>
                </ActionForm>
                <ActionForm action=remove>
                    <input type="hidden" name="email" value=also_email />
                    <button type="submit" class=LINK_BUTTON>
                        {td_string!(l, settings.colleagues.remove)}
                        <span class="sr-only">{remove_label}</span>
                    </button>
                </ActionForm>
            </div>
        }
    });
    view! {
        <li class="flex flex-wrap items-center justify-between gap-3 py-3" data-colleague=colleague.email.clone() data-role=colleague.role.as_str()>
            <div class="min-w-0">
                <p class="font-medium break-all">
                    {name}
                    {is_me.then(|| view! { <span class="text-slate-600">{td_string!(l, settings.colleagues.you)}</span> })}
                </p>
                <p class="text-sm text-slate-600 break-all">
                    {format!("{} · {}", colleague.email, words::role(l, colleague.role))}
                </p>
            </div>
            {manage}
        </li>
    }
}
