//! ACL users: rule compilation and the recomputed descriptions, against what the real
//! redis-sentinel 7.0.15 printed for the same `ACL SETUSER` calls and config lines.

use rsentinel::acl::{AclErr, User, Users, validate_user_line};

fn user(name: &str, rules: &[&str]) -> User {
    let mut u = User::new(name);
    for r in rules {
        u.apply(r).unwrap_or_else(|e| panic!("{r}: {e:?}"));
    }
    u
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn descriptions_are_recomputed_like_redis() {
    // Each expectation is the real ACL LIST line for the same rules.
    let b = user(
        "b",
        &[
            "+@all",
            "-@admin",
            "+acl|whoami",
            "~a",
            "~b",
            "%R~c",
            "&x",
            "resetkeys",
            "~d",
        ],
    );
    assert_eq!(b.describe(), "user b off ~d resetchannels &x +@all -@admin");
    let c = user(
        "c",
        &["allcommands", "-ping", "nocommands", "+auth", "+ping|x"],
    );
    assert_eq!(c.describe(), "user c off resetchannels -@all +auth +ping|x");
    let hash = "a".repeat(64);
    let d = user(
        "d",
        &[
            "-@all",
            "+@connection",
            "+@pubsub",
            "skip-sanitize-payload",
            &format!("#{hash}"),
        ],
    );
    assert_eq!(
        d.describe(),
        format!(
            "user d off skip-sanitize-payload #{hash} resetchannels -@all +@connection +@pubsub"
        )
    );
    let e = user("e", &["(+ping ~x)"]);
    assert_eq!(
        e.describe(),
        "user e off resetchannels -@all (~x resetchannels -@all +ping)"
    );
    let u2 = user(
        "u2",
        &[
            "resetchannels",
            "allkeys",
            "+@all",
            "-sentinel|reset",
            "nopass",
        ],
    );
    assert_eq!(
        u2.describe(),
        "user u2 off nopass ~* resetchannels +@all -sentinel|reset"
    );
    assert_eq!(
        User::default_user().describe(),
        "user default on nopass ~* &* +@all"
    );
}

#[test]
fn rule_errors_have_redis_reasons() {
    let mut u = User::new("x");
    assert_eq!(u.apply("+nosuch"), Err(AclErr::Unknown));
    assert_eq!(u.apply("+sentinel|nosuch"), Err(AclErr::Unknown));
    assert_eq!(u.apply("+@nosuch"), Err(AclErr::Unknown));
    assert_eq!(u.apply("+client|list|x"), Err(AclErr::FirstArgOfSub));
    assert_eq!(u.apply("bogus"), Err(AclErr::Syntax));
    assert_eq!(u.apply("<nopw"), Err(AclErr::NoSuchPassword));
    assert_eq!(u.apply("#abc"), Err(AclErr::BadHash));
    u.apply("~*").unwrap();
    assert_eq!(u.apply("~x"), Err(AclErr::KeyAfterAll));
    assert_eq!(
        AclErr::Unknown.message(),
        "Unknown command or category name in ACL"
    );
}

#[test]
fn config_user_lines_fail_like_redis() {
    // Real: `user bob on >a >b >c bogus` -> "Error in user declaration '>b': Syntax error"
    // (Redis reports the word of the whole line at the failing rule's index).
    let line = s(&["bob", "on", ">a", ">b", ">c", "bogus"]);
    let e = validate_user_line(&line, &[]).unwrap_err();
    assert_eq!((e.arg, e.err), (4, AclErr::Syntax));
    let e = validate_user_line(&s(&["bob", "~*", "~x"]), &[]).unwrap_err();
    assert_eq!((e.arg, e.err), (1, AclErr::KeyAfterAll));
    let e = validate_user_line(&s(&["bob", "off"]), &[s(&["bob", "on"])]).unwrap_err();
    assert_eq!((e.arg, e.err), (1, AclErr::Duplicate));
    // Unknown commands pass validation and fail when users are created.
    assert!(validate_user_line(&s(&["bob", "on", "+nosuch"]), &[]).is_ok());
    let err = Users::from_config(None, &[s(&["bob", "on", "+nosuch"])]).unwrap_err();
    assert_eq!(
        err,
        "Error loading ACL rule '+nosuch' for the user named 'bob': Unknown command or category name in ACL"
    );
}

/// Found by the `config_roundtrip` fuzz target: `user "ab\ncd"` loaded, and the config
/// rewrite wrote the name back with its newline, breaking the file. redis-sentinel 7.0.15
/// loads such a line but refuses to start (`ACLLoadConfiguredUsers`): "Spaces not allowed in
/// ACL usernames", then "Critical error while loading ACLs. Exiting.", exit 1 (checked on the
/// real binary for a space, a tab, a newline, a NUL, and a quote opened mid-word).
#[test]
fn user_names_with_spaces_load_but_do_not_start_like_redis() {
    for name in ["ab cd", "ab\tcd", "ab\ncd", "ab\0cd", "x\ry"] {
        let line = s(&[name, "on", "nopass"]);
        assert!(validate_user_line(&line, &[]).is_ok(), "{name:?}");
        let err = Users::from_config(None, std::slice::from_ref(&line)).unwrap_err();
        assert_eq!(err, "Spaces not allowed in ACL usernames", "{name:?}");
    }
    // The check comes per user, in order: an earlier user's bad rule is reported first.
    let err =
        Users::from_config(None, &[s(&["bob", "on", "+nosuch"]), s(&["a b", "on"])]).unwrap_err();
    assert!(err.starts_with("Error loading ACL rule '+nosuch'"), "{err}");
    assert!(Users::from_config(None, &[s(&["a-b_c.d", "on"])]).is_ok());
}

/// Key and channel patterns with whitespace or NUL are a syntax error at load, as in
/// redis (`ACLStringHasSpaces`); found by fuzzing: `&a\nb` loaded, and the rewrite wrote
/// the newline into the `user` line, leaving a file that no longer loads.
#[test]
fn patterns_with_spaces_are_a_syntax_error_like_redis() {
    for rule in [
        "&a\nb", "&a b", "~a\tb", "%R~a\rb", "%W~a\0b", "~a\x0bb", "&a\x0cb",
    ] {
        let err = validate_user_line(&s(&["u", "on", "nopass", rule]), &[]).unwrap_err();
        assert_eq!(err.err.message(), "Syntax error", "{rule:?}");
    }
    for rule in ["&a-b", "~a*b", "%RW~k:*"] {
        assert!(
            validate_user_line(&s(&["u", "on", rule]), &[]).is_ok(),
            "{rule:?}"
        );
    }
}

/// Selectors spread over arguments are joined as redis' `ACLMergeSelectorArguments` does
/// (redis' config rewrite writes `(~k* resetchannels +@all)` unquoted, so a config it
/// rewrote must load); an unclosed one names its opening argument.
#[test]
fn selectors_spread_over_arguments_are_merged_like_redis() {
    use rsentinel::acl::merge_selector_args;
    assert_eq!(
        merge_selector_args(&["on", "(~k*", "resetchannels", "+@all)", "x"]),
        Ok(s(&["on", "(~k* resetchannels +@all)", "x"]))
    );
    assert_eq!(
        merge_selector_args(&["(~a)", "(%R~b", "+@read)"]),
        Ok(s(&["(~a)", "(%R~b +@read)"]))
    );
    // An opening argument inside an open selector starts it over, as in redis.
    assert_eq!(
        merge_selector_args(&["(~a", "(~b", "+@all)"]),
        Ok(s(&["(~b +@all)"]))
    );
    assert_eq!(merge_selector_args(&["on", "(+get", "~k*"]), Err(1));
    let line = s(&[
        "u",
        "on",
        "nopass",
        "resetchannels",
        "-@all",
        "(~k*",
        "resetchannels",
        "+@all)",
    ]);
    assert!(validate_user_line(&line, &[]).is_ok());
    let users = Users::from_config(None, &[line]).unwrap();
    assert_eq!(
        users.describe_all()[1],
        "user u on nopass resetchannels -@all (~k* resetchannels +@all)"
    );
    let err = validate_user_line(&s(&["u", "on", "nopass", "(+get", "~k*"]), &[]).unwrap_err();
    assert_eq!(
        (err.arg, err.err.message()),
        (2, "Unknown command or category name in ACL")
    );
    let err =
        validate_user_line(&s(&["u", "on", "nopass", "(~k*", "+@all)", "x"]), &[]).unwrap_err();
    assert_eq!((err.arg, err.err.message()), (3, "Syntax error"));
}

#[test]
fn requirepass_and_default_user_lines() {
    let u = Users::from_config(Some("sentpw"), &[]).unwrap();
    assert_eq!(
        u.describe_all(),
        [
            "user default on #2e2893e4b128d6c00ba42bac4d97fd8f9da81613d6f6ba425d0e21fa44777aa0 ~* &* +@all"
        ]
    );
    // golden conf/sec-sb.1-after-start.conf
    let u = Users::from_config(
        None,
        &[
            s(&["default", "on", ">sentpw", "~*", "&*", "+@all"]),
            s(&["admin", "on", ">adminpw", "~*", "&*", "+@all"]),
        ],
    )
    .unwrap();
    assert_eq!(
        u.describe_all(),
        [
            "user admin on #5fcf82bc15aef42cd3ec93e6d4b51c04df110cf77ee715f62f3f172ff8ed9de9 ~* &* +@all",
            "user default on sanitize-payload #2e2893e4b128d6c00ba42bac4d97fd8f9da81613d6f6ba425d0e21fa44777aa0 ~* &* +@all"
        ]
    );
    assert!(u.check("admin", b"adminpw") && !u.check("admin", b"x"));
}

/// Channel rules, checked against the real 7.0.15 (`user bob on nopass +@all` and
/// `user carol on nopass &news* +@all`): SUBSCRIBE/PUBLISH channels must match a pattern,
/// a PSUBSCRIBE pattern must equal one, UNSUBSCRIBE is never checked, and a channel
/// denial is reported over a command denial.
#[test]
fn channel_permissions_like_redis() {
    use bytes::Bytes;
    use rsentinel::acl::Denied;
    use rsentinel::command_table::find;
    let args = |v: &[&str]| -> Vec<Bytes> {
        v.iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect()
    };
    let check = |u: &User, v: &[&str]| u.check(find(&v[0].to_ascii_lowercase()).unwrap(), &args(v));
    let bob = user("bob", &["on", "nopass", "+@all"]);
    let carol = user("carol", &["on", "nopass", "&news*", "+@all"]);
    let all = user("dave", &["on", "nopass", "allchannels", "+@all"]);
    assert_eq!(check(&bob, &["SUBSCRIBE", "foo"]), Err(Denied::Channel(0)));
    assert_eq!(
        check(&bob, &["PUBLISH", "__sentinel__:hello", "x"]),
        Err(Denied::Channel(0))
    );
    assert_eq!(check(&bob, &["UNSUBSCRIBE", "foo"]), Ok(()));
    assert_eq!(check(&bob, &["PING"]), Ok(()));
    assert_eq!(check(&carol, &["SUBSCRIBE", "newsx"]), Ok(()));
    assert_eq!(
        check(&carol, &["SUBSCRIBE", "newsx", "foo"]),
        Err(Denied::Channel(1))
    );
    assert_eq!(check(&carol, &["PSUBSCRIBE", "news*"]), Ok(()));
    assert_eq!(check(&carol, &["PSUBSCRIBE", "*"]), Err(Denied::Channel(0)));
    // Across selectors, the refused channel furthest into the arguments is the one
    // named (Redis' ACLCheckAllUserCommandPerm): the root refuses `b` (1), the
    // selector `a` (0).
    let two = user("frank", &["on", "nopass", "&a", "+@all", "(&b +@all)"]);
    assert_eq!(
        check(&two, &["SUBSCRIBE", "a", "b"]),
        Err(Denied::Channel(1))
    );
    assert_eq!(check(&all, &["PSUBSCRIBE", "*"]), Ok(()));
    let nopub = user("erin", &["on", "nopass", "&x", "+@all", "-publish"]);
    assert_eq!(check(&nopub, &["PUBLISH", "y", "z"]), Err(Denied::Command));
}

/// Fuzz finding (issue #15, fuzz target config_roundtrip): a rule starting with a
/// multi-byte character (`user default é`, `ACL SETUSER x é`, or the U+FFFD a
/// non-UTF-8 byte becomes) panicked on a char boundary. Redis answers "Syntax error"
/// (checked against redis-sentinel 7.0.15: `ERR Error in ACL SETUSER modifier 'é':
/// Syntax error`).
#[test]
fn rules_starting_with_multibyte_characters_are_syntax_errors() {
    for op in ["é", "\u{fffd}\u{fffd}\u{10}", "(é)", "€x", "\u{fffd}"] {
        let mut u = User::new("x");
        assert_eq!(u.apply(op), Err(AclErr::Syntax), "{op:?}");
    }
    // The crashing config line, shortened: loading it reports the bad rule.
    let args = s(&["default", "\u{fffd}\u{fffd}\u{10}", "sanit"]);
    let e = validate_user_line(&args, &[]).unwrap_err();
    assert_eq!(e.err, AclErr::Syntax);
}

/// Fuzz finding (issue #15, target acl_rules): `%~pattern` without R or W was accepted
/// (and described as `~pattern`); redis-sentinel 7.0.15 answers `ERR Error in ACL SETUSER
/// modifier '%~*': Syntax error`, while `~` and `%R~` (empty patterns) are accepted.
#[test]
fn key_permission_without_r_or_w_is_a_syntax_error() {
    let mut u = User::new("x");
    assert_eq!(u.apply("%~*"), Err(AclErr::Syntax));
    assert_eq!(u.apply("%~k"), Err(AclErr::Syntax));
    assert_eq!(u.apply("~"), Ok(()));
    assert_eq!(u.apply("%R~"), Ok(()));
    assert_eq!(u.apply("%RW~*"), Ok(()));
}
