//! The words each island shows, handed over by the server as props in the language in use.
//!
//! Islands run in the browser, where the translation files are not: the server renders the
//! page in the member's language and gives each island just the sentences it may show, already
//! translated. The browser bundle therefore carries no language at all, and a page carries only
//! its own language's words. Sentences that name something only the browser knows (a chosen
//! file, a ticket in a live message) come as templates with `{name}`-style slots.

use serde::{Deserialize, Serialize};

use crate::model::{LiveEvent, Priority, Status};

/// Fills a template's `{slot}`s in one pass, so a value that looks like a slot (a ticket titled
/// "{status}") stays as written.
pub fn fill(template: &str, slots: &[(&str, &str)]) -> String {
    let mut text = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        text.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let value = after.find('}').and_then(|end| {
            let name = &after[..end];
            slots
                .iter()
                .find(|(slot, _)| *slot == name)
                .map(|(_, value)| (*value, end))
        });
        match value {
            Some((value, end)) => {
                text.push_str(value);
                rest = &after[end + 1..];
            }
            None => {
                text.push('{');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text
}

/// A count's sentence per CLDR plural category ("one": "{count} ticket"), for the browser's
/// `Intl.PluralRules` to choose from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluralWords {
    /// The language tag, for `Intl.PluralRules`.
    pub lang: String,
    pub forms: Vec<(String, String)>,
}

impl PluralWords {
    /// The sentence for a category (`other` when the language has no such form).
    pub fn form(&self, category: &str) -> Option<&str> {
        let find = |wanted: &str| {
            self.forms
                .iter()
                .find(|(c, _)| c == wanted)
                .map(|(_, t)| t.as_str())
        };
        find(category).or_else(|| find("other"))
    }
}

/// The file picker's words.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickerWords {
    pub attach: String,
    /// Limits and accepted types, already filled in.
    pub hint: String,
    pub files_to_send: String,
    pub remove: String,
    /// Templates with `{name}`.
    pub preview_of: String,
    pub uploading: String,
    pub too_large: String,
    pub too_much: String,
    pub empty: String,
    /// Already filled in (the number of files).
    pub too_many: String,
    pub network: String,
    /// The language's decimal separator and names of the units, for file sizes ("4,2 Mo").
    pub decimal: String,
    pub units: [String; 4],
}

/// The new-ticket form's words (the form is rendered inside the dashboard's dialog island).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketFormWords {
    pub new_ticket: String,
    pub close: String,
    pub title: String,
    pub description: String,
    pub description_hint: String,
    pub priority: String,
    pub priorities: Vec<(Priority, String)>,
    pub create: String,
    pub picker: PickerWords,
}

/// The live island's words: the connection's state, the toasts and the dashboard's count.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveWords {
    pub live: String,
    pub connecting: String,
    pub reconnecting: String,
    pub offline: String,
    /// Toast templates with `{title}`, `{status}`, `{priority}`.
    pub created: String,
    pub status_changed: String,
    pub priority_changed: String,
    pub renamed: String,
    pub new_reply: String,
    pub removed: String,
    pub reply_edited: String,
    pub reply_removed: String,
    pub updated: String,
    pub statuses: Vec<(Status, String)>,
    pub priorities: Vec<(Priority, String)>,
    /// "{count} tickets", per plural category.
    pub tickets: PluralWords,
}

impl LiveWords {
    pub fn status(&self, status: Status) -> &str {
        self.statuses
            .iter()
            .find(|(s, _)| *s == status)
            .map_or_else(|| status.label(), |(_, w)| w.as_str())
    }

    pub fn priority(&self, priority: Priority) -> &str {
        self.priorities
            .iter()
            .find(|(p, _)| *p == priority)
            .map_or_else(|| priority.label(), |(_, w)| w.as_str())
    }

