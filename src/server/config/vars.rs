//! Reading variables: a snapshot of the environment, typed parsing with one-line errors naming
//! the variable, and [`Secret`] for values that must never be printed.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// A value that must never be printed: `Debug` shows `[redacted]` and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The only way to read the value; grep for it to audit where secrets go.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A database URL: `Debug` and `Display` show it without its password, so the configuration can
/// be printed and errors can name it.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL with its password, for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // scheme://user:password@host/db → scheme://user:[redacted]@host/db
        match self.0.split_once("://") {
            Some((scheme, rest)) => match rest.split_once('@') {
                Some((credentials, host)) => {
                    let user = credentials.split(':').next().unwrap_or_default();
                    write!(f, "{scheme}://{user}:[redacted]@{host}")
                }
                None => f.write_str(&self.0),
            },
            None => f.write_str(&self.0),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

impl PartialEq<&str> for DatabaseUrl {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// A configuration variable with a value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {variable} {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl ConfigError {
    pub(super) fn invalid(variable: &'static str, shown_value: &str, expected: &str) -> Self {
        Self {
            variable,
            problem: format!("is {shown_value:?}, expected {expected}"),
        }
    }

    pub(super) fn invalid_secret(variable: &'static str, expected: &str) -> Self {
        Self {
            variable,
            problem: format!("is not valid (value hidden), expected {expected}"),
        }
    }

    pub fn missing(variable: &'static str, why: &str) -> Self {
        Self {
            variable,
            problem: format!("is not set: {why}"),
        }
    }
}

/// Reads variables from a snapshot of the environment so tests can pass their own.
pub struct Vars(HashMap<String, String>);

impl Vars {
    pub fn from_process() -> Self {
        Self(std::env::vars().collect())
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    /// An empty string counts as unset, which is what `FOO=` in a `.env` file usually means.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    pub(super) fn string(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or(default).to_owned()
    }

    pub(super) fn secret(&self, name: &str) -> Option<Secret> {
        self.get(name).map(Secret::new)
    }

    pub(super) fn parse<T: std::str::FromStr>(
        &self,
        name: &'static str,
        default: T,
        expected: &str,
    ) -> Result<T, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .parse()
                .map_err(|_| ConfigError::invalid(name, raw, expected)),
        }
    }

    pub(super) fn seconds(
        &self,
        name: &'static str,
        default: u64,
    ) -> Result<Duration, ConfigError> {
        self.parse(name, default, "a whole number of seconds")
            .map(Duration::from_secs)
    }

    pub(super) fn flag(&self, name: &'static str) -> Result<Option<bool>, ConfigError> {
        match self.get(name).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(None),
            Some("1" | "true" | "on" | "yes") => Ok(Some(true)),
            Some("0" | "false" | "off" | "no") => Ok(Some(false)),
            Some(other) => Err(ConfigError::invalid(name, other, "on or off")),
        }
    }
}
