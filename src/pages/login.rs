use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn LoginPage() -> impl IntoView {
    let (help_open, set_help_open) = signal(false);
    view! {
        <Title text="Sign in" />
        <main class="mx-auto flex min-h-screen max-w-md flex-col justify-center px-4 py-12">
            <h1 class="text-2xl font-bold tracking-tight">"Sign in to your support portal"</h1>
            <p class="mt-2 text-slate-600">"We will email you a sign-in link."</p>
            <form method="post" action="/login" class="mt-8 space-y-4">
                <div class="space-y-1">
                    <label for="email" class="block text-sm font-medium">"Email address"</label>
                    <input
                        id="email"
                        name="email"
                        type="email"
                        required
                        autocomplete="email"
                        class="block w-full rounded-md border border-slate-300 px-3 py-2 focus:outline-none focus-visible:ring-2 focus-visible:ring-slate-900"
                    />
                </div>
                <button
                    type="submit"
                    class="w-full rounded-md bg-slate-900 px-4 py-2 font-semibold text-white hover:bg-slate-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-offset-2 focus-visible:ring-slate-900"
                >
                    "Email me a link"
                </button>
            </form>
            <button
                type="button"
                aria-expanded=move || help_open.get().to_string()
                aria-controls="sign-in-help"
                class="mt-6 self-start text-sm text-slate-600 underline underline-offset-4 hover:text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-slate-900 rounded"
                on:click=move |_| set_help_open.update(|open| *open = !*open)
            >
                "Trouble signing in?"
            </button>
            <div id="sign-in-help" hidden=move || !help_open.get() class="mt-2 rounded-md bg-white p-4 text-sm text-slate-700 shadow-sm">
                "Links work once and for one hour. If yours has expired, enter your email above for a new one."
            </div>
        </main>
    }
}
