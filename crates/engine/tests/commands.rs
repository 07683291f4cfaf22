//! Every command answers with the type the protocol declares for it (`protocol::ANSWERS`, from
//! which the page shim's `CommandResults` is generated): `World::run` checks each answer, and
//! this test sends every command type at least once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a panic is a failed test"
)]

mod common;

use common::world;
use engine::protocol::ANSWERS;
use engine::Command;
use serde_json::json;
use std::collections::HashSet;

#[test]
fn every_command_answers_with_the_type_the_protocol_declares() {
    let mut w = world();
    let id = || "e1".to_string();
    let config = json!({"sources": {"dash": [{"url": common::MANIFEST}]}});
    let commands = vec![
        Command::Ping,
        Command::Prepare {
            entry_id: id(),
            config: config.clone(),
        },
        Command::Protection {
            entry_id: id(),
            options: None,
        },
        Command::KeepSessions {
            entry_id: id(),
            sessions: Vec::new(),
        },
        Command::Download {
            entry_id: id(),
            options: None,
        },
        Command::BackgroundPlan { entry_id: id() },
        Command::BackgroundStarted {
            entry_id: id(),
            started: Vec::new(),
            refused: None,
        },
        Command::Pause { entry_id: id() },
        Command::PauseAll,
        Command::Resume { entry_id: id() },
        Command::Get { entry_id: id() },
        Command::Verify {
            entry_id: id(),
            repair: None,
        },
        Command::List,
        Command::Listing { since: None },
        Command::Remove { entry_id: id() },
        Command::Prepare {
            entry_id: id(),
            config,
        },
        Command::RemoveAll,
    ];
    let mut sent = HashSet::new();
    for command in commands {
        sent.insert(command.kind());
        let kind = command.kind();
        w.run(command)
            .unwrap_or_else(|e| panic!("{kind} failed: {e}"));
    }
    // `renew` of clear content is refused (9016); its answer type is checked where a licence is
    // renewed (tests/licenses.rs).
    let refused = w.run(Command::Renew {
        entry_id: "none".into(),
        config: None,
    });
    assert!(refused.is_err());
    sent.insert("renew");
    let declared: HashSet<&str> = ANSWERS.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        sent, declared,
        "every command type is sent, and declared once"
    );
    assert_eq!(declared.len(), ANSWERS.len());
}
