//! Personal data at rest: sealed with XChaCha20-Poly1305 (RustCrypto) under the key
//! from `SIGNPOST_DATA_KEY`, a random 24-byte nonce per record (random nonces of that
//! size never collide in practice), and the referral's id as associated data, so a
//! sealed value copied onto another referral does not open. Stored as
//! `version ‖ nonce ‖ ciphertext`; the version byte leaves room for key rotation.

use std::sync::Arc;

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::error::{AppError, AppResult};

/// The environment variable the key comes from.
pub const KEY_VARIABLE: &str = "SIGNPOST_DATA_KEY";
const FORMAT: u8 = 1;
const NONCE: usize = 24;

/// The data key, or its absence (a production server without one refuses to take
/// or show personal data, and says which variable to set).
#[derive(Clone)]
pub struct DataKey(Option<Arc<XChaCha20Poly1305>>);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself.
        f.write_str(if self.0.is_some() {
            "DataKey(set)"
        } else {
            "DataKey(missing)"
        })
    }
}

impl DataKey {
    /// A key given as base64 of 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| {
                format!("{KEY_VARIABLE} must be base64 (e.g. `openssl rand -base64 32`)")
            })?;
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| {
            format!(
                "{KEY_VARIABLE} must hold 32 bytes; it holds {}",
                bytes.len()
            )
        })?;
        Ok(Self(Some(Arc::new(cipher))))
    }

    /// A key for this process only (demo and development): what it seals cannot be
    /// read after a restart.
    pub fn ephemeral() -> AppResult<Self> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(AppError::internal)?;
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(AppError::internal)?;
        Ok(Self(Some(Arc::new(cipher))))
    }

    pub fn missing() -> Self {
        Self(None)
    }

    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }

    /// UNAVAILABLE, naming the variable to set, when there is no key.
    pub fn require(&self) -> AppResult<()> {
        self.cipher().map(|_| ())
    }

    fn cipher(&self) -> AppResult<&XChaCha20Poly1305> {
        self.0.as_deref().ok_or_else(|| {
            AppError::NotConfigured(format!(
                "referrals hold personal data and this server has no key to protect it: \
                 set {KEY_VARIABLE} (base64 of 32 random bytes)"
            ))
        })
    }

    /// Seal `plain` for the record `owner` (a referral id).
    pub fn seal(&self, owner: &str, plain: &[u8]) -> AppResult<Vec<u8>> {
        let cipher = self.cipher()?;
        let mut nonce = [0u8; NONCE];
        getrandom::fill(&mut nonce).map_err(AppError::internal)?;
        let sealed = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| AppError::internal("sealing failed"))?;
        let mut out = Vec::with_capacity(1 + NONCE + sealed.len());
        out.push(FORMAT);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Open what `seal` made for `owner`. A value sealed under another key (an
    /// ephemeral key from before a restart, a rotated key) is UNAVAILABLE, not a bug.
    pub fn open(&self, owner: &str, sealed: &[u8]) -> AppResult<Vec<u8>> {
        let cipher = self.cipher()?;
        let unknown = || AppError::internal("sealed value in an unknown format");
        let (nonce, body) = match sealed.split_first() {
            Some((&FORMAT, rest)) if rest.len() > NONCE => rest.split_at(NONCE),
            _ => return Err(unknown()),
        };
        let nonce = <[u8; NONCE]>::try_from(nonce).map_err(|_| unknown())?;
        cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: body,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| {
                AppError::NotConfigured(format!(
                    "this personal data was sealed with another key than {KEY_VARIABLE} holds"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_sealed_opens_only_with_its_key_and_owner() {
        let key = DataKey::ephemeral().unwrap();
        let sealed = key.seal("r1", b"Ada Lovelace").unwrap();
        assert!(!sealed.windows(3).any(|w| w == b"Ada"));
        assert_eq!(key.open("r1", &sealed).unwrap(), b"Ada Lovelace");
        assert!(key.open("r2", &sealed).is_err(), "bound to its referral");
        let other = DataKey::ephemeral().unwrap();
        assert!(matches!(
            other.open("r1", &sealed),
            Err(AppError::NotConfigured(_))
        ));
        // A fresh nonce each time: the same text never seals the same way twice.
        assert_ne!(sealed, key.seal("r1", b"Ada Lovelace").unwrap());
    }

    #[test]
    fn a_missing_or_malformed_key_is_named() {
        let Err(AppError::NotConfigured(message)) = DataKey::missing().seal("r", b"x") else {
            panic!("a missing key must refuse");
        };
        assert!(message.contains(KEY_VARIABLE));
        assert!(DataKey::from_base64("not base64!").is_err());
        assert!(
            DataKey::from_base64("c2hvcnQ=")
                .unwrap_err()
                .contains("32 bytes")
        );
        let good = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert!(DataKey::from_base64(&good).unwrap().is_set());
    }
}
