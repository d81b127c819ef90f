//! What a client may configure, in `initializationOptions` or in
//! `workspace/didChangeConfiguration` (either bare or under "typofix"):
//!
//! ```json
//! { "threshold": 6.0,
//!   "fileTypes": ["plaintext", "markdown", "gitcommit"],
//!   "allowFile": ".typofix-allow.txt" }
//! ```

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Settings {
    /// The corrector's threshold; `None`: the model's calibrated default.
    pub threshold: Option<f64>,
    /// The language ids checked; other documents are left alone.
    pub file_types: Vec<String>,
    /// The workspace's allow-list, relative to the workspace root: read at
    /// start, and where "add to dictionary" writes. `typofix fix
    /// --allow-file` reads the same file.
    pub allow_file: String,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            threshold: None,
            file_types: ["plaintext", "markdown", "gitcommit", "text"]
                .map(String::from)
                .to_vec(),
            allow_file: ".typofix-allow.txt".to_string(),
        }
    }
}

impl Settings {
    /// Settings from a client's JSON. `null` is the defaults; a value that
    /// does not fit is an error that says which.
    pub fn from_json(value: Value) -> Result<Settings, String> {
        let value = match value {
            Value::Null => return Ok(Settings::default()),
            Value::Object(mut map) if map.contains_key("typofix") => map.remove("typofix").unwrap(),
            other => other,
        };
        serde_json::from_value(value).map_err(|e| format!("typofix settings: {e}"))
    }

    pub fn checks(&self, language: &str) -> bool {
        self.file_types.iter().any(|t| t == language)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_come_bare_or_under_typofix_and_default_what_is_missing() {
        let bare = Settings::from_json(json!({"threshold": 8.0})).unwrap();
        let nested = Settings::from_json(json!({"typofix": {"threshold": 8.0}})).unwrap();
        assert_eq!(bare, nested);
        assert_eq!(bare.threshold, Some(8.0));
        assert!(bare.checks("markdown") && !bare.checks("rust"));
        assert_eq!(
            Settings::from_json(Value::Null).unwrap(),
            Settings::default()
        );
    }

    #[test]
    fn a_misspelt_setting_is_an_error_that_names_it() {
        let e = Settings::from_json(json!({"treshold": 8.0})).unwrap_err();
        assert!(e.contains("treshold"), "{e}");
    }
}