    /// The sentence a toast shows for a live event, or `None` for events that need no toast.
    pub fn announce(&self, event: &LiveEvent) -> Option<String> {
        let titled = |template: &str, title: &str| fill(template, &[("title", title)]);
        match event {
            LiveEvent::TicketCreated { ticket } => Some(titled(&self.created, &ticket.title)),
            LiveEvent::StatusChanged { title, status, .. } => Some(fill(
                &self.status_changed,
                &[("title", title), ("status", self.status(*status))],
            )),
            LiveEvent::PriorityChanged {
                title, priority, ..
            } => Some(fill(
                &self.priority_changed,
                &[("title", title), ("priority", self.priority(*priority))],
            )),
            LiveEvent::Renamed { title, .. } => Some(titled(&self.renamed, title)),
            LiveEvent::ReplyAdded { title, reply, .. } if !reply.from_client => {
                Some(titled(&self.new_reply, title))
            }
            LiveEvent::Removed { title, .. } => Some(titled(&self.removed, title)),
            LiveEvent::ReplyEdited { title, .. } => Some(titled(&self.reply_edited, title)),
            LiveEvent::ReplyRemoved { title, .. } => Some(titled(&self.reply_removed, title)),
            LiveEvent::Updated { title, .. } => Some(titled(&self.updated, title)),
            LiveEvent::ReplyAdded { .. }
            | LiveEvent::DeliveryChanged { .. }
            | LiveEvent::Heartbeat => None,
        }
    }
}

/// Building the words, on the server as it renders a page. (Compiled for the browser too, as
/// the pages are, but only islands run there, and they only read words.)
mod build {
    use super::*;
    use crate::i18n::{Locale, td_string, words};
    use crate::model::{ACCEPTED_FILES, UploadLimits};

    /// A template slot as a translation's argument: the sentence comes back with `{slot}` in
    /// place, for the browser to fill.
    fn slot(name: &str) -> String {
        format!("{{{name}}}")
    }

    /// A file size as the language writes it ("4,2 MB"), the number by ICU4X.
    #[cfg(feature = "ssr")]
    pub fn size(l: Locale, bytes: u64) -> String {
        let (tenths, decimals, unit) = crate::model::size_parts(bytes);
        let mut number = icu_decimal::input::Decimal::from(tenths);
        number.multiply_pow10(-1);
        number.trim_end();
        if decimals == 1 {
            number.pad_end(-1);
        }
        let units = words::size_units(l);
        match number_formatter(l) {
            Some(formatter) => format!("{} {}", formatter.format(&number), units[unit]),
            None => crate::model::size_written(bytes, ".", &units),
        }
    }

    #[cfg(not(feature = "ssr"))]
    pub fn size(_: Locale, bytes: u64) -> String {
        crate::model::human_size(bytes)
    }

    /// The language's decimal separator, as ICU4X writes 1.5, for the sizes the browser writes.
    #[cfg(feature = "ssr")]
    fn decimal_separator(l: Locale) -> String {
        let mut one_and_a_half = icu_decimal::input::Decimal::from(15);
        one_and_a_half.multiply_pow10(-1);
        number_formatter(l).map_or_else(
            || ".".to_owned(),
            |formatter| {
                formatter
                    .format(&one_and_a_half)
                    .to_string()
                    .chars()
                    .filter(|c| !c.is_numeric())
                    .collect()
            },
        )
    }

    #[cfg(not(feature = "ssr"))]
    fn decimal_separator(_: Locale) -> String {
        ".".to_owned()
    }

    /// One number formatter per language, built once.
    #[cfg(feature = "ssr")]
    fn number_formatter(l: Locale) -> Option<&'static icu_decimal::DecimalFormatter> {
        use std::collections::HashMap;
        use std::sync::LazyLock;

