//! Files on the ticket page, and the file picker of the new-ticket and message forms.
//!
//! The picker is a plain `<input type="file" multiple>` inside a `multipart/form-data` form, so
//! it works without JavaScript. The island adds what a help desk is expected to have: pasting a
//! screenshot, dropping files, a list with sizes and image previews, limits checked before
//! anything is sent, and the form sent with a progress bar per file.

use leptos::prelude::*;

use crate::i18n::islands::{PickerWords, fill};
use crate::i18n::{locale, td_string};
use crate::model::{Delivery, FileRef, UploadLimits, size_written};

/// The files of a message or ticket: thumbnails for images, a download link for every file,
/// and, for the client's own, where each is on its way to the team.
#[component]
pub fn FileList(ticket_id: String, files: Vec<FileRef>) -> impl IntoView {
    if files.is_empty() {
        return None;
    }
    let l = locale();
    let items = files
        .into_iter()
        .map(|file| {
            let url = file.url(&ticket_id);
            let size = crate::i18n::islands::size(l, file.size);
            // monday's own words for a refusal on hover: they are not the portal's to translate.
            let state = match &file.delivery {
                Delivery::Delivered => None,
                Delivery::Waiting { .. } => Some((
                    td_string!(l, common.delivery.sending),
                    "text-amber-800",
                    None,
                )),
                Delivery::Failed { reason } => Some((
                    td_string!(l, common.delivery.failed),
                    "text-red-800",
                    Some(reason.clone()),
                )),
            };
            let label = td_string!(l, ticket.download, name = file.name.clone(), size = size.clone());
            view! {
                <li class="flex items-center gap-3 rounded-md border border-slate-200 bg-white p-2" data-testid="file">
                    {file
                        .image
                        .then(|| {
                            view! {
                                <a href=url.clone() class="shrink-0" tabindex="-1" aria-hidden="true">
                                    <img
                                        src=url.clone()
                                        alt=""
                                        loading="lazy"
                                        class="h-14 w-14 rounded object-cover"
                                    />
                                </a>
                            }
                        })}
                    <div class="min-w-0">
                        <a
                            href=url
                            class="block truncate text-sm font-medium text-slate-900 underline underline-offset-4"
                            aria-label=label
                            download=file.name.clone()
                        >
                            {file.name.clone()}
                        </a>
                        <p class="text-xs text-slate-600">
                            {size}
                            {state
                                .map(|(text, class, reason)| {
                                    view! {
                                        " · "
                                        <span class=class title=reason data-testid="file-state">
                                            {text}
                                        </span>
                                    }
                                })}
                        </p>
                    </div>
                </li>
            }
        })
        .collect_view();
    Some(
        view! { <ul class="mt-3 grid gap-2 sm:grid-cols-2" aria-label=td_string!(l, ticket.files)>{items}</ul> },
    )
}

/// A file chosen in the browser, before it is sent.
#[derive(Clone, Debug, PartialEq)]
struct Chosen {
    name: String,
    size: u64,
    /// An object URL for an image's preview.
    preview: Option<String>,
}

