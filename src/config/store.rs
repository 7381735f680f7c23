//! Values of the generic options that rsentinel does not act on, kept so the rewrite can
//! write them back (canonical text, see `generic`).

use std::collections::BTreeMap;

use super::generic_special::CoblLimit;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericStore {
    /// Canonical name -> canonical value text; `None` = explicitly unset.
    pub(crate) values: BTreeMap<&'static str, Option<String>>,
    /// `client-output-buffer-limit` for the normal and replica classes (pubsub lives in
    /// `ServerConfig::pubsub_limit`).
    pub(crate) cobl_normal: CoblLimit,
    pub(crate) cobl_replica: CoblLimit,
    /// Whether `aclfile` is set (then users are not written by the rewrite).
    pub(crate) aclfile: bool,
}

impl Default for GenericStore {
    fn default() -> Self {
        GenericStore {
            values: BTreeMap::new(),
            cobl_normal: (0, 0, 0),
            cobl_replica: (256 * 1024 * 1024, 64 * 1024 * 1024, 60),
            aclfile: false,
        }
    }
}

impl GenericStore {
    /// The canonical value of an option as loaded, if it appeared in the config.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.values.get(name).map(|v| v.as_deref())
    }
}