        use crate::i18n::I18nLocaleTrait;
        static FORMATTERS: LazyLock<HashMap<Locale, icu_decimal::DecimalFormatter>> =
            LazyLock::new(|| {
                Locale::get_all()
                    .iter()
                    .filter_map(|&l| {
                        let formatter = icu_decimal::DecimalFormatter::try_new(
                            l.as_icu_locale().into(),
                            Default::default(),
                        )
                        .ok()?;
                        Some((l, formatter))
                    })
                    .collect()
            });
        FORMATTERS.get(&l)
    }

    /// Each plural category's sentence: `say(n)` for a number of that category, with the number
    /// turned back into the `{count}` slot.
    #[cfg(feature = "ssr")]
    pub fn plural_words(l: Locale, say: impl Fn(u64) -> String) -> PluralWords {
        use icu_plurals::PluralRules;

        use crate::i18n::I18nLocaleTrait;

        let Ok(rules) = PluralRules::try_new_cardinal(l.as_icu_locale().into()) else {
            return PluralWords::default();
        };
        // One number of every category any language has, smallest first.
        const SAMPLES: [u64; 9] = [0, 1, 2, 3, 11, 21, 100, 102, 1_000_000];
        let forms = rules
            .categories()
            .filter_map(|category| {
                let n = SAMPLES
                    .into_iter()
                    .find(|&n| rules.category_for(n) == category)?;
                Some((
                    category_name(category).to_owned(),
                    say(n).replace(&n.to_string(), "{count}"),
                ))
            })
            .collect();
        PluralWords {
            lang: l.as_str().to_owned(),
            forms,
        }
    }

    /// A CLDR plural category's name, as the translation files' suffixes and the browser's
    /// `Intl.PluralRules` write it.
    #[cfg(feature = "ssr")]
    pub fn category_name(category: icu_plurals::PluralCategory) -> &'static str {
        use icu_plurals::PluralCategory;
        match category {
            PluralCategory::Zero => "zero",
            PluralCategory::One => "one",
            PluralCategory::Two => "two",
            PluralCategory::Few => "few",
            PluralCategory::Many => "many",
            PluralCategory::Other => "other",
        }
    }

    #[cfg(not(feature = "ssr"))]
    pub fn plural_words(_: Locale, _: impl Fn(u64) -> String) -> PluralWords {
        PluralWords::default()
    }

    impl PickerWords {
        pub fn new(l: Locale, limits: UploadLimits) -> Self {
            let max_file = size(l, limits.max_file_bytes);
            let max_message = size(l, limits.max_message_bytes);
            PickerWords {
                attach: td_string!(l, ticket.picker.attach).to_owned(),
                hint: td_string!(
                    l,
                    ticket.picker.hint,
                    files = limits.max_files,
                    each = max_file.clone(),
                    total = max_message.clone(),
                    types = if l == Locale::en {
                        ACCEPTED_FILES.to_owned()
                    } else {
                        td_string!(l, ticket.picker.types).to_owned()
                    }
                ),
                files_to_send: td_string!(l, ticket.picker.files_to_send).to_owned(),
                remove: td_string!(l, ticket.picker.remove).to_owned(),
                preview_of: td_string!(l, ticket.picker.preview_of, name = slot("name")),
                uploading: td_string!(l, ticket.picker.uploading, name = slot("name")),
                too_large: td_string!(
                    l,
                    ticket.picker.too_large,
                    name = slot("name"),
                    max = max_file
                ),
                too_much: td_string!(
                    l,
                    ticket.picker.too_much,
                    name = slot("name"),
                    max = max_message
                ),
                empty: td_string!(l, ticket.picker.empty, name = slot("name")),
                too_many: td_string!(l, ticket.picker.too_many, count = limits.max_files),
                network: td_string!(l, common.notice.network).to_owned(),
                decimal: decimal_separator(l),
                units: words::size_units(l).map(str::to_owned),
            }
        }
    }

    impl TicketFormWords {
        pub fn new(l: Locale, limits: UploadLimits) -> Self {
            TicketFormWords {
                new_ticket: td_string!(l, tickets.new_ticket).to_owned(),
                close: td_string!(l, tickets.form.close).to_owned(),
                title: td_string!(l, tickets.form.title).to_owned(),
                description: td_string!(l, tickets.form.description).to_owned(),
                description_hint: td_string!(l, tickets.form.description_hint).to_owned(),
                priority: td_string!(l, tickets.form.priority).to_owned(),
                priorities: Priority::ALL
                    .into_iter()
                    .map(|p| (p, words::priority(l, p).to_owned()))
                    .collect(),
                create: td_string!(l, tickets.form.create).to_owned(),
                picker: PickerWords::new(l, limits),
            }
        }
    }

    impl LiveWords {
        pub fn new(l: Locale) -> Self {
            let (title, status, priority) = (slot("title"), slot("status"), slot("priority"));
            LiveWords {
                live: td_string!(l, tickets.live.live).to_owned(),
                connecting: td_string!(l, tickets.live.connecting).to_owned(),
                reconnecting: td_string!(l, tickets.live.reconnecting).to_owned(),
                offline: td_string!(l, tickets.live.offline).to_owned(),
                created: td_string!(l, tickets.live.created, title = title.clone()),
                status_changed: td_string!(
                    l,
                    tickets.live.status_changed,
                    title = title.clone(),
                    status = status
                ),
                priority_changed: td_string!(
                    l,
                    tickets.live.priority_changed,
                    title = title.clone(),
                    priority = priority
                ),
                renamed: td_string!(l, tickets.live.renamed, title = title.clone()),
                new_reply: td_string!(l, tickets.live.new_reply, title = title.clone()),
                removed: td_string!(l, tickets.live.removed, title = title.clone()),
                reply_edited: td_string!(l, tickets.live.reply_edited, title = title.clone()),
                reply_removed: td_string!(l, tickets.live.reply_removed, title = title.clone()),
                updated: td_string!(l, tickets.live.updated, title = title),
                statuses: Status::ALL
                    .into_iter()
                    .map(|s| (s, words::status(l, s).to_owned()))
                    .collect(),
                priorities: Priority::ALL
                    .into_iter()
                    .map(|p| (p, words::priority(l, p).to_owned()))
                    .collect(),
                tickets: plural_words(l, |n| td_string!(l, tickets.count, count = n)),
            }
        }
    }
}

