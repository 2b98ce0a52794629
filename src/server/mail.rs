//! Outgoing mail: SMTP when `SMTP_URL` is set, otherwise a file per message under
//! `DATA_DIR/mail/` (which the local board's demo inbox shows; nothing else serves it). The
//! files hold working sign-in links, so they are readable by the portal's user only, and no
//! mail's text ever goes to the log. Production keeps files only with `MAIL_FILE_DROP=on`.

use std::path::{Path, PathBuf};

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use super::config::MailConfig;
use super::html::escape;
use crate::i18n::{I18nLocaleTrait, Locale, direction, td_string};
use crate::model::PortalBrand;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Headers notifications carry (sign-in links have none).
    #[serde(default, skip_serializing_if = "MailHeaders::is_empty")]
    pub headers: MailHeaders,
}

/// `Message-ID` (one per mail, the same on every attempt), `In-Reply-To`/`References` (one per
/// ticket, so mail programs thread a ticket's mails) and RFC 8058's one-click unsubscribe.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailHeaders {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    /// The `https://` URL a POST to unsubscribes (`List-Unsubscribe-Post: List-Unsubscribe=One-Click`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe: Option<String>,
}

impl MailHeaders {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl Mail {
    pub fn sign_in(
        l: Locale,
        portal: &PortalBrand,
        email: &str,
        name: Option<&str>,
        link: &str,
        minutes: u64,
    ) -> Self {
        Self::link_mail(l, portal, email, name, link, minutes, None)
    }

    /// The sign-in link a colleague's invitation sends: it says who invited them.
    pub fn invitation(
        l: Locale,
        portal: &PortalBrand,
        email: &str,
        name: Option<&str>,
        invited_by: &str,
        link: &str,
        minutes: u64,
    ) -> Self {
        Self::link_mail(l, portal, email, name, link, minutes, Some(invited_by))
    }

