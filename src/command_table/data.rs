//! The sentinel-mode command table as data: names, arities, flags, ACL categories, tips
//! and `COMMAND DOCS` documentation, in the order 7.0.15 happened to list them (its hash
//! order, which clients never rely on but byte-for-byte comparisons do).
//!
//! Generated from the replies of the reference binary (`COMMAND` and `COMMAND DOCS`),
//! because these replies are part of the observable surface clients probe at start-up.
//! Do not edit by hand: the generator is `tests-integration/command_table.rs`. With a
//! `redis-sentinel` installed, `cargo test --test integration command_table -- --ignored`
//! checks this file against it, and `REGENERATE_TABLE=1` in front rewrites it (for a
//! newer Redis; new commands are appended, known ones keep their place).

use super::{CmdSpec, Doc::*};

/// Top-level commands, in `COMMAND` / `COMMAND LIST` order.
pub static COMMANDS: &[CmdSpec] = &[
    CmdSpec {
        name: "auth",
        arity: -2,
        flags: &[
            "noscript",
            "loading",
            "stale",
            "fast",
            "no_auth",
            "allow_busy",
        ],
        acl: &["@fast", "@connection"],
        tips: &[],
        docs: &[
            ("summary", B("Authenticate to the server")),
            ("since", B("1.0.0")),
            ("group", B("connection")),
            (
                "complexity",
                B("O(N) where N is the number of passwords defined for the user"),
            ),
            (
                "history",
                T(&[A(&[
                    B("6.0.0"),
                    B("Added ACL style (username and password)."),
                ])]),
            ),
            (
                "arguments",
                A(&[
                    M(&[
                        ("name", B("username")),
                        ("type", B("string")),
                        ("since", B("6.0.0")),
                        ("flags", T(&[S("optional")])),
                    ]),
                    M(&[("name", B("password")), ("type", B("string"))]),
                ]),
            ),
        ],
        subs: &[],
    },
    CmdSpec {
        name: "subscribe",
        arity: -2,
        flags: &["pubsub", "noscript", "loading", "stale"],
        acl: &["@pubsub", "@slow"],
        tips: &[],
        docs: &[
            (
                "summary",
                B("Listen for messages published to the given channels"),
            ),
            ("since", B("2.0.0")),
            ("group", B("pubsub")),
            (
                "complexity",
                B("O(N) where N is the number of channels to subscribe to."),
            ),
            (
                "arguments",
                A(&[M(&[
                    ("name", B("channel")),
                    ("type", B("string")),
                    ("flags", T(&[S("multiple")])),
                ])]),
            ),
        ],
        subs: &[],
    },
    CmdSpec {
        name: "punsubscribe",
        arity: -1,
        flags: &["pubsub", "noscript", "loading", "stale"],
        acl: &["@pubsub", "@slow"],
        tips: &[],
        docs: &[
            (
                "summary",
                B("Stop listening for messages posted to channels matching the given patterns"),
            ),
            ("since", B("2.0.0")),
            ("group", B("pubsub")),
            (
                "complexity",
                B(
                    "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).",
                ),
            ),
            (
                "arguments",
                A(&[M(&[
                    ("name", B("pattern")),
                    ("type", B("pattern")),
                    ("flags", T(&[S("optional"), S("multiple")])),
                ])]),
            ),
        ],
        subs: &[],
    },
    CmdSpec {
        name: "shutdown",
        arity: -1,
        flags: &[
            "admin",
            "noscript",
            "loading",
            "stale",
            "no_multi",
            "allow_busy",
        ],
        acl: &["@admin", "@slow", "@dangerous"],
        tips: &[],
        docs: &[
            (
                "summary",
                B("Synchronously save the dataset to disk and then shut down the server"),
            ),
            ("since", B("1.0.0")),
            ("group", B("server")),
            (
                "complexity",
                B(
                    "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
                ),
            ),
            (
                "history",
                T(&[A(&[
                    B("7.0.0"),
                    B("Added the `NOW`, `FORCE` and `ABORT` modifiers."),
                ])]),
            ),
            (
                "arguments",
                A(&[
                    M(&[
                        ("name", B("nosave_save")),
                        ("type", B("oneof")),
                        ("flags", T(&[S("optional")])),
                        (
                            "arguments",
                            A(&[
                                M(&[
                                    ("name", B("nosave")),
                                    ("type", B("pure-token")),
                                    ("token", B("NOSAVE")),
                                ]),
                                M(&[
                                    ("name", B("save")),
                                    ("type", B("pure-token")),
                                    ("token", B("SAVE")),
                                ]),
                            ]),
                        ),
                    ]),
                    M(&[
                        ("name", B("now")),
                        ("type", B("pure-token")),
                        ("token", B("NOW")),
                        ("since", B("7.0.0")),
                        ("flags", T(&[S("optional")])),
                    ]),
                    M(&[
                        ("name", B("force")),
                        ("type", B("pure-token")),
                        ("token", B("FORCE")),
                        ("since", B("7.0.0")),
                        ("flags", T(&[S("optional")])),
                    ]),
                    M(&[
                        ("name", B("abort")),
                        ("type", B("pure-token")),
                        ("token", B("ABORT")),
                        ("since", B("7.0.0")),
                        ("flags", T(&[S("optional")])),
                    ]),
                ]),
            ),
        ],
        subs: &[],
    },
    CmdSpec {
        name: "client",
        arity: -2,
        flags: &[],
        acl: &["@slow"],
        tips: &[],
        docs: &[
            ("summary", B("A container for client connection commands")),
            ("since", B("2.4.0")),
            ("group", B("connection")),
            ("complexity", B("Depends on subcommand.")),
        ],
        subs: &[
            CmdSpec {
                name: "client|reply",
                arity: 3,
                flags: &["noscript", "loading", "stale"],
                acl: &["@slow", "@connection"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Instruct the server whether to reply to commands"),
                    ),
                    ("since", B("3.2.0")),
                    ("group", B("connection")),
                    ("complexity", B("O(1)")),
                    (
                        "arguments",
                        A(&[M(&[
                            ("name", B("on_off_skip")),
                            ("type", B("oneof")),
                            (
                                "arguments",
                                A(&[
                                    M(&[
                                        ("name", B("on")),
                                        ("type", B("pure-token")),
                                        ("token", B("ON")),
                                    ]),
                                    M(&[
                                        ("name", B("off")),
                                        ("type", B("pure-token")),
                                        ("token", B("OFF")),
                                    ]),
                                    M(&[
                                        ("name", B("skip")),
                                        ("type", B("pure-token")),
                                        ("token", B("SKIP")),
                                    ]),
                                ]),
                            ),
                        ])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "client|list",
                arity: -2,
                flags: &["admin", "noscript", "loading", "stale"],
                acl: &["@admin", "@slow", "@dangerous", "@connection"],
                tips: &["nondeterministic_output"],
                docs: &[
                    ("summary", B("Get the list of client connections")),
                    ("since", B("2.4.0")),
                    ("group", B("connection")),
                    (
                        "complexity",
                        B("O(N) where N is the number of client connections"),
                    ),
                    (
                        "history",
                        T(&[
                            A(&[B("2.8.12"), B("Added unique client `id` field.")]),
                            A(&[B("5.0.0"), B("Added optional `TYPE` filter.")]),
                            A(&[B("6.0.0"), B("Added `user` field.")]),
                            A(&[
                                B("6.2.0"),
                                B(
                                    "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter.",
                                ),
                            ]),
                            A(&[
                                B("7.0.0"),
                                B("Added `resp`, `multi-mem`, `rbs` and `rbp` fields."),
                            ]),
                            A(&[B("7.0.3"), B("Added `ssub` field.")]),
                        ]),
                    ),
                    (
                        "arguments",
                        A(&[
                            M(&[
                                ("name", B("normal_master_replica_pubsub")),
                                ("type", B("oneof")),
                                ("token", B("TYPE")),
                                ("since", B("5.0.0")),
                                ("flags", T(&[S("optional")])),
                                (
                                    "arguments",
                                    A(&[
                                        M(&[
                                            ("name", B("normal")),
                                            ("type", B("pure-token")),
                                            ("token", B("NORMAL")),
                                        ]),
                                        M(&[
                                            ("name", B("master")),
                                            ("type", B("pure-token")),
                                            ("token", B("MASTER")),
                                        ]),
                                        M(&[
                                            ("name", B("replica")),
                                            ("type", B("pure-token")),
                                            ("token", B("REPLICA")),
                                        ]),
                                        M(&[
                                            ("name", B("pubsub")),
                                            ("type", B("pure-token")),
                                            ("token", B("PUBSUB")),
                                        ]),
                                    ]),
                                ),
                            ]),
                            M(&[
                                ("name", B("id")),
                                ("type", B("block")),
                                ("token", B("ID")),
                                ("since", B("6.2.0")),
                                ("flags", T(&[S("optional")])),
                                (
                                    "arguments",
                                    A(&[M(&[
                                        ("name", B("client-id")),
                                        ("type", B("integer")),
                                        ("flags", T(&[S("multiple")])),
                                    ])]),
                                ),
                            ]),
                        ]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "client|pause",
                arity: -3,
                flags: &["admin", "noscript", "loading", "stale"],
                acl: &["@admin", "@slow", "@dangerous", "@connection"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Stop processing commands from clients for some time"),
                    ),
                    ("since", B("2.9.50")),
                    ("group", B("connection")),
                    ("complexity", B("O(1)")),
                    (
                        "history",
                        T(&[A(&[
                            B("6.2.0"),
                            B("`CLIENT PAUSE WRITE` mode added along with the `mode` option."),
                        ])]),
                    ),
                    (
                        "arguments",
                        A(&[
                            M(&[("name", B("timeout")), ("type", B("integer"))]),
                            M(&[
                                ("name", B("mode")),
                                ("type", B("oneof")),
                                ("since", B("6.2.0")),
                                ("flags", T(&[S("optional")])),
                                (
                                    "arguments",
                                    A(&[
                                        M(&[
                                            ("name", B("write")),
                                            ("type", B("pure-token")),
                                            ("token", B("WRITE")),
                                        ]),
                                        M(&[
                                            ("name", B("all")),
                                            ("type", B("pure-token")),
                                            ("token", B("ALL")),
                                        ]),
                                    ]),
                                ),
                            ]),
                        ]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "client|unpause",
                arity: 2,
                flags: &["admin", "noscript", "loading", "stale"],
                acl: &["@admin", "@slow", "@dangerous", "@connection"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Resume processing of clients that were paused"),
                    ),
                    ("since", B("6.2.0")),
                    ("group", B("connection")),
                    (
                        "complexity",
                        B("O(N) Where N is the number of paused clients"),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "client|no-evict",
                arity: 3,
                flags: &["admin", "noscript", "loading", "stale"],
                acl: &["@admin", "@slow", "@dangerous", "@connection"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Set client eviction mode for the current connection"),
                    ),
                    ("since", B("7.0.0")),
                    ("group", B("connection")),
                    ("complexity", B("O(1)")),
                    (
                        "arguments",
                        A(&[M(&[
                            ("name", B("enabled")),
                            ("type", B("oneof")),
                            (
                                "arguments",
                                A(&[
                                    M(&[
                                        ("name", B("on")),
                                        ("type", B("pure-token")),
                                        ("token", B("ON")),
                                    ]),
                                    M(&[
                                        ("name", B("off")),
                                        ("type", B("pure-token")),
                                        ("token", B("OFF")),
                                    ]),
                                ]),
                            ),
                        ])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "client|unblock",
                arity: -3,
                flags: &["admin", "noscript", "loading", "stale"],
                acl: &["@admin", "@slow", "@dangerous", "@connection"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B(
                            "Unblock a client blocked in a blocking command from a different connection",
                        ),
                    ),
                    ("since", B("5.0.0")),
                    ("group", B("connection")),
                    (
                        "complexity",
                        B("O(log N) where N is the number of client connections"),
                    ),
                    (
                        "arguments",
                        A(&[
                            M(&[("name", B("client-id")), ("type", B("integer"))]),
                            M(&[
                                ("name", B("timeout_error")),
                                ("type", B("oneof")),
                                ("flags", T(&[S("optional")])),
                                (
                                    "arguments",
                                    A(&[
                                        M(&[
                                            ("name", B("timeout")),
                                            ("type", B("pure-token")),
                                            ("token", B("TIMEOUT")),
                                        ]),
                                        M(&[
                                            ("name", B("error")),
                                            ("type", B("pure-token")),
                                            ("token", B("ERROR")),
                                        ]),
                                    ]),
                                ),
                            ]),
                        ]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "client|getredir",
                arity: 2,
                flags: &["noscript", "loading", "stale"],
                acl: &["@slow", "@connection"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Get tracking notifications redirection client ID if any"),
                    ),
                    ("since", B("6.0.0")),
                    ("group", B("connection")),
                    ("complexity", B("O(1)")),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "client|info",
                arity: 2,
                flags: &["noscript", "loading", "stale"],
                acl: &["@slow", "@connection"],
                tips: &["nondeterministic_output"],
                docs: &[
                    (
                        "summary",
                        B("Returns information about the current client connection."),
                    ),
                    ("since", B("6.2.0")),
                    ("group", B("connection")),
                    ("complexity", B("O(1)")),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "client|getname",
                arity: 2,
                flags: &["noscript", "loading", "stale"],
                acl: &["@slow", "@connection"],
                tips: &[],
                docs: &[
                    ("summary", B("Get the current connection name")),
                    ("since", B("2.6.9")),
                    ("group", B("connection")),
                    ("complexity", B("O(1)")),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "client|setname",
                arity: 3,
                flags: &["noscript", "loading", "stale"],
                acl: &["@slow", "@connection"],
                tips: &[],
                docs: &[
                    ("summary", B("Set the current connection name")),
                    ("since", B("2.6.9")),
                    ("group", B("connection")),
                    ("complexity", B("O(1)")),
                    (
                        "arguments",
                        A(&[M(&[("name", B("connection-name")), ("type", B("string"))])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "client|help",
                arity: 2,
                flags: &["loading", "stale"],
                acl: &["@slow", "@connection"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Show helpful text about the different subcommands"),
                    ),
                    ("since", B("5.0.0")),
                    ("group", B("connection")),
                    ("complexity", B("O(1)")),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "client|kill",
                arity: -3,
                flags: &["admin", "noscript", "loading", "stale"],
                acl: &["@admin", "@slow", "@dangerous", "@connection"],
                tips: &[],
                docs: &[
                    ("summary", B("Kill the connection of a client")),
                    ("since", B("2.4.0")),
                    ("group", B("connection")),
                    (
                        "complexity",
                        B("O(N) where N is the number of client connections"),
                    ),
                    (
                        "history",
                        T(&[
                            A(&[B("2.8.12"), B("Added new filter format.")]),
                            A(&[B("2.8.12"), B("`ID` option.")]),
                            A(&[B("3.2.0"), B("Added `master` type in for `TYPE` option.")]),
                            A(&[
                                B("5.0.0"),
                                B(
                                    "Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward compatibility.",
                                ),
                            ]),
                            A(&[B("6.2.0"), B("`LADDR` option.")]),
                        ]),
                    ),
                    (
                        "arguments",
                        A(&[M(&[
                            ("name", B("filter")),
                            ("type", B("oneof")),
                            (
                                "arguments",
                                A(&[
                                    M(&[
                                        ("name", B("ip:port")),
                                        ("type", B("string")),
                                        ("deprecated_since", B("2.8.12")),
                                    ]),
                                    M(&[
                                        ("name", B("new-format")),
                                        ("type", B("oneof")),
                                        ("flags", T(&[S("multiple")])),
                                        (
                                            "arguments",
                                            A(&[
                                                M(&[
                                                    ("name", B("client-id")),
                                                    ("type", B("integer")),
                                                    ("token", B("ID")),
                                                    ("since", B("2.8.12")),
                                                    ("flags", T(&[S("optional")])),
                                                ]),
                                                M(&[
                                                    ("name", B("normal_master_slave_pubsub")),
                                                    ("type", B("oneof")),
                                                    ("token", B("TYPE")),
                                                    ("since", B("2.8.12")),
                                                    ("flags", T(&[S("optional")])),
                                                    (
                                                        "arguments",
                                                        A(&[
                                                            M(&[
                                                                ("name", B("normal")),
                                                                ("type", B("pure-token")),
                                                                ("token", B("NORMAL")),
                                                            ]),
                                                            M(&[
                                                                ("name", B("master")),
                                                                ("type", B("pure-token")),
                                                                ("token", B("MASTER")),
                                                                ("since", B("3.2.0")),
                                                            ]),
                                                            M(&[
                                                                ("name", B("slave")),
                                                                ("type", B("pure-token")),
                                                                ("token", B("SLAVE")),
                                                            ]),
                                                            M(&[
                                                                ("name", B("replica")),
                                                                ("type", B("pure-token")),
                                                                ("token", B("REPLICA")),
                                                                ("since", B("5.0.0")),
                                                            ]),
                                                            M(&[
                                                                ("name", B("pubsub")),
                                                                ("type", B("pure-token")),
                                                                ("token", B("PUBSUB")),
                                                            ]),
                                                        ]),
                                                    ),
                                                ]),
                                                M(&[
                                                    ("name", B("username")),
                                                    ("type", B("string")),
                                                    ("token", B("USER")),
                                                    ("flags", T(&[S("optional")])),
                                                ]),
                                                M(&[
                                                    ("name", B("ip:port")),
                                                    ("type", B("string")),
                                                    ("token", B("ADDR")),
                                                    ("flags", T(&[S("optional")])),
                                                ]),
                                                M(&[
                                                    ("name", B("ip:port")),
                                                    ("type", B("string")),
                                                    ("token", B("LADDR")),
                                                    ("since", B("6.2.0")),
                                                    ("flags", T(&[S("optional")])),
                                                ]),
                                                M(&[
                                                    ("name", B("yes/no")),
                                                    ("type", B("string")),
                                                    ("token", B("SKIPME")),
                                                    ("flags", T(&[S("optional")])),
                                                ]),
                                            ]),
                                        ),
                                    ]),
                                ]),
                            ),
                        ])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "client|caching",
                arity: 3,
                flags: &["noscript", "loading", "stale"],
                acl: &["@slow", "@connection"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Instruct the server about tracking or not keys in the next request"),
                    ),
                    ("since", B("6.0.0")),
                    ("group", B("connection")),
                    ("complexity", B("O(1)")),
                    (
                        "arguments",
                        A(&[M(&[
                            ("name", B("mode")),
                            ("type", B("oneof")),
                            (
                                "arguments",
                                A(&[
                                    M(&[
                                        ("name", B("yes")),
                                        ("type", B("pure-token")),
                                        ("token", B("YES")),
                                    ]),
                                    M(&[
                                        ("name", B("no")),
                                        ("type", B("pure-token")),
                                        ("token", B("NO")),
                                    ]),
                                ]),
                            ),
                        ])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "client|tracking",
                arity: -3,
                flags: &["noscript", "loading", "stale"],
                acl: &["@slow", "@connection"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Enable or disable server assisted client side caching support"),
                    ),
                    ("since", B("6.0.0")),
                    ("group", B("connection")),
                    (
                        "complexity",
                        B("O(1). Some options may introduce additional complexity."),
                    ),
                    (
                        "arguments",
                        A(&[
                            M(&[
                                ("name", B("status")),
                                ("type", B("oneof")),
                                (
                                    "arguments",
                                    A(&[
                                        M(&[
                                            ("name", B("on")),
                                            ("type", B("pure-token")),
                                            ("token", B("ON")),
                                        ]),
                                        M(&[
                                            ("name", B("off")),
                                            ("type", B("pure-token")),
                                            ("token", B("OFF")),
                                        ]),
                                    ]),
                                ),
                            ]),
                            M(&[
                                ("name", B("client-id")),
                                ("type", B("integer")),
                                ("token", B("REDIRECT")),
                                ("flags", T(&[S("optional")])),
                            ]),
                            M(&[
                                ("name", B("prefix")),
                                ("type", B("string")),
                                ("token", B("PREFIX")),
                                (
                                    "flags",
                                    T(&[S("optional"), S("multiple"), S("multiple_token")]),
                                ),
                            ]),
                            M(&[
                                ("name", B("bcast")),
                                ("type", B("pure-token")),
                                ("token", B("BCAST")),
                                ("flags", T(&[S("optional")])),
                            ]),
                            M(&[
                                ("name", B("optin")),
                                ("type", B("pure-token")),
                                ("token", B("OPTIN")),
                                ("flags", T(&[S("optional")])),
                            ]),
                            M(&[
                                ("name", B("optout")),
                                ("type", B("pure-token")),
                                ("token", B("OPTOUT")),
                                ("flags", T(&[S("optional")])),
                            ]),
                            M(&[
                                ("name", B("noloop")),
                                ("type", B("pure-token")),
                                ("token", B("NOLOOP")),
                                ("flags", T(&[S("optional")])),
                            ]),
                        ]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "client|id",
                arity: 2,
                flags: &["noscript", "loading", "stale"],
                acl: &["@slow", "@connection"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Returns the client ID for the current connection"),
                    ),
                    ("since", B("5.0.0")),
                    ("group", B("connection")),
                    ("complexity", B("O(1)")),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "client|trackinginfo",
                arity: 2,
                flags: &["noscript", "loading", "stale"],
                acl: &["@slow", "@connection"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B(
                            "Return information about server assisted client side caching for the current connection",
                        ),
                    ),
                    ("since", B("6.2.0")),
                    ("group", B("connection")),
                    ("complexity", B("O(1)")),
                ],
                subs: &[],
            },
        ],
    },
    CmdSpec {
        name: "acl",
        arity: -2,
        flags: &[],
        acl: &["@slow"],
        tips: &[],
        docs: &[
            (
                "summary",
                B("A container for Access List Control commands "),
            ),
            ("since", B("6.0.0")),
            ("group", B("server")),
            ("complexity", B("Depends on subcommand.")),
        ],
        subs: &[
            CmdSpec {
                name: "acl|getuser",
                arity: 3,
                flags: &["admin", "noscript", "loading", "stale"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    ("summary", B("Get the rules for a specific ACL user")),
                    ("since", B("6.0.0")),
                    ("group", B("server")),
                    (
                        "complexity",
                        B(
                            "O(N). Where N is the number of password, command and pattern rules that the user has.",
                        ),
                    ),
                    (
                        "history",
                        T(&[
                            A(&[B("6.2.0"), B("Added Pub/Sub channel patterns.")]),
                            A(&[
                                B("7.0.0"),
                                B(
                                    "Added selectors and changed the format of key and channel patterns from a list to their rule representation.",
                                ),
                            ]),
                        ]),
                    ),
                    (
                        "arguments",
                        A(&[M(&[("name", B("username")), ("type", B("string"))])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "acl|list",
                arity: 2,
                flags: &["admin", "noscript", "loading", "stale"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("List the current ACL rules in ACL config file format"),
                    ),
                    ("since", B("6.0.0")),
                    ("group", B("server")),
                    (
                        "complexity",
                        B("O(N). Where N is the number of configured users."),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "acl|save",
                arity: 2,
                flags: &["admin", "noscript", "loading", "stale"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Save the current ACL rules in the configured ACL file"),
                    ),
                    ("since", B("6.0.0")),
                    ("group", B("server")),
                    (
                        "complexity",
                        B("O(N). Where N is the number of configured users."),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "acl|cat",
                arity: -2,
                flags: &["noscript", "loading", "stale"],
                acl: &["@slow"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("List the ACL categories or the commands inside a category"),
                    ),
                    ("since", B("6.0.0")),
                    ("group", B("server")),
                    (
                        "complexity",
                        B("O(1) since the categories and commands are a fixed set."),
                    ),
                    (
                        "arguments",
                        A(&[M(&[
                            ("name", B("categoryname")),
                            ("type", B("string")),
                            ("flags", T(&[S("optional")])),
                        ])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "acl|load",
                arity: 2,
                flags: &["admin", "noscript", "loading", "stale"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    ("summary", B("Reload the ACLs from the configured ACL file")),
                    ("since", B("6.0.0")),
                    ("group", B("server")),
                    (
                        "complexity",
                        B("O(N). Where N is the number of configured users."),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "acl|users",
                arity: 2,
                flags: &["admin", "noscript", "loading", "stale"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("List the username of all the configured ACL rules"),
                    ),
                    ("since", B("6.0.0")),
                    ("group", B("server")),
                    (
                        "complexity",
                        B("O(N). Where N is the number of configured users."),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "acl|whoami",
                arity: 2,
                flags: &["noscript", "loading", "stale"],
                acl: &["@slow"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Return the name of the user associated to the current connection"),
                    ),
                    ("since", B("6.0.0")),
                    ("group", B("server")),
                    ("complexity", B("O(1)")),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "acl|dryrun",
                arity: -4,
                flags: &["admin", "noscript", "loading", "stale"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B(
                            "Returns whether the user can execute the given command without executing the command.",
                        ),
                    ),
                    ("since", B("7.0.0")),
                    ("group", B("server")),
                    ("complexity", B("O(1).")),
                    (
                        "arguments",
                        A(&[
                            M(&[("name", B("username")), ("type", B("string"))]),
                            M(&[("name", B("command")), ("type", B("string"))]),
                            M(&[
                                ("name", B("arg")),
                                ("type", B("string")),
                                ("flags", T(&[S("optional"), S("multiple")])),
                            ]),
                        ]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "acl|log",
                arity: -2,
                flags: &["admin", "noscript", "loading", "stale"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("List latest events denied because of ACLs in place"),
                    ),
                    ("since", B("6.0.0")),
                    ("group", B("server")),
                    (
                        "complexity",
                        B("O(N) with N being the number of entries shown."),
                    ),
                    (
                        "arguments",
                        A(&[M(&[
                            ("name", B("operation")),
                            ("type", B("oneof")),
                            ("flags", T(&[S("optional")])),
                            (
                                "arguments",
                                A(&[
                                    M(&[("name", B("count")), ("type", B("integer"))]),
                                    M(&[
                                        ("name", B("reset")),
                                        ("type", B("pure-token")),
                                        ("token", B("RESET")),
                                    ]),
                                ]),
                            ),
                        ])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "acl|genpass",
                arity: -2,
                flags: &["noscript", "loading", "stale"],
                acl: &["@slow"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Generate a pseudorandom secure password to use for ACL users"),
                    ),
                    ("since", B("6.0.0")),
                    ("group", B("server")),
                    ("complexity", B("O(1)")),
                    (
                        "arguments",
                        A(&[M(&[
                            ("name", B("bits")),
                            ("type", B("integer")),
                            ("flags", T(&[S("optional")])),
                        ])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "acl|help",
                arity: 2,
                flags: &["loading", "stale"],
                acl: &["@slow"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Show helpful text about the different subcommands"),
                    ),
                    ("since", B("6.0.0")),
                    ("group", B("server")),
                    ("complexity", B("O(1)")),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "acl|setuser",
                arity: -3,
                flags: &["admin", "noscript", "loading", "stale"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Modify or create the rules for a specific ACL user"),
                    ),
                    ("since", B("6.0.0")),
                    ("group", B("server")),
                    (
                        "complexity",
                        B("O(N). Where N is the number of rules provided."),
                    ),
                    (
                        "history",
                        T(&[
                            A(&[B("6.2.0"), B("Added Pub/Sub channel patterns.")]),
                            A(&[B("7.0.0"), B("Added selectors and key based permissions.")]),
                        ]),
                    ),
                    (
                        "arguments",
                        A(&[
                            M(&[("name", B("username")), ("type", B("string"))]),
                            M(&[
                                ("name", B("rule")),
                                ("type", B("string")),
                                ("flags", T(&[S("optional"), S("multiple")])),
                            ]),
                        ]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "acl|deluser",
                arity: -3,
                flags: &["admin", "noscript", "loading", "stale"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Remove the specified ACL users and the associated rules"),
                    ),
                    ("since", B("6.0.0")),
                    ("group", B("server")),
                    (
                        "complexity",
                        B("O(1) amortized time considering the typical user."),
                    ),
                    (
                        "arguments",
                        A(&[M(&[
                            ("name", B("username")),
                            ("type", B("string")),
                            ("flags", T(&[S("multiple")])),
                        ])]),
                    ),
                ],
                subs: &[],
            },
        ],
    },
    CmdSpec {
        name: "info",
        arity: -1,
        flags: &["loading", "stale"],
        acl: &["@slow", "@dangerous"],
        tips: &[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ],
        docs: &[
            (
                "summary",
                B("Get information and statistics about the server"),
            ),
            ("since", B("1.0.0")),
            ("group", B("server")),
            ("complexity", B("O(1)")),
            (
                "history",
                T(&[A(&[
                    B("7.0.0"),
                    B("Added support for taking multiple section arguments."),
                ])]),
            ),
            (
                "arguments",
                A(&[M(&[
                    ("name", B("section")),
                    ("type", B("string")),
                    ("flags", T(&[S("optional"), S("multiple")])),
                ])]),
            ),
        ],
        subs: &[],
    },
    CmdSpec {
        name: "role",
        arity: 1,
        flags: &["noscript", "loading", "stale", "fast"],
        acl: &["@admin", "@fast", "@dangerous"],
        tips: &[],
        docs: &[
            (
                "summary",
                B("Return the role of the instance in the context of replication"),
            ),
            ("since", B("2.8.12")),
            ("group", B("server")),
            ("complexity", B("O(1)")),
        ],
        subs: &[],
    },
    CmdSpec {
        name: "sentinel",
        arity: -2,
        flags: &["admin"],
        acl: &["@admin", "@slow", "@dangerous"],
        tips: &[],
        docs: &[
            ("summary", B("A container for Sentinel commands")),
            ("since", B("2.8.4")),
            ("group", B("sentinel")),
            ("complexity", B("Depends on subcommand.")),
        ],
        subs: &[
            CmdSpec {
                name: "sentinel|simulate-failure",
                arity: -3,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    ("summary", B("Simulate failover scenarios")),
                    ("since", B("3.2.0")),
                    ("group", B("sentinel")),
                    (
                        "arguments",
                        A(&[M(&[
                            ("name", B("mode")),
                            ("type", B("oneof")),
                            ("flags", T(&[S("optional"), S("multiple")])),
                            (
                                "arguments",
                                A(&[
                                    M(&[
                                        ("name", B("crash-after-election")),
                                        ("type", B("pure-token")),
                                    ]),
                                    M(&[
                                        ("name", B("crash-after-promotion")),
                                        ("type", B("pure-token")),
                                    ]),
                                    M(&[("name", B("help")), ("type", B("pure-token"))]),
                                ]),
                            ),
                        ])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|ckquorum",
                arity: 3,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    ("summary", B("Check for a Sentinel quorum")),
                    ("since", B("2.8.4")),
                    ("group", B("sentinel")),
                    (
                        "arguments",
                        A(&[M(&[("name", B("master-name")), ("type", B("string"))])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|replicas",
                arity: 3,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    ("summary", B("List the monitored replicas")),
                    ("since", B("5.0.0")),
                    ("group", B("sentinel")),
                    ("complexity", B("O(N) where N is the number of replicas")),
                    (
                        "arguments",
                        A(&[M(&[("name", B("master-name")), ("type", B("string"))])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|slaves",
                arity: 3,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    ("summary", B("List the monitored slaves")),
                    ("since", B("2.8.0")),
                    ("group", B("sentinel")),
                    ("complexity", B("O(N) where N is the number of slaves")),
                    ("doc_flags", T(&[S("deprecated")])),
                    ("deprecated_since", B("5.0.0")),
                    ("replaced_by", B("`SENTINEL REPLICAS`")),
                    (
                        "arguments",
                        A(&[M(&[("name", B("master-name")), ("type", B("string"))])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|sentinels",
                arity: 3,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    ("summary", B("List the Sentinel instances")),
                    ("since", B("2.8.4")),
                    ("group", B("sentinel")),
                    ("complexity", B("O(N) where N is the number of Sentinels")),
                    (
                        "arguments",
                        A(&[M(&[("name", B("master-name")), ("type", B("string"))])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|get-master-addr-by-name",
                arity: 3,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    ("summary", B("Get port and address of a master")),
                    ("since", B("2.8.4")),
                    ("group", B("sentinel")),
                    ("complexity", B("O(1)")),
                    (
                        "arguments",
                        A(&[M(&[("name", B("master-name")), ("type", B("string"))])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|set",
                arity: -5,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Change the configuration of a monitored master"),
                    ),
                    ("since", B("2.8.4")),
                    ("group", B("sentinel")),
                    ("complexity", B("O(1)")),
                    (
                        "arguments",
                        A(&[
                            M(&[("name", B("master-name")), ("type", B("string"))]),
                            M(&[
                                ("name", B("option_value")),
                                ("type", B("block")),
                                ("flags", T(&[S("multiple")])),
                                (
                                    "arguments",
                                    A(&[
                                        M(&[("name", B("option")), ("type", B("string"))]),
                                        M(&[("name", B("value")), ("type", B("string"))]),
                                    ]),
                                ),
                            ]),
                        ]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|pending-scripts",
                arity: 2,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    ("summary", B("Get information about pending scripts")),
                    ("since", B("2.8.4")),
                    ("group", B("sentinel")),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|reset",
                arity: 3,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    ("summary", B("Reset masters by name pattern")),
                    ("since", B("2.8.4")),
                    ("group", B("sentinel")),
                    (
                        "complexity",
                        B("O(N) where N is the number of monitored masters"),
                    ),
                    (
                        "arguments",
                        A(&[M(&[("name", B("pattern")), ("type", B("pattern"))])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|remove",
                arity: 3,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    ("summary", B("Stop monitoring")),
                    ("since", B("2.8.4")),
                    ("group", B("sentinel")),
                    ("complexity", B("O(1)")),
                    (
                        "arguments",
                        A(&[M(&[("name", B("master-name")), ("type", B("string"))])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|flushconfig",
                arity: 2,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    ("summary", B("Rewrite configuration file")),
                    ("since", B("2.8.4")),
                    ("group", B("sentinel")),
                    ("complexity", B("O(1)")),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|monitor",
                arity: 6,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    ("summary", B("Start monitoring")),
                    ("since", B("2.8.4")),
                    ("group", B("sentinel")),
                    ("complexity", B("O(1)")),
                    (
                        "arguments",
                        A(&[
                            M(&[("name", B("name")), ("type", B("string"))]),
                            M(&[("name", B("ip")), ("type", B("string"))]),
                            M(&[("name", B("port")), ("type", B("integer"))]),
                            M(&[("name", B("quorum")), ("type", B("integer"))]),
                        ]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|help",
                arity: 2,
                flags: &["loading", "stale"],
                acl: &["@slow"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Show helpful text about the different subcommands"),
                    ),
                    ("since", B("6.2.0")),
                    ("group", B("sentinel")),
                    ("complexity", B("O(1)")),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|config",
                arity: -3,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    ("summary", B("Configure Sentinel")),
                    ("since", B("6.2.0")),
                    ("group", B("sentinel")),
                    ("complexity", B("O(1)")),
                    (
                        "arguments",
                        A(&[M(&[
                            ("name", B("set_or_get")),
                            ("type", B("oneof")),
                            (
                                "arguments",
                                A(&[
                                    M(&[
                                        ("name", B("set_param_value")),
                                        ("type", B("block")),
                                        ("token", B("SET")),
                                        ("flags", T(&[S("multiple")])),
                                        (
                                            "arguments",
                                            A(&[
                                                M(&[
                                                    ("name", B("parameter")),
                                                    ("type", B("string")),
                                                ]),
                                                M(&[("name", B("value")), ("type", B("string"))]),
                                            ]),
                                        ),
                                    ]),
                                    M(&[
                                        ("name", B("parameter")),
                                        ("type", B("string")),
                                        ("token", B("GET")),
                                        ("flags", T(&[S("multiple")])),
                                    ]),
                                ]),
                            ),
                        ])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|masters",
                arity: 2,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    ("summary", B("List the monitored masters")),
                    ("since", B("2.8.4")),
                    ("group", B("sentinel")),
                    ("complexity", B("O(N) where N is the number of masters")),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|myid",
                arity: 2,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    ("summary", B("Get the Sentinel instance ID")),
                    ("since", B("6.2.0")),
                    ("group", B("sentinel")),
                    ("complexity", B("O(1)")),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|info-cache",
                arity: -3,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Get cached INFO from the instances in the deployment"),
                    ),
                    ("since", B("3.2.0")),
                    ("group", B("sentinel")),
                    ("complexity", B("O(N) where N is the number of instances")),
                    (
                        "arguments",
                        A(&[M(&[
                            ("name", B("nodename")),
                            ("type", B("string")),
                            ("flags", T(&[S("multiple")])),
                        ])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|failover",
                arity: 3,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    ("summary", B("Force a failover")),
                    ("since", B("2.8.4")),
                    ("group", B("sentinel")),
                    (
                        "arguments",
                        A(&[M(&[("name", B("master-name")), ("type", B("string"))])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|is-master-down-by-addr",
                arity: 6,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    ("summary", B("Check if a master is down")),
                    ("since", B("2.8.4")),
                    ("group", B("sentinel")),
                    ("complexity", B("O(1)")),
                    (
                        "arguments",
                        A(&[
                            M(&[("name", B("ip")), ("type", B("string"))]),
                            M(&[("name", B("port")), ("type", B("integer"))]),
                            M(&[("name", B("current-epoch")), ("type", B("integer"))]),
                            M(&[("name", B("runid")), ("type", B("string"))]),
                        ]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|master",
                arity: 3,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    ("summary", B("Shows the state of a master")),
                    ("since", B("2.8.4")),
                    ("group", B("sentinel")),
                    ("complexity", B("O(1)")),
                    (
                        "arguments",
                        A(&[M(&[("name", B("master-name")), ("type", B("string"))])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "sentinel|debug",
                arity: -2,
                flags: &["admin"],
                acl: &["@admin", "@slow", "@dangerous"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("List or update the current configurable parameters"),
                    ),
                    ("since", B("7.0.0")),
                    ("group", B("sentinel")),
                    (
                        "complexity",
                        B("O(N) where N is the number of configurable parameters"),
                    ),
                    (
                        "arguments",
                        A(&[M(&[
                            ("name", B("parameter_value")),
                            ("type", B("block")),
                            ("flags", T(&[S("multiple")])),
                            (
                                "arguments",
                                A(&[
                                    M(&[("name", B("parameter")), ("type", B("string"))]),
                                    M(&[("name", B("value")), ("type", B("string"))]),
                                ]),
                            ),
                        ])]),
                    ),
                ],
                subs: &[],
            },
        ],
    },
    CmdSpec {
        name: "hello",
        arity: -1,
        flags: &[
            "noscript",
            "loading",
            "stale",
            "fast",
            "no_auth",
            "allow_busy",
        ],
        acl: &["@fast", "@connection"],
        tips: &[],
        docs: &[
            ("summary", B("Handshake with Redis")),
            ("since", B("6.0.0")),
            ("group", B("connection")),
            ("complexity", B("O(1)")),
            (
                "history",
                T(&[A(&[
                    B("6.2.0"),
                    B(
                        "`protover` made optional; when called without arguments the command reports the current connection's context.",
                    ),
                ])]),
            ),
            (
                "arguments",
                A(&[M(&[
                    ("name", B("arguments")),
                    ("type", B("block")),
                    ("flags", T(&[S("optional")])),
                    (
                        "arguments",
                        A(&[
                            M(&[("name", B("protover")), ("type", B("integer"))]),
                            M(&[
                                ("name", B("username_password")),
                                ("type", B("block")),
                                ("token", B("AUTH")),
                                ("flags", T(&[S("optional")])),
                                (
                                    "arguments",
                                    A(&[
                                        M(&[("name", B("username")), ("type", B("string"))]),
                                        M(&[("name", B("password")), ("type", B("string"))]),
                                    ]),
                                ),
                            ]),
                            M(&[
                                ("name", B("clientname")),
                                ("type", B("string")),
                                ("token", B("SETNAME")),
                                ("flags", T(&[S("optional")])),
                            ]),
                        ]),
                    ),
                ])]),
            ),
        ],
        subs: &[],
    },
    CmdSpec {
        name: "ping",
        arity: -1,
        flags: &["fast"],
        acl: &["@fast", "@connection"],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        docs: &[
            ("summary", B("Ping the server")),
            ("since", B("1.0.0")),
            ("group", B("connection")),
            ("complexity", B("O(1)")),
            (
                "arguments",
                A(&[M(&[
                    ("name", B("message")),
                    ("type", B("string")),
                    ("flags", T(&[S("optional")])),
                ])]),
            ),
        ],
        subs: &[],
    },
    CmdSpec {
        name: "psubscribe",
        arity: -2,
        flags: &["pubsub", "noscript", "loading", "stale"],
        acl: &["@pubsub", "@slow"],
        tips: &[],
        docs: &[
            (
                "summary",
                B("Listen for messages published to channels matching the given patterns"),
            ),
            ("since", B("2.0.0")),
            ("group", B("pubsub")),
            (
                "complexity",
                B("O(N) where N is the number of patterns the client is already subscribed to."),
            ),
            (
                "arguments",
                A(&[M(&[
                    ("name", B("pattern")),
                    ("type", B("block")),
                    ("flags", T(&[S("multiple")])),
                    (
                        "arguments",
                        A(&[M(&[("name", B("pattern")), ("type", B("pattern"))])]),
                    ),
                ])]),
            ),
        ],
        subs: &[],
    },
    CmdSpec {
        name: "unsubscribe",
        arity: -1,
        flags: &["pubsub", "noscript", "loading", "stale"],
        acl: &["@pubsub", "@slow"],
        tips: &[],
        docs: &[
            (
                "summary",
                B("Stop listening for messages posted to the given channels"),
            ),
            ("since", B("2.0.0")),
            ("group", B("pubsub")),
            (
                "complexity",
                B("O(N) where N is the number of clients already subscribed to a channel."),
            ),
            (
                "arguments",
                A(&[M(&[
                    ("name", B("channel")),
                    ("type", B("string")),
                    ("flags", T(&[S("optional"), S("multiple")])),
                ])]),
            ),
        ],
        subs: &[],
    },
    CmdSpec {
        name: "publish",
        arity: 3,
        flags: &["pubsub", "loading", "stale", "fast"],
        acl: &["@pubsub", "@fast"],
        tips: &[],
        docs: &[
            ("summary", B("Post a message to a channel")),
            ("since", B("2.0.0")),
            ("group", B("pubsub")),
            (
                "complexity",
                B(
                    "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
                ),
            ),
            (
                "arguments",
                A(&[
                    M(&[("name", B("channel")), ("type", B("string"))]),
                    M(&[("name", B("message")), ("type", B("string"))]),
                ]),
            ),
        ],
        subs: &[],
    },
    CmdSpec {
        name: "command",
        arity: -1,
        flags: &["loading", "stale"],
        acl: &["@slow", "@connection"],
        tips: &["nondeterministic_output_order"],
        docs: &[
            ("summary", B("Get array of Redis command details")),
            ("since", B("2.8.13")),
            ("group", B("server")),
            (
                "complexity",
                B("O(N) where N is the total number of Redis commands"),
            ),
        ],
        subs: &[
            CmdSpec {
                name: "command|info",
                arity: -2,
                flags: &["loading", "stale"],
                acl: &["@slow", "@connection"],
                tips: &["nondeterministic_output_order"],
                docs: &[
                    (
                        "summary",
                        B(
                            "Get array of specific Redis command details, or all when no argument is given.",
                        ),
                    ),
                    ("since", B("2.8.13")),
                    ("group", B("server")),
                    (
                        "complexity",
                        B("O(N) where N is the number of commands to look up"),
                    ),
                    (
                        "history",
                        T(&[A(&[
                            B("7.0.0"),
                            B("Allowed to be called with no argument to get info on all commands."),
                        ])]),
                    ),
                    (
                        "arguments",
                        A(&[M(&[
                            ("name", B("command-name")),
                            ("type", B("string")),
                            ("flags", T(&[S("optional"), S("multiple")])),
                        ])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "command|list",
                arity: -2,
                flags: &["loading", "stale"],
                acl: &["@slow", "@connection"],
                tips: &["nondeterministic_output_order"],
                docs: &[
                    ("summary", B("Get an array of Redis command names")),
                    ("since", B("7.0.0")),
                    ("group", B("server")),
                    (
                        "complexity",
                        B("O(N) where N is the total number of Redis commands"),
                    ),
                    (
                        "arguments",
                        A(&[M(&[
                            ("name", B("filterby")),
                            ("type", B("oneof")),
                            ("token", B("FILTERBY")),
                            ("flags", T(&[S("optional")])),
                            (
                                "arguments",
                                A(&[
                                    M(&[
                                        ("name", B("module-name")),
                                        ("type", B("string")),
                                        ("token", B("MODULE")),
                                    ]),
                                    M(&[
                                        ("name", B("category")),
                                        ("type", B("string")),
                                        ("token", B("ACLCAT")),
                                    ]),
                                    M(&[
                                        ("name", B("pattern")),
                                        ("type", B("pattern")),
                                        ("token", B("PATTERN")),
                                    ]),
                                ]),
                            ),
                        ])]),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "command|count",
                arity: 2,
                flags: &["loading", "stale"],
                acl: &["@slow", "@connection"],
                tips: &[],
                docs: &[
                    ("summary", B("Get total number of Redis commands")),
                    ("since", B("2.8.13")),
                    ("group", B("server")),
                    ("complexity", B("O(1)")),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "command|getkeys",
                arity: -4,
                flags: &["loading", "stale"],
                acl: &["@slow", "@connection"],
                tips: &[],
                docs: &[
                    ("summary", B("Extract keys given a full Redis command")),
                    ("since", B("2.8.13")),
                    ("group", B("server")),
                    (
                        "complexity",
                        B("O(N) where N is the number of arguments to the command"),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "command|help",
                arity: 2,
                flags: &["loading", "stale"],
                acl: &["@slow", "@connection"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Show helpful text about the different subcommands"),
                    ),
                    ("since", B("5.0.0")),
                    ("group", B("server")),
                    ("complexity", B("O(1)")),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "command|getkeysandflags",
                arity: -4,
                flags: &["loading", "stale"],
                acl: &["@slow", "@connection"],
                tips: &[],
                docs: &[
                    (
                        "summary",
                        B("Extract keys and access flags given a full Redis command"),
                    ),
                    ("since", B("7.0.0")),
                    ("group", B("server")),
                    (
                        "complexity",
                        B("O(N) where N is the number of arguments to the command"),
                    ),
                ],
                subs: &[],
            },
            CmdSpec {
                name: "command|docs",
                arity: -2,
                flags: &["loading", "stale"],
                acl: &["@slow", "@connection"],
                tips: &["nondeterministic_output_order"],
                docs: &[
                    (
                        "summary",
                        B("Get array of specific Redis command documentation"),
                    ),
                    ("since", B("7.0.0")),
                    ("group", B("server")),
                    (
                        "complexity",
                        B("O(N) where N is the number of commands to look up"),
                    ),
                    (
                        "arguments",
                        A(&[M(&[
                            ("name", B("command-name")),
                            ("type", B("string")),
                            ("flags", T(&[S("optional"), S("multiple")])),
                        ])]),
                    ),
                ],
                subs: &[],
            },
        ],
    },
];
