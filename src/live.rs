//! Live updates in the browser, as an island: one WebSocket per tab to `/live`, reconnecting
//! with back-off. A toast announces each change, also to screen readers. An open dashboard
//! applies a change to a ticket in place (the message carries the ticket's row and the counts,
//! rendered once on the server); any other change fetches the page again and swaps its
//! `#live-region` (list, counts, status, conversation).
//!
//! Pages mark the part that may change with `id="live-region"`; forms being typed into stay
//! outside it. A ticket's page names its ticket (`data-ticket-id`): changes to other tickets
//! only show a toast there, and cost no page load. `data-waiting="true"` on the region means something the client sent has not
//! reached monday yet, so the island looks again every few seconds even without events.

use leptos::prelude::*;

use crate::i18n::islands::LiveWords;

/// The id of the element the island refreshes.
pub const LIVE_REGION: &str = "live-region";
/// The window event that asks the island to refresh the page now (after a form in another
/// island saved something).
pub const REFRESH_EVENT: &str = "portal:refresh";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Live,
    Reconnecting,
    Offline,
}

impl Connection {
    /// The state as tests and styles read it (`data-state`), in no language.
    fn as_str(self) -> &'static str {
        match self {
            Connection::Live => "Live",
            Connection::Connecting => "Connecting",
            Connection::Reconnecting => "Reconnecting",
            Connection::Offline => "Offline",
        }
    }

    fn label(self, words: &LiveWords) -> String {
        match self {
            Connection::Live => words.live.clone(),
            Connection::Connecting => words.connecting.clone(),
            Connection::Reconnecting => words.reconnecting.clone(),
            Connection::Offline => words.offline.clone(),
        }
    }

    fn dot(self) -> &'static str {
        match self {
            Connection::Live => "bg-emerald-400",
            Connection::Connecting | Connection::Reconnecting => "bg-amber-300",
            Connection::Offline => "bg-slate-400",
        }
    }
}

/// The connection indicator for the header and the toast stack. `words` are the page's
/// language's; `zone` is the time zone the page was rendered in, and `zone_chosen` whether the
/// member chose it (otherwise the island tells the server the browser's zone, through the `tz`
/// cookie, and reloads the page's times when it differs).
#[island]
pub fn LiveUpdates(words: LiveWords, zone: String, zone_chosen: bool) -> impl IntoView {
    let connection = RwSignal::new(Connection::Connecting);
    let toasts = RwSignal::new(Vec::<(u64, String)>::new());
    let words = StoredValue::new(words);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        client::start(connection, toasts, words);
        client::share_browser_zone(&zone, zone_chosen);
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (zone, zone_chosen);
    view! {
        <span
            class="inline-flex items-center gap-1 text-xs"
            data-testid="live-state"
            data-state=move || connection.get().as_str()
        >
            <span
                aria-hidden="true"
                class=move || format!("inline-block h-2 w-2 rounded-full {}", connection.get().dot())
            ></span>
            {move || words.with_value(|words| connection.get().label(words))}
        </span>
        <div
            role="status"
            aria-live="polite"
            class="pointer-events-none fixed bottom-4 end-4 z-50 flex w-[min(24rem,calc(100vw-2rem))] flex-col gap-2 text-start"
            data-testid="toasts"
        >
            <For each=move || toasts.get() key=|(id, _)| *id let((_, text))>
                <div class="pointer-events-auto rounded-lg bg-slate-900 px-4 py-3 text-sm text-white shadow-lg">
                    {text}
                </div>
            </For>
        </div>
    }
}

