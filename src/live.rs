//! Live updates in the browser: one WebSocket per tab to `/live`, reconnecting with back-off.
//! Pages add `refresh` to their resources so a change on the board refetches them in place;
//! toasts announce changes, also to screen readers.

use leptos::prelude::*;

use crate::model::LiveEvent;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    Offline,
    Connecting,
    Live,
    Reconnecting,
}

#[derive(Clone, Copy)]
pub struct LiveContext {
    /// Bumped on every change for this portal and after a reconnect.
    pub refresh: RwSignal<u64>,
    /// The latest event, for pages that react to a particular change.
    pub last_event: RwSignal<Option<LiveEvent>>,
    pub connection: RwSignal<Connection>,
    toasts: RwSignal<Vec<(u64, String)>>,
    /// Set by the signed-in frame: only then is a socket worth opening.
    wanted: RwSignal<bool>,
}

impl LiveContext {
    pub fn provide() -> Self {
        let context = Self {
            refresh: RwSignal::new(0),
            last_event: RwSignal::new(None),
            connection: RwSignal::new(Connection::Offline),
            toasts: RwSignal::new(Vec::new()),
            wanted: RwSignal::new(false),
        };
        provide_context(context);
        context
    }

    /// Called by the signed-in frame once it is in the browser.
    pub fn want_connection(&self) {
        if !self.wanted.get_untracked() {
            self.wanted.set(true);
        }
    }

    #[cfg(feature = "hydrate")]
    fn toast(&self, text: String) {
        let mut id = 0;
        self.toasts.update(|t| {
            id = t.iter().map(|(i, _)| i + 1).max().unwrap_or(0);
            t.push((id, text));
            // Keep the stack short.
            if t.len() > 4 {
                t.remove(0);
            }
        });
        let toasts = self.toasts;
        set_timeout(
            move || toasts.update(|t| t.retain(|(i, _)| *i != id)),
            std::time::Duration::from_secs(6),
        );
    }

    #[cfg(feature = "hydrate")]
    fn receive(&self, event: LiveEvent) {
        if event == LiveEvent::Heartbeat {
            return;
        }
        if let Some(text) = event.announcement() {
            self.toast(text);
        }
        self.last_event.set(Some(event));
        self.refresh.update(|n| *n += 1);
    }
}

/// Lives beside the router: keeps the socket across page changes and shows the toasts.
#[component]
pub fn LiveUpdates() -> impl IntoView {
    let Some(context) = use_context::<LiveContext>() else {
        return ().into_any();
    };
    #[cfg(feature = "hydrate")]
    Effect::new(move |started: Option<bool>| {
        let wanted = context.wanted.get();
        if wanted && started != Some(true) {
            socket::connect(context, 0);
            return true;
        }
        started.unwrap_or(false)
    });
    view! {
        <div
            role="status"
            aria-live="polite"
            class="pointer-events-none fixed bottom-4 right-4 z-50 flex w-[min(24rem,calc(100vw-2rem))] flex-col gap-2"
            data-testid="toasts"
        >
            <For each=move || context.toasts.get() key=|(id, _)| *id let((_, text))>
                <div class="pointer-events-auto rounded-lg bg-slate-900 px-4 py-3 text-sm text-white shadow-lg">
                    {text}
                </div>
            </For>
        </div>
    }
    .into_any()
}

/// A small "live" indicator for the header.
#[component]
pub fn LiveIndicator() -> impl IntoView {
    let context = use_context::<LiveContext>();
    Effect::new(move |_| {
        if let Some(context) = context {
            context.want_connection();
        }
    });
    let state = move || {
        context
            .map(|c| c.connection.get())
            .unwrap_or(Connection::Offline)
    };
    let (label, dot) = (
        move || match state() {
            Connection::Live => "Live",
            Connection::Connecting => "Connecting",
            Connection::Reconnecting => "Reconnecting",
            Connection::Offline => "Offline",
        },
        move || match state() {
            Connection::Live => "bg-emerald-400",
            Connection::Connecting | Connection::Reconnecting => "bg-amber-300",
            Connection::Offline => "bg-slate-400",
        },
    );
    view! {
        <span class="inline-flex items-center gap-1 text-xs" data-testid="live-state" data-state=label>
            <span aria-hidden="true" class=move || format!("inline-block h-2 w-2 rounded-full {}", dot())></span>
            {label}
        </span>
    }
}

#[cfg(feature = "hydrate")]
mod socket {
    use std::cell::RefCell;

    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{CloseEvent, MessageEvent, WebSocket};

    use super::{Connection, LiveContext};
    use crate::model::LiveEvent;

    /// The open socket and the callbacks it needs; replaced on every reconnect.
    struct Current {
        socket: WebSocket,
        _on_open: Closure<dyn FnMut()>,
        _on_message: Closure<dyn FnMut(MessageEvent)>,
        _on_close: Closure<dyn FnMut(CloseEvent)>,
    }

    thread_local! {
        static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
    }

    /// 1 s, 2 s, 4 s … up to 30 s, with jitter so a restarted server is not stampeded.
    fn backoff(attempt: u32) -> std::time::Duration {
        let base = 1000.0 * 2f64.powi(attempt.min(5) as i32);
        let jitter = js_sys::Math::random() * 500.0;
        std::time::Duration::from_millis((base.min(30_000.0) + jitter) as u64)
    }

    pub fn connect(context: LiveContext, attempt: u32) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let location = window.location();
        let scheme = if location.protocol().ok().as_deref() == Some("https:") {
            "wss"
        } else {
            "ws"
        };
        let Ok(host) = location.host() else {
            return;
        };
        context.connection.set(if attempt == 0 {
            Connection::Connecting
        } else {
            Connection::Reconnecting
        });
        let Ok(socket) = WebSocket::new(&format!("{scheme}://{host}/live")) else {
            schedule(context, attempt);
            return;
        };
        let opened = std::rc::Rc::new(std::cell::Cell::new(false));
        let opened_here = opened.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || {
            opened_here.set(true);
            context.connection.set(Connection::Live);
            if attempt > 0 {
                // Whatever happened while offline is fetched again.
                context.refresh.update(|n| *n += 1);
            }
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(text) = event.data().as_string()
                && let Ok(event) = serde_json::from_str::<LiveEvent>(&text)
            {
                context.receive(event);
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            // 4401: the session ended. Nothing to reconnect to until the user signs in again.
            if event.code() == 4401 {
                context.connection.set(Connection::Offline);
                return;
            }
            context.connection.set(Connection::Reconnecting);
            // A connection that worked starts the back-off again; one that never opened grows it.
            schedule(context, if opened.get() { 1 } else { attempt + 1 });
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        CURRENT.with(|current| {
            if let Some(old) = current.replace(Some(Current {
                socket,
                _on_open: on_open,
                _on_message: on_message,
                _on_close: on_close,
            })) {
                old.socket.set_onclose(None);
                let _ = old.socket.close();
            }
        });
    }

    fn schedule(context: LiveContext, attempt: u32) {
        set_timeout(move || connect(context, attempt), backoff(attempt));
    }
}