/// The file picker of a form. `stay`: after sending, stay on the page (the dashboard's
/// dialog) and tell it with a `portal:saved` event; otherwise go where the server says.
#[island]
pub fn FilePicker(
    limits: UploadLimits,
    words: PickerWords,
    id_prefix: String,
    stay: bool,
) -> impl IntoView {
    let words = StoredValue::new(words);
    let input = NodeRef::<leptos::html::Input>::new();
    let chosen = RwSignal::new(Vec::<Chosen>::new());
    // While sending: how much of each file has gone (0.0 to 1.0).
    let progress = RwSignal::new(None::<Vec<f64>>);
    let problem = RwSignal::new(None::<String>);
    let dragging = RwSignal::new(false);
    let input_id = format!("{id_prefix}files");
    let hint_id = format!("{id_prefix}files-hint");
    // How the list removes a file, set once the island is wired to its form. Browser-only: a
    // thread-local value must not be made during server rendering, which moves between threads.
    #[cfg(feature = "hydrate")]
    let remover = StoredValue::new_local(None::<std::rc::Rc<dyn Fn(usize)>>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(input) = input.get() {
            let signals = client::Signals {
                chosen,
                progress,
                problem,
                dragging,
            };
            remover.set_value(Some(client::wire(
                input,
                signals,
                limits,
                words.get_value(),
                stay,
            )));
        }
    });
    #[cfg(feature = "hydrate")]
    let remove = move |index: usize| {
        if let Some(remove) = remover.get_value() {
            remove(index);
        }
    };
    // On the server the list is empty: there is nothing to remove.
    #[cfg(not(feature = "hydrate"))]
    let remove = move |_: usize| {
        let _ = (stay, limits);
    };
    let PickerWords {
        attach,
        hint,
        files_to_send,
        ..
    } = words.get_value();
    view! {
        <div
            class=move || {
                if dragging.get() {
                    "space-y-2 rounded-md border-2 border-dashed border-slate-900 bg-slate-50 p-3"
                } else {
                    "space-y-2 rounded-md border-2 border-dashed border-slate-300 p-3"
                }
            }
            data-testid="file-picker"
        >
            <label for=input_id.clone() class="block text-sm font-medium text-slate-900">
                {attach}
            </label>
            <input
                node_ref=input
                id=input_id
                name="files"
                type="file"
                multiple
                aria-describedby=hint_id.clone()
                class="block w-full text-sm text-slate-700 file:me-3 file:rounded-md file:border file:border-slate-300 file:bg-white file:px-3 file:py-1.5 file:text-sm file:font-medium file:text-slate-900 hover:file:bg-slate-50"
            />
            <p id=hint_id class="text-xs text-slate-600">
                {hint}
            </p>
            {move || {
                problem
                    .get()
                    .map(|message| {
                        view! {
                            <p
                                role="alert"
                                class="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800"
                                data-testid="file-problem"
                            >
                                {message}
                            </p>
                        }
                    })
            }}
            <ul class="space-y-2" aria-label=files_to_send aria-live="polite">
                // Nothing is chosen when the page is rendered: the keyed list exists only in
                // the browser, once there is something to list.
                {move || {
                    (!chosen.with(Vec::is_empty))
                        .then(|| {
                            view! {
                                <For
                                    each=move || chosen.get().into_iter().enumerate()
                                    key=|(index, file)| (*index, file.name.clone(), file.size)
                                    children=move |(index, file)| {
                                        let sent = move || {
                                            progress.get().and_then(|p| p.get(index).copied())
                                        };
                                        let words = words.get_value();
                                        let uploading = fill(&words.uploading, &[("name", &file.name)]);
                                        let preview_label = fill(&words.preview_of, &[("name", &file.name)]);
                                        view! {
                                            <li class="flex items-center gap-3 rounded-md bg-white p-2 shadow-sm" data-testid="chosen-file">
                                                {file
                                                    .preview
                                                    .clone()
                                                    .map(|src| {
                                                        view! {
                                                            <img src=src alt=preview_label.clone() class="h-12 w-12 rounded object-cover" data-testid="preview" />
                                                        }
                                                    })}
                                                <div class="min-w-0 flex-1">
                                                    <p class="truncate text-sm font-medium">{file.name.clone()}</p>
                                                    <p class="text-xs text-slate-600">{size_written(file.size, &words.decimal, &words.units)}</p>
                                                    {move || {
                                                        sent()
                                                            .map(|done| {
                                                                let percent = (done * 100.0).round() as u32;
                                                                view! {
                                                                    <progress
                                                                        class="mt-1 h-2 w-full"
                                                                        max="100"
                                                                        value=percent.to_string()
                                                                        aria-label=uploading.clone()
                                                                        data-testid="upload-progress"
                                                                    ></progress>
                                                                }
                                                            })
                                                    }}
                                                </div>
                                                <button
                                                    type="button"
                                                    class="text-sm font-medium text-slate-700 underline underline-offset-4"
                                                    disabled=move || progress.get().is_some()
                                                    on:click=move |_| remove(index)
                                                >
                                                    {words.remove.clone()}
                                                    <span class="sr-only">{format!(" {}", file.name)}</span>
                                                </button>
                                            </li>
                                        }
                                    }
                                />
                            }
                        })
                }}
            </ul>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use std::cell::RefCell;
    use std::rc::Rc;

    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{
        ClipboardEvent, DataTransfer, DragEvent, Event, File, FormData, HtmlButtonElement,
        HtmlFormElement, HtmlInputElement, ProgressEvent, Url, XmlHttpRequest,
    };

    use super::Chosen;
    use crate::i18n::islands::{PickerWords, fill};
    use crate::model::UploadLimits;

    #[derive(Clone, Copy)]
    pub struct Signals {
        pub chosen: RwSignal<Vec<Chosen>>,
        pub progress: RwSignal<Option<Vec<f64>>>,
        pub problem: RwSignal<Option<String>>,
        pub dragging: RwSignal<bool>,
    }

    /// The files of the form, in the order they were chosen.
    struct Picked {
        input: HtmlInputElement,
        files: Vec<File>,
        previews: Vec<Option<String>>,
        signals: Signals,
        limits: UploadLimits,
        words: PickerWords,
    }

    impl Picked {
        /// Adds `new` files, each checked against the limits first (a refused one is named).
        fn add(&mut self, new: Vec<File>) {
            self.signals.problem.set(None);
            for file in new {
                let size = file.size() as u64;
                let total: u64 = self.files.iter().map(|f| f.size() as u64).sum();
                let name = file.name();
                let words = &self.words;
                let refusal = if size > self.limits.max_file_bytes {
                    Some(fill(&words.too_large, &[("name", &name)]))
                } else if total + size > self.limits.max_message_bytes {
                    Some(fill(&words.too_much, &[("name", &name)]))
                } else if self.files.len() as u32 >= self.limits.max_files {
                    Some(words.too_many.clone())
                } else if size == 0 {
                    Some(fill(&words.empty, &[("name", &name)]))
                } else {
                    None
                };
                if let Some(refusal) = refusal {
                    self.signals.problem.set(Some(refusal));
                    continue;
                }
                let preview = file
                    .type_()
                    .starts_with("image/")
                    .then(|| Url::create_object_url_with_blob(&file).ok())
                    .flatten();
                self.previews.push(preview);
                self.files.push(file);
            }
            self.sync();
        }

        fn remove(&mut self, index: usize) {
            if index < self.files.len() {
                self.files.remove(index);
                if let Some(url) = self.previews.remove(index) {
                    let _ = Url::revoke_object_url(&url);
                }
                self.signals.problem.set(None);
                self.sync();
            }
        }

        fn clear(&mut self) {
            for url in self.previews.drain(..).flatten() {
                let _ = Url::revoke_object_url(&url);
            }
            self.files.clear();
            self.sync();
        }

        /// The input holds exactly the chosen files, so the form sends them as it would
        /// without JavaScript; the list shows them.
        fn sync(&self) {
            if let Ok(transfer) = DataTransfer::new() {
                for file in &self.files {
                    let _ = transfer.items().add_with_file(file);
                }
                self.input.set_files(transfer.files().as_ref());
            }
            self.signals.chosen.set(
                self.files
                    .iter()
                    .zip(&self.previews)
                    .map(|(file, preview)| Chosen {
                        name: file.name(),
                        size: file.size() as u64,
                        preview: preview.clone(),
                    })
                    .collect(),
            );
        }
    }

    fn files_of(list: Option<web_sys::FileList>) -> Vec<File> {
        let Some(list) = list else {
            return Vec::new();
        };
        (0..list.length()).filter_map(|i| list.get(i)).collect()
    }

    fn listen<E: JsCast + 'static>(
        target: &web_sys::EventTarget,
        kind: &str,
        handler: impl FnMut(E) + 'static,
    ) {
        let mut handler = handler;
        let closure = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            if let Ok(event) = event.dyn_into::<E>() {
                handler(event);
            }
        });
        let _ = target.add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref());
        closure.forget();
    }

    /// Wires the picker to its form; returns how the list removes a file.
    pub fn wire(
        input: HtmlInputElement,
        signals: Signals,
        limits: UploadLimits,
        words: PickerWords,
        stay: bool,
    ) -> Rc<dyn Fn(usize)> {
        let picked = Rc::new(RefCell::new(Picked {
            input: input.clone(),
            files: Vec::new(),
            previews: Vec::new(),
            signals,
            limits,
            words,
        }));
        let remove = {
            let picked = picked.clone();
            Rc::new(move |index: usize| picked.borrow_mut().remove(index)) as Rc<dyn Fn(usize)>
        };
        {
            let picked = picked.clone();
            let input_for_change = input.clone();
            listen::<Event>(&input, "change", move |_| {
                // The picker replaced the input's files: add the new ones to those chosen.
                let new = files_of(input_for_change.files());
                picked.borrow_mut().add(new);
            });
        }
        let Some(form) = input.form() else {
            return remove;
        };
        let form: HtmlFormElement = form;
        {
            let picked = picked.clone();
            listen::<ClipboardEvent>(&form, "paste", move |event| {
                let files = files_of(event.clipboard_data().and_then(|d| d.files()));
                if !files.is_empty() {
                    event.prevent_default();
                    picked.borrow_mut().add(files);
                }
            });
        }
        listen::<DragEvent>(&form, "dragover", move |event| {
            event.prevent_default();
            signals.dragging.set(true);
        });
        listen::<DragEvent>(&form, "dragleave", move |_| signals.dragging.set(false));
        {
            let picked = picked.clone();
            listen::<DragEvent>(&form, "drop", move |event| {
                event.prevent_default();
                signals.dragging.set(false);
                let files = files_of(event.data_transfer().and_then(|d| d.files()));
                picked.borrow_mut().add(files);
            });
        }
        {
            let picked = picked.clone();
            let form_for_submit = form.clone();
            listen::<Event>(&form, "submit", move |event| {
                event.prevent_default();
                if signals.progress.get_untracked().is_some() {
                    return;
                }
                send(&form_for_submit, &picked, signals, stay);
            });
        }
        remove
    }

    /// Sends the form with the files, showing each file's progress; then goes where the server
    /// says, or (in the dialog) tells the page it was saved.
    fn send(form: &HtmlFormElement, picked: &Rc<RefCell<Picked>>, signals: Signals, stay: bool) {
        let Ok(data) = FormData::new_with_form(form) else {
            return;
        };
        let Ok(request) = XmlHttpRequest::new() else {
            return;
        };
        if request
            .open_with_async("POST", &form.action(), true)
            .is_err()
        {
            return;
        }
        let _ = request.set_request_header("Accept", "application/json");
        let sizes: Vec<f64> = picked.borrow().files.iter().map(|f| f.size()).collect();
        signals.problem.set(None);
        signals.progress.set(Some(vec![0.0; sizes.len()]));
        let button = form
            .query_selector("button[type=submit]")
            .ok()
            .flatten()
            .and_then(|b| b.dyn_into::<HtmlButtonElement>().ok());
        if let Some(button) = &button {
            button.set_disabled(true);
        }
        if let Ok(upload) = request.upload() {
            let sizes = sizes.clone();
            listen::<ProgressEvent>(&upload, "progress", move |event| {
                if !event.length_computable() {
                    return;
                }
                // The files come last in the form, in order: what went before them is text.
                let files_total: f64 = sizes.iter().sum();
                let mut start = event.total() - files_total;
                let done = sizes
                    .iter()
                    .map(|size| {
                        let part = ((event.loaded() - start) / size.max(1.0)).clamp(0.0, 1.0);
                        start += size;
                        part
                    })
                    .collect();
                signals.progress.set(Some(done));
            });
        }
        let finished = {
            let request = request.clone();
            let picked = picked.clone();
            let form = form.clone();
            move |_: Event| {
                if let Some(button) = &button {
                    button.set_disabled(false);
                }
                let status = request.status().unwrap_or(0);
                let text = request.response_text().ok().flatten().unwrap_or_default();
                let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                if (200..300).contains(&status) {
                    signals.progress.set(None);
                    if stay {
                        picked.borrow_mut().clear();
                        form.reset();
                        let init = web_sys::CustomEventInit::new();
                        init.set_bubbles(true);
                        if let Ok(saved) =
                            web_sys::CustomEvent::new_with_event_init_dict("portal:saved", &init)
                        {
                            let _ = form.dispatch_event(&saved);
                        }
                    } else if let Some(to) = body["redirect"].as_str()
                        && let Some(window) = web_sys::window()
                    {
                        let _ = window.location().assign(to);
                    }
                    return;
                }
                signals.progress.set(None);
                // The server's refusal comes in the page's language.
                let message = body["error"]["message"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| picked.borrow().words.network.clone());
                signals.problem.set(Some(message));
            }
        };
        listen::<Event>(&request, "loadend", finished);
        let _ = request.send_with_opt_form_data(Some(&data));
    }
}
