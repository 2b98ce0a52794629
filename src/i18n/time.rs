//! Times as a member reads them: in their time zone (IANA names, through jiff's bundled zone
//! database), written the way their language writes dates (ICU4X, CLDR data), and relative
//! times ("3 hours ago") from the translation files with each language's plural rules.

use std::collections::HashMap;
use std::sync::LazyLock;

use icu_datetime::DateTimeFormatter;
use icu_datetime::fieldsets::{self, YMDT};
use icu_datetime::input::{Date, DateTime, Time};

use super::{I18nLocaleTrait, Locale, Prefs, td_string};

/// One date formatter per language, built once (building one reads CLDR data).
static FORMATTERS: LazyLock<HashMap<Locale, DateTimeFormatter<YMDT>>> = LazyLock::new(|| {
    Locale::get_all()
        .iter()
        .filter_map(|&locale| {
            let formatter = DateTimeFormatter::try_new(
                locale.as_icu_locale().into(),
                fieldsets::YMD::medium().with_time_hm(),
            )
            .ok()?;
            Some((locale, formatter))
        })
        .collect()
});

/// The zone a name stands for, if it is one the server knows.
pub fn zone(name: &str) -> Option<jiff::tz::TimeZone> {
    jiff::tz::db().get(name).ok()
}

/// Every zone a member may choose, sorted.
pub fn zone_names() -> Vec<String> {
    let mut names: Vec<String> = jiff::tz::db()
        .available()
        .map(|name| name.to_string())
        // The database's legacy aliases (`US/Pacific`, `Etc/GMT+5`) only confuse a picker.
        .filter(|name| name.contains('/') && !name.starts_with("Etc/") || name == "UTC")
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The exact time, e.g. "25 Nov 2026, 14:05 CET" for a German member in Berlin: the date as
/// their language writes it, in their zone, with the zone's abbreviation.
pub fn exact(prefs: &Prefs, seconds: i64) -> Option<String> {
    let zone = zone(&prefs.zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let zoned = jiff::Timestamp::from_second(seconds).ok()?.to_zoned(zone);
    let date =
        Date::try_new_iso(zoned.year().into(), zoned.month() as u8, zoned.day() as u8).ok()?;
    let time = Time::try_new(zoned.hour() as u8, zoned.minute() as u8, 0, 0).ok()?;
    let formatter = FORMATTERS.get(&prefs.locale)?;
    let written = formatter.format(&DateTime { date, time }).to_string();
    Some(format!("{written} {}", zoned.strftime("%Z")))
}

/// "just now", "3 hours ago", in the member's language.
pub fn relative(locale: Locale, now_seconds: i64, then_seconds: i64) -> String {
    let delta = now_seconds - then_seconds;
    if delta < -60 {
        return td_string!(locale, time.in_the_future).to_owned();
    }
    let delta = delta.max(0);
    match delta {
        0..=44 => td_string!(locale, time.just_now).to_owned(),
        45..=3599 => {
            let count = (delta / 60).max(1);
            td_string!(locale, time.minutes_ago, count = count)
        }
        3600..=86_399 => {
            let count = delta / 3600;
            td_string!(locale, time.hours_ago, count = count)
        }
        86_400..=2_591_999 => {
            let count = delta / 86_400;
            td_string!(locale, time.days_ago, count = count)
        }
        2_592_000..=31_535_999 => {
            let count = delta / 2_592_000;
            td_string!(locale, time.months_ago, count = count)
        }
        _ => {
            let count = delta / 31_536_000;
            td_string!(locale, time.years_ago, count = count)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefs(locale: Locale, zone: &str) -> Prefs {
        Prefs {
            locale,
            zone: zone.into(),
            zone_chosen: true,
            browser_zone: None,
        }
    }

    #[test]
    fn exact_times_are_in_the_members_zone_and_language() {
        // 2026-11-25 13:05 UTC.
        let at = 1_795_611_900;
        let berlin = exact(&prefs(Locale::de, "Europe/Berlin"), at).unwrap();
        assert_eq!(berlin, "25.11.2026, 14:05 CET");
        let new_york = exact(&prefs(Locale::en, "America/New_York"), at).unwrap();
        assert!(
            new_york.contains("8:05") && new_york.contains("EST"),
            "{new_york}"
        );
        let paris = exact(&prefs(Locale::fr, "Europe/Paris"), at).unwrap();
        assert!(paris.contains("nov.") && paris.contains("14:05"), "{paris}");
    }

    #[test]
    fn relative_times_read_naturally_in_every_language() {
        assert_eq!(relative(Locale::en, 100, 100), "just now");
        assert_eq!(relative(Locale::en, 160, 100), "1 minute ago");
        assert_eq!(relative(Locale::en, 7300, 100), "2 hours ago");
        assert_eq!(relative(Locale::de, 7300, 100), "vor 2 Stunden");
        assert_eq!(
            relative(Locale::fr, 3 * 86_400 + 100, 100),
            "il y a 3 jours"
        );
        assert_eq!(relative(Locale::es, 160, 100), "hace 1 minuto");
        assert_eq!(relative(Locale::en, 0, 1000), "in the future");
    }

    #[test]
    fn only_real_zones_are_known() {
        assert!(zone("Europe/Berlin").is_some());
        assert!(zone("Mars/Olympus").is_none());
        let names = zone_names();
        assert!(names.iter().any(|n| n == "Asia/Kolkata") && names.iter().any(|n| n == "UTC"));
    }
}
