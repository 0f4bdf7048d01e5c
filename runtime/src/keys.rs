//! Ed25519 key files and key ids.
//!
//! A key file is one line of standard base64: a private key file holds the
//! 64 bytes seed‖public, a public key file the 32-byte public key. The key id
//! is the lowercase hex SHA-256 of the 32-byte public key.

use base64::Engine as _;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(pub String);

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A public key with its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    id: String,
}

impl PublicKey {
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, KeyError> {
        let key = VerifyingKey::from_bytes(bytes)
            .map_err(|e| KeyError(format!("not a valid Ed25519 public key: {e}")))?;
        Ok(PublicKey {
            key,
            id: key_id(bytes),
        })
    }

    /// Parses the text of a public key file (or the base64 part of `ed25519:...`).
    pub fn parse(text: &str) -> Result<PublicKey, KeyError> {
        let bytes = B64
            .decode(text.trim())
            .map_err(|e| KeyError(format!("public key is not base64: {e}")))?;
        let arr: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError(format!("public key has {} bytes, expected 32", bytes.len())))?;
        PublicKey::from_bytes(&arr)
    }

    pub fn read(path: &std::path::Path) -> Result<PublicKey, KeyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| KeyError(format!("cannot read {}: {e}", path.display())))?;
        PublicKey::parse(&text).map_err(|e| KeyError(format!("{}: {e}", path.display())))
    }

    /// Lowercase hex SHA-256 of the public key bytes.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    pub fn to_base64(&self) -> String {
        B64.encode(self.key.to_bytes())
    }

    /// Verifies a signature (strict: rejects malleable and small-order forms).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(arr) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        let sig = Signature::from_bytes(&arr);
        self.key.verify_strict(message, &sig).is_ok()
    }
}

/// A private signing key.
#[derive(Debug)]
pub struct KeyPair {
    key: SigningKey,
    public: PublicKey,
}

impl KeyPair {
    /// From a 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> KeyPair {
        let key = SigningKey::from_bytes(seed);
        let pk = key.verifying_key().to_bytes();
        KeyPair {
            public: PublicKey {
                key: key.verifying_key(),
                id: key_id(&pk),
            },
            key,
        }
    }

    /// Parses the text of a private key file (base64 of seed‖public).
    pub fn parse(text: &str) -> Result<KeyPair, KeyError> {
        let bytes = B64
            .decode(text.trim())
            .map_err(|e| KeyError(format!("private key is not base64: {e}")))?;
        let arr: [u8; 64] = bytes.as_slice().try_into().map_err(|_| {
            KeyError(format!(
                "private key has {} bytes, expected 64 (seed and public key)",
                bytes.len()
            ))
        })?;
        let key = SigningKey::from_keypair_bytes(&arr)
            .map_err(|e| KeyError(format!("private key is inconsistent: {e}")))?;
        let pk = key.verifying_key().to_bytes();
        Ok(KeyPair {
            public: PublicKey {
                key: key.verifying_key(),
                id: key_id(&pk),
            },
            key,
        })
    }

    pub fn read(path: &std::path::Path) -> Result<KeyPair, KeyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| KeyError(format!("cannot read {}: {e}", path.display())))?;
        KeyPair::parse(&text).map_err(|e| KeyError(format!("{}: {e}", path.display())))
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// The private key file text (one line, base64 of seed‖public).
    pub fn to_file_text(&self) -> String {
        format!("{}\n", B64.encode(self.key.to_keypair_bytes()))
    }
}

pub fn key_id(public: &[u8; 32]) -> String {
    crate::hex(&crate::sha256(public))
}

pub fn b64_encode(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Strict standard base64 (canonical padding, no trailing bits).
pub fn b64_decode(text: &str) -> Option<Vec<u8>> {
    B64.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_round_trip() {
        let kp = KeyPair::from_seed(&[7u8; 32]);
        let sig = kp.sign(b"hello");
        assert!(kp.public().verify(b"hello", &sig));
        assert!(!kp.public().verify(b"hellp", &sig));
        let again = KeyPair::parse(&kp.to_file_text()).unwrap();
        assert_eq!(again.public(), kp.public());
        let pk = PublicKey::parse(&kp.public().to_base64()).unwrap();
        assert_eq!(pk.id(), kp.public().id());
        assert_eq!(pk.id().len(), 64);
    }

    #[test]
    fn rejects_bad_key_files() {
        assert!(KeyPair::parse("not base64!").is_err());
        assert!(
            KeyPair::parse(&b64_encode(&[1u8; 32])).is_err(),
            "a public key is not a private key"
        );
        let mut bytes = KeyPair::from_seed(&[1u8; 32]).key.to_keypair_bytes();
        bytes[40] ^= 1;
        assert!(
            KeyPair::parse(&b64_encode(&bytes)).is_err(),
            "seed and public half must agree"
        );
        assert!(PublicKey::parse(&b64_encode(&[1u8; 31])).is_err());
    }
}