#[cfg(feature = "ssr")]
pub use build::category_name;
pub use build::{plural_words, size};

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    #[test]
    fn plural_words_cover_every_category_of_the_language() {
        let english = LiveWords::new(Locale::en).tickets;
        assert_eq!(english.form("one"), Some("{count} ticket"));
        assert_eq!(english.form("other"), Some("{count} tickets"));
        let arabic = LiveWords::new(Locale::ar).tickets;
        let categories: Vec<&str> = arabic.forms.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(categories.len(), 6, "{categories:?}");
        assert!(arabic.forms.iter().all(|(_, t)| !t.contains("{{")));
    }

    #[test]
    fn announcements_name_the_ticket_in_the_members_language() {
        let event = LiveEvent::StatusChanged {
            ticket_id: "1".into(),
            title: "Login issue".into(),
            status: Status::InProgress,
        };
        assert_eq!(
            LiveWords::new(Locale::en).announce(&event).as_deref(),
            Some("Login issue is now In Progress")
        );
        let german = LiveWords::new(Locale::de)
            .announce(&event)
            .unwrap_or_default();
        assert!(
            german.contains("Login issue") && german.contains("In Bearbeitung"),
            "{german}"
        );
        // A title that looks like a slot stays as written.
        let tricky = LiveEvent::StatusChanged {
            ticket_id: "1".into(),
            title: "{status} {x".into(),
            status: Status::Open,
        };
        assert_eq!(
            LiveWords::new(Locale::en).announce(&tricky).as_deref(),
            Some("{status} {x is now Open")
        );
    }

    #[test]
    fn sizes_are_written_the_languages_way() {
        use crate::i18n::islands::size;
        assert_eq!(size(Locale::en, 4_404_019), "4.2 MB");
        assert_eq!(size(Locale::de, 4_404_019), "4,2 MB");
        assert_eq!(size(Locale::fr, 26 * 1024 * 1024), "26 Mo", "French units");
        assert_eq!(size(Locale::es, 1536 * 1024 * 1024), "1,5 GB");
        assert_eq!(size(Locale::en, 812), "812 B");
        assert_eq!(
            PickerWords::new(Locale::de, Default::default()).decimal,
            ","
        );
        assert_eq!(
            PickerWords::new(Locale::en, Default::default()).decimal,
            "."
        );
        // The browser writes a chosen file's size the same way.
        let french = PickerWords::new(Locale::fr, Default::default());
        assert_eq!(
            crate::model::size_written(4_404_019, &french.decimal, &french.units),
            size(Locale::fr, 4_404_019)
        );
    }

    #[test]
    fn templates_keep_their_slots_for_the_browser() {
        let german = LiveWords::new(Locale::de);
        assert!(german.status_changed.contains("{title}"));
        assert!(german.status_changed.contains("{status}"));
        assert_eq!(
            fill(&german.created, &[("title", "Drucker")]),
            german.created.replace("{title}", "Drucker")
        );
    }
}