    fn link_mail(
        l: Locale,
        portal: &PortalBrand,
        email: &str,
        name: Option<&str>,
        link: &str,
        minutes: u64,
        invited_by: Option<&str>,
    ) -> Self {
        let greeting = match name {
            Some(name) => td_string!(l, mail.sign_in.greeting_named, name = name),
            None => td_string!(l, mail.sign_in.greeting).to_owned(),
        };
        let invited = invited_by
            .map(|who| td_string!(l, mail.sign_in.invited, who = who, portal = &portal.name))
            .unwrap_or_default();
        let validity = td_string!(l, mail.sign_in.validity, minutes = minutes);
        let text = format!(
            "{greeting}\n\n{invited}{}\n\n{link}\n\n{validity}\n",
            td_string!(l, mail.sign_in.use_link, portal = &portal.name),
        );
        let html = format!(
            r#"<!DOCTYPE html><html lang="{lang}" dir="{dir}"><body style="font-family:system-ui,sans-serif;color:#0f172a">
<p>{greeting}</p>
<p>{invited}{use_button}</p>
<p><a href="{link}" style="display:inline-block;background:{colour};color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none">{button}</a></p>
<p style="color:#475569;font-size:14px">{validity}</p>
</body></html>"#,
            lang = l.as_str(),
            dir = direction(l),
            greeting = escape(&greeting),
            invited = escape(&invited),
            use_button = escape(&td_string!(
                l,
                mail.sign_in.use_button,
                portal = &portal.name
            )),
            button = escape(&td_string!(l, mail.sign_in.button, portal = &portal.name)),
            validity = escape(&validity),
            link = escape(link),
            colour = escape(&portal.colour),
        );
        let subject = match invited_by {
            Some(who) => td_string!(
                l,
                mail.sign_in.subject_invited,
                who = who,
                portal = &portal.name
            ),
            None => td_string!(l, mail.sign_in.subject, portal = &portal.name),
        };
        Self {
            to: email.to_owned(),
            subject,
            text,
            html,
            headers: MailHeaders::default(),
        }
    }
}

/// Creates `dir` (owner only) and writes `file` with owner-only permissions from the first byte:
/// there is no moment at which another user could open it.
fn write_private(dir: &Path, file: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(file)?.write_all(contents)
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the mail could not be built: {0}")]
    Build(String),
    #[error("SMTP: {0}")]
    Smtp(String),
    /// The server refused the message for good (a 5xx answer): trying again will not help.
    #[error("SMTP refused the message: {0}")]
    Refused(String),
    #[error("could not write the mail file: {0}")]
    File(#[from] std::io::Error),
}

/// The longest one SMTP conversation may take.
pub const SMTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

pub struct Mailer {
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    mail_dir: PathBuf,
}

impl Mailer {
    pub fn new(config: &MailConfig, data_dir: &std::path::Path) -> Result<Self, MailError> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| MailError::Build(format!("MAIL_FROM: {e}")))?;
        let smtp = match &config.smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    // lettre's message may echo the URL, which holds the password.
                    .map_err(|_| MailError::Smtp("SMTP_URL could not be parsed".into()))?
                    // Well inside the notification queue's lease (two minutes), so a slow server
                    // never lets another instance take over a mail that is still being sent.
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
            None => None,
        };
        Ok(Self {
            smtp,
            from,
            mail_dir: data_dir.join("mail"),
        })
    }

    /// The domain of `MAIL_FROM`, for `Message-ID`s.
    pub fn from_domain(&self) -> String {
        self.from.email.domain().to_owned()
    }

    pub fn mail_dir(&self) -> &std::path::Path {
        &self.mail_dir
    }

    pub async fn send(&self, mail: Mail) -> Result<(), MailError> {
        match &self.smtp {
            Some(smtp) => {
                let to: Mailbox = mail
                    .to
                    .parse()
                    .map_err(|e| MailError::Build(format!("recipient: {e}")))?;
                let mut builder = Message::builder()
                    .from(self.from.clone())
                    .to(to)
                    .subject(&mail.subject);
                let headers = &mail.headers;
                if let Some(id) = &headers.message_id {
                    builder = builder.message_id(Some(id.clone()));
                }
                if let Some(thread) = &headers.thread_id {
                    builder = builder
                        .in_reply_to(thread.clone())
                        .references(thread.clone());
                }
                if let Some(url) = &headers.unsubscribe {
                    builder = builder
                        .raw_header(HeaderValue::new(
                            HeaderName::new_from_ascii_str("List-Unsubscribe"),
                            format!("<{url}>"),
                        ))
                        .raw_header(HeaderValue::new(
                            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                            "List-Unsubscribe=One-Click".to_owned(),
                        ));
                }
                let message = builder
                    .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))
                    .map_err(|e| MailError::Build(e.to_string()))?;
                // The error's text is the server's answer, never the message's.
                smtp.send(message).await.map_err(|e| {
                    if e.is_permanent() {
                        MailError::Refused(e.to_string())
                    } else {
                        MailError::Smtp(e.to_string())
                    }
                })?;
                Ok(())
            }
            None => self.keep(mail).await,
        }
    }

    /// Without SMTP: the mail goes to a file only its owner can read. The log says that it was
    /// kept and where, never what it says (the text holds a sign-in link).
    async fn keep(&self, mail: Mail) -> Result<(), MailError> {
        let name = format!(
            "{}-{}.json",
            time::OffsetDateTime::now_utc().unix_timestamp_nanos(),
            uuid::Uuid::new_v4().simple()
        );
        let path = self.mail_dir.join(name);
        let json = serde_json::to_vec_pretty(&mail).map_err(|e| MailError::Build(e.to_string()))?;
        let dir = self.mail_dir.clone();
        let file = path.clone();
        tokio::task::spawn_blocking(move || write_private(&dir, &file, &json))
            .await
            .map_err(|e| MailError::File(std::io::Error::other(e)))??;
        tracing::info!(
            subject = %mail.subject,
            file = %path.display(),
            "no SMTP_URL: mail kept on disk instead of sent"
        );
        Ok(())
    }

    /// The kept mails, newest first (the local board's demo inbox).
    pub async fn kept(&self, limit: usize) -> Vec<(String, Mail)> {
        let Ok(mut entries) = tokio::fs::read_dir(&self.mail_dir).await else {
            return Vec::new();
        };
        let mut names = Vec::new();
        while let Ok(Some(entry)) = entries.next_entry().await {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") {
                names.push(name);
            }
        }
        names.sort_unstable_by(|a, b| b.cmp(a));
        let mut mails = Vec::new();
        for name in names.into_iter().take(limit) {
            if let Ok(bytes) = tokio::fs::read(self.mail_dir.join(&name)).await
                && let Ok(mail) = serde_json::from_slice::<Mail>(&bytes)
            {
                mails.push((name, mail));
            }
        }
        mails
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sign-in and invitation mails in each language: every sentence filled in, the
    /// client's words escaped, the language and direction set.
    #[test]
    fn sign_in_mails_read_in_every_language() {
        let portal = PortalBrand {
            id: "acme".into(),
            name: "Acme <&> Co".into(),
            colour: "#1d4ed8".into(),
            logo_url: None,
        };
        let english = Mail::sign_in(Locale::en, &portal, "a@b.test", None, "https://x/l", 60);
        for &l in Locale::get_all() {
            let sign_in = Mail::sign_in(
                l,
                &portal,
                "a@b.test",
                Some("Ana"),
                "https://x/l?a=1&b=2",
                60,
            );
            let invited = Mail::invitation(l, &portal, "a@b.test", None, "Ben", "https://x/l", 60);
            for mail in [&sign_in, &invited] {
                for part in [&mail.subject, &mail.text, &mail.html] {
                    assert!(
                        !part.contains("{{") && !part.trim().is_empty(),
                        "{l}: {part}"
                    );
                }
                assert!(mail.html.contains(&format!(
                    "lang=\"{}\" dir=\"{}\"",
                    l.as_str(),
                    direction(l)
                )));
                assert!(mail.html.contains("Acme &lt;&amp;&gt; Co") && !mail.html.contains("<&>"));
                assert!(mail.text.contains("60"), "{l}: {}", mail.text);
            }
            assert!(sign_in.html.contains("https://x/l?a=1&amp;b=2"));
            assert!(invited.subject.contains("Ben"));
            if l != Locale::en {
                assert_ne!(sign_in.subject, english.subject, "{l}");
                assert!(!sign_in.text.contains("It works once"), "{l}");
            }
        }
    }
}
