//! `user` lines for the rewrite: rendered by the one ACL model the server uses
//! ([`crate::acl`]), so the config file and `ACL LIST` can never disagree.

use crate::acl::Users;

/// The `user ...` lines the rewrite emits for the given `user` directives (arguments
/// after `user`) and `requirepass`, sorted by user name like Redis' radix tree.
/// Directives that do not load (unknown commands) are skipped: the server refuses to
/// start with them anyway.
pub fn describe_users(users: &[Vec<String>], requirepass: Option<&str>) -> Vec<String> {
    let valid: Vec<Vec<String>> = users
        .iter()
        .filter(|l| Users::from_config(None, std::slice::from_ref(l)).is_ok())
        .cloned()
        .collect();
    Users::from_config(requirepass, &valid)
        .map(|u| u.describe_all())
        .unwrap_or_default()
}
