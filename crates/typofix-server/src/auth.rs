//! The optional bearer token: read from a file or the environment (never
//! the command line, where `ps` shows it) and compared in constant time.

use std::path::Path;

use subtle::ConstantTimeEq;

/// The environment variable that may hold the token.
pub const TOKEN_ENV: &str = "TYPOFIX_TOKEN";

#[derive(Clone)]
pub struct Token(Vec<u8>);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

impl Token {
    /// The token in `path` (surrounding whitespace trimmed), or in
    /// `$TYPOFIX_TOKEN` when no file is given; `None` when neither is set.
    pub fn load(path: Option<&Path>) -> Result<Option<Token>, String> {
        let text = match path {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?,
            None => match std::env::var(TOKEN_ENV) {
                Ok(t) => t,
                Err(_) => return Ok(None),
            },
        };
        let token = text.trim();
        if token.is_empty() {
            return Err("the token is empty: put a secret in the file or variable".into());
        }
        Ok(Some(Token(token.as_bytes().to_vec())))
    }

    pub fn new(secret: &str) -> Token {
        Token(secret.as_bytes().to_vec())
    }

    /// Whether an `Authorization` header value carries this token.
    pub fn accepts(&self, header: Option<&[u8]>) -> bool {
        let Some(given) = header.and_then(|h| h.strip_prefix(b"Bearer ")) else {
            return false;
        };
        // ct_eq is constant-time for equal lengths; a length mismatch
        // reveals only the length.
        given.ct_eq(&self.0).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_is_accepted() {
        let token = Token::new("s3cret");
        assert!(token.accepts(Some(b"Bearer s3cret")));
        for wrong in [
            &b"Bearer s3cre"[..],
            b"Bearer s3cret2",
            b"s3cret",
            b"Basic s3cret",
            b"",
        ] {
            assert!(!token.accepts(Some(wrong)), "{wrong:?}");
        }
        assert!(!token.accepts(None));
    }
}
