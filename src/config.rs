//! The kadlab configuration file.
//!
//! One TOML file configures everything: `[lookup]` selects the strategy and
//! its parameters (see `kadlab.example.toml`). Unknown tables and keys are
//! errors, so a typo never silently falls back to a default.

use std::path::Path;

use serde::Deserialize;

use crate::lookup::{ConfigError, LookupConfig};

/// A kadlab TOML file. Only the tables defined so far are accepted; an
/// unknown table is an error naming it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `[lookup]`
    #[serde(default)]
    pub lookup: LookupConfig,
}

impl ConfigFile {
    /// Parse and check a TOML document.
    pub fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
        let file: ConfigFile = toml::from_str(text)?;
        file.lookup.validate()?;
        Ok(file)
    }

    /// Read, parse and check a TOML file.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        ConfigFile::parse(&text)
    }
}

