//! HS256 tokens for the REST API (the original design's contract). Browsers use the session
//! cookie instead; a JWT never goes to localStorage.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use super::Member;
use crate::server::config::Secret;
use crate::server::db::now_unix;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub portal_id: String,
    pub iat: i64,
    pub exp: i64,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl_seconds: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid")]
    Invalid,
}

impl JwtKeys {
    pub fn new(secret: &Secret, ttl_seconds: i64) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            ttl_seconds,
        }
    }

    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }

    pub fn issue(&self, member: &Member) -> Result<String, JwtError> {
        self.issue_at(member, now_unix())
    }

    pub fn issue_at(&self, member: &Member, issued_at: i64) -> Result<String, JwtError> {
        let claims = Claims {
            sub: member.email.clone(),
            portal_id: member.portal_id.clone(),
            iat: issued_at,
            exp: issued_at + self.ttl_seconds,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| JwtError::Invalid)
    }

    /// Accepts only HS256 with this key, unexpired (`alg: none` and other algorithms fail).
    pub fn verify(&self, token: &str) -> Result<Member, JwtError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        match decode::<Claims>(token, &self.decoding, &validation) {
            Ok(data) => Ok(Member {
                email: data.claims.sub,
                portal_id: data.claims.portal_id,
            }),
            Err(error)
                if matches!(
                    error.kind(),
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature
                ) =>
            {
                Err(JwtError::Expired)
            }
            Err(_) => Err(JwtError::Invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(
            &Secret::new("a-test-secret-that-is-long-enough-0123456789"),
            86_400,
        )
    }

    fn member() -> Member {
        Member {
            email: "a@acme.test".into(),
            portal_id: "acme".into(),
        }
    }

    #[test]
    fn round_trips() {
        let token = keys().issue(&member()).unwrap();
        assert_eq!(keys().verify(&token).unwrap(), member());
    }

    #[test]
    fn expired_tokens_are_refused() {
        let token = keys().issue_at(&member(), now_unix() - 90_000).unwrap();
        assert_eq!(keys().verify(&token), Err(JwtError::Expired));
    }

    #[test]
    fn another_key_and_alg_none_are_refused() {
        let other = JwtKeys::new(
            &Secret::new("another-secret-that-is-long-enough-012345"),
            60,
        );
        let token = other.issue(&member()).unwrap();
        assert_eq!(keys().verify(&token), Err(JwtError::Invalid));

        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let claims = b64.encode(format!(
            r#"{{"sub":"a@acme.test","portal_id":"acme","iat":0,"exp":{}}}"#,
            now_unix() + 3600
        ));
        assert_eq!(
            keys().verify(&format!("{header}.{claims}.")),
            Err(JwtError::Invalid)
        );
    }
}