/// Asks the live island to refresh the page's live region now.
#[cfg(feature = "hydrate")]
pub fn request_refresh() {
    if let Some(window) = web_sys::window()
        && let Ok(event) = web_sys::Event::new(REFRESH_EVENT)
    {
        let _ = window.dispatch_event(&event);
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{CloseEvent, DomParser, MessageEvent, SupportedType, WebSocket};

    use super::{Connection, LIVE_REGION, REFRESH_EVENT};
    use crate::i18n::islands::{LiveWords, fill};
    use crate::model::{
        DashboardUpdate, ListShape, LiveEvent, LiveMessage, PAGE_SIZE, Status, StatusCounts,
        TicketQuery, dashboard_update,
    };

    #[derive(Clone, Copy)]
    struct Handles {
        connection: RwSignal<Connection>,
        toasts: RwSignal<Vec<(u64, String)>>,
    }

    /// The open socket and the callbacks it needs; replaced on every reconnect.
    struct Current {
        socket: WebSocket,
        _on_open: Closure<dyn FnMut()>,
        _on_message: Closure<dyn FnMut(MessageEvent)>,
        _on_close: Closure<dyn FnMut(CloseEvent)>,
    }

    thread_local! {
        static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
        static REFRESHING: Cell<bool> = const { Cell::new(false) };
        static AGAIN: Cell<bool> = const { Cell::new(false) };
        /// The page's words (the island's props), for toasts and the count.
        static WORDS: RefCell<Option<LiveWords>> = const { RefCell::new(None) };
    }

    pub fn start(
        connection: RwSignal<Connection>,
        toasts: RwSignal<Vec<(u64, String)>>,
        words: StoredValue<LiveWords>,
    ) {
        WORDS.with(|w| *w.borrow_mut() = Some(words.get_value()));
        let handles = Handles { connection, toasts };
        connect(handles, 0);
        if let Some(window) = web_sys::window() {
            let on_refresh = Closure::<dyn FnMut()>::new(refresh);
            let _ = window.add_event_listener_with_callback(
                REFRESH_EVENT,
                on_refresh.as_ref().unchecked_ref(),
            );
            // Lives as long as the page.
            on_refresh.forget();
        }
        poll_while_waiting();
    }

    /// This page's live region, if it has one.
    fn live_region() -> Option<web_sys::Element> {
        web_sys::window()?
            .document()?
            .get_element_by_id(LIVE_REGION)
    }

    /// While something the client sent is on its way to monday, look again every 3 s.
    fn poll_while_waiting() {
        set_timeout(
            || {
                let waiting = live_region()
                    .and_then(|region| region.get_attribute("data-waiting"))
                    .is_some_and(|w| w == "true");
                if waiting {
                    refresh();
                }
                poll_while_waiting();
            },
            std::time::Duration::from_secs(3),
        );
    }

    fn toast(handles: Handles, text: String) {
        let mut id = 0;
        handles.toasts.update(|t| {
            id = t.iter().map(|(i, _)| i + 1).max().unwrap_or(0);
            t.push((id, text));
            if t.len() > 4 {
                t.remove(0);
            }
        });
        let toasts = handles.toasts;
        set_timeout(
            move || toasts.update(|t| t.retain(|(i, _)| *i != id)),
            std::time::Duration::from_secs(6),
        );
    }

    fn receive(handles: Handles, message: LiveMessage) {
        let event = &message.event;
        if *event == LiveEvent::Heartbeat {
            return;
        }
        if let Some(text) = WORDS.with(|w| w.borrow().as_ref().and_then(|w| w.announce(event))) {
            toast(handles, text);
        }
        let Some(region) = live_region() else {
            return;
        };
        if let Some(shown) = region.get_attribute("data-ticket-id") {
            if event.concerns(&shown) {
                refresh();
            }
            return;
        }
        if region.get_attribute("data-view").as_deref() == Some("dashboard") {
            follow_on_dashboard(&region, &message);
            return;
        }
        refresh();
    }

    /// Applies a change to an open dashboard in place when that is certainly what a reload
    /// would show ([`dashboard_update`]), and reloads its live region otherwise.
    fn follow_on_dashboard(region: &web_sys::Element, message: &LiveMessage) {
        let search = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .unwrap_or_default();
        let params = web_sys::UrlSearchParams::new_with_str(&search).ok();
        let query = TicketQuery::from_params(|key| params.as_ref().and_then(|p| p.get(key)));
        let row = message.row.as_ref();
        // The ticket whose row this message is about: changed, new, or removed.
        let ticket_id = match (&message.event, row) {
            (LiveEvent::Removed { ticket_id, .. }, _) => Some(ticket_id.as_str()),
            (_, Some(row)) => Some(row.ticket_id.as_str()),
            _ => None,
        };
        let shown_row = ticket_id.and_then(|id| {
            region
                .query_selector(&format!("li[data-ticket-id=\"{id}\"]"))
                .ok()
                .flatten()
        });
        let waiting = region.get_attribute("data-waiting").as_deref() == Some("true")
            || region
                .query_selector("[data-testid=saved-data]")
                .ok()
                .flatten()
                .is_some();
        let list = region
            .query_selector("[data-testid=ticket-list]")
            .ok()
            .flatten();
        let shape = list.as_ref().and_then(list_shape);
        match (
            dashboard_update(message, &query, shown_row.is_some(), waiting, shape),
            row,
        ) {
            (DashboardUpdate::ReplaceRow, Some(row)) => {
                if let Some(element) = shown_row {
                    element.set_outer_html(&row.html);
                }
                set_counts(region, &row.counts);
            }
            (DashboardUpdate::InsertRow, Some(row)) => {
                if let (Some(list), Some(shape)) = (list, shape) {
                    insert_row(region, &list, shape, &row.html);
                }
                set_counts(region, &row.counts);
            }
            (DashboardUpdate::RemoveRow, _) => {
                if let (Some(list), Some(shape), Some(gone), Some(counts)) =
                    (list, shape, shown_row, &message.remaining)
                {
                    gone.remove();
                    set_matching(region, &list, shape.matching.saturating_sub(1));
                    set_counts(region, counts);
                }
            }
            (DashboardUpdate::CountsOnly, Some(row)) => set_counts(region, &row.counts),
            _ => refresh(),
        }
    }

    /// The list's page, pages and matching tickets, from its `data-` attributes.
    fn list_shape(list: &web_sys::Element) -> Option<ListShape> {
        let number = |name: &str| list.get_attribute(name)?.parse::<usize>().ok();
        Some(ListShape {
            page: u32::try_from(number("data-page")?).ok()?,
            pages: u32::try_from(number("data-pages")?).ok()?,
            matching: number("data-matching")?,
        })
    }

    /// A new ticket's row at the top of the first page; a full page's last row moves on to
    /// the next page (which [`dashboard_update`] made sure exists).
    fn insert_row(
        region: &web_sys::Element,
        list: &web_sys::Element,
        shape: ListShape,
        html: &str,
    ) {
        if list.insert_adjacent_html("afterbegin", html).is_err() {
            return refresh();
        }
        while list.child_element_count() as usize > PAGE_SIZE {
            if let Some(last) = list.last_element_child() {
                last.remove();
            }
        }
        set_matching(region, list, shape.matching + 1);
    }

    /// The number of matching tickets, in the list's attribute and the label above it.
    fn set_matching(region: &web_sys::Element, list: &web_sys::Element, matching: usize) {
        let _ = list.set_attribute("data-matching", &matching.to_string());
        if let Ok(Some(label)) = region.query_selector("[data-matching-label]") {
            label.set_text_content(Some(&tickets_label(matching)));
        }
    }

    /// "12 tickets" in the page's language: the browser's plural rules choose the form.
    fn tickets_label(count: usize) -> String {
        WORDS.with(|words| {
            let words = words.borrow();
            let Some(plural) = words.as_ref().map(|w| &w.tickets) else {
                return count.to_string();
            };
            let rules = js_sys::Intl::PluralRules::new(
                &js_sys::Array::of1(&plural.lang.as_str().into()),
                &js_sys::Object::new(),
            );
            let category: String = rules.select(count as f64).into();
            plural.form(&category).map_or_else(
                || count.to_string(),
                |form| fill(form, &[("count", &count.to_string())]),
            )
        })
    }

    /// Tells the server the browser's time zone (the `tz` cookie), so dates show in it until the
    /// member chooses one; when the page was rendered in another zone, its times are loaded again.
    pub fn share_browser_zone(rendered_zone: &str, zone_chosen: bool) {
        let options =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
                .resolved_options();
        let Some(zone) = js_sys::Reflect::get(&options, &"timeZone".into())
            .ok()
            .and_then(|zone| zone.as_string())
        else {
            return;
        };
        let Some(document) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok())
        else {
            return;
        };
        // A year, for every page of this site; zone names hold only letters, digits, `/_+-`.
        let _ = document.set_cookie(&format!(
            "tz={}; path=/; max-age=31536000; samesite=lax",
            zone.replace(
                |c: char| !(c.is_ascii_alphanumeric() || "/_+-".contains(c)),
                ""
            )
        ));
        if !zone_chosen && zone != rendered_zone {
            refresh();
        }
    }

    fn set_counts(region: &web_sys::Element, counts: &StatusCounts) {
        let Ok(chips) = region.query_selector_all("[data-count]") else {
            return;
        };
        for n in 0..chips.length() {
            let Some(chip) = chips
                .item(n)
                .and_then(|c| c.dyn_into::<web_sys::Element>().ok())
            else {
                continue;
            };
            let key = chip.get_attribute("data-count").unwrap_or_default();
            let status = if key == "all" {
                None
            } else {
                match Status::parse(&key) {
                    Some(status) => Some(status),
                    None => continue,
                }
            };
            chip.set_text_content(Some(&counts.get(status).to_string()));
        }
    }

    /// Fetches this page again and swaps in its live region. One at a time; a change that
    /// arrives meanwhile runs one more refresh afterwards.
    pub fn refresh() {
        if REFRESHING.with(|r| r.replace(true)) {
            AGAIN.with(|a| a.set(true));
            return;
        }
        leptos::task::spawn_local(async {
            loop {
                if let Err(error) = swap_live_region().await {
                    leptos::logging::warn!("live refresh failed: {error:?}");
                }
                if !AGAIN.with(|a| a.replace(false)) {
                    break;
                }
            }
            REFRESHING.with(|r| r.set(false));
        });
    }

    async fn swap_live_region() -> Result<(), wasm_bindgen::JsValue> {
        let window = web_sys::window().ok_or("no window")?;
        let document = window.document().ok_or("no document")?;
        let Some(current) = document.get_element_by_id(LIVE_REGION) else {
            return Ok(());
        };
        let href = window.location().href()?;
        let response: web_sys::Response = JsFuture::from(window.fetch_with_str(&href))
            .await?
            .dyn_into()?;
        if !response.ok() || response.redirected() {
            return Ok(());
        }
        let text = JsFuture::from(response.text()?)
            .await?
            .as_string()
            .unwrap_or_default();
        let fresh = DomParser::new()?
            .parse_from_string(&text, SupportedType::TextHtml)?
            .get_element_by_id(LIVE_REGION);
        if let Some(fresh) = fresh {
            current.set_inner_html(&fresh.inner_html());
            let waiting = fresh.get_attribute("data-waiting").unwrap_or_default();
            current.set_attribute("data-waiting", &waiting)?;
        }
        Ok(())
    }

    /// 1 s, 2 s, 4 s … up to 30 s, with jitter so a restarted server is not stampeded.
    fn backoff(attempt: u32) -> std::time::Duration {
        let base = 1000.0 * 2f64.powi(attempt.min(5) as i32);
        let jitter = js_sys::Math::random() * 500.0;
        std::time::Duration::from_millis((base.min(30_000.0) + jitter) as u64)
    }

    fn connect(handles: Handles, attempt: u32) {
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
        if attempt > 0 {
            handles.connection.set(Connection::Reconnecting);
        }
        let Ok(socket) = WebSocket::new(&format!("{scheme}://{host}/live")) else {
            schedule(handles, attempt + 1);
            return;
        };
        let opened = Rc::new(Cell::new(false));
        let opened_here = opened.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || {
            opened_here.set(true);
            handles.connection.set(Connection::Live);
            if attempt > 0 {
                // Whatever happened while offline is fetched again.
                refresh();
            }
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(text) = event.data().as_string()
                && let Ok(message) = serde_json::from_str::<LiveMessage>(&text)
            {
                receive(handles, message);
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            // 4401: the session ended. Nothing to reconnect to until the user signs in again.
            if event.code() == 4401 {
                handles.connection.set(Connection::Offline);
                return;
            }
            handles.connection.set(Connection::Reconnecting);
            // A connection that worked starts the back-off again; one that never opened grows it.
            schedule(handles, if opened.get() { 1 } else { attempt + 1 });
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

    fn schedule(handles: Handles, attempt: u32) {
        set_timeout(move || connect(handles, attempt), backoff(attempt));
    }
}
