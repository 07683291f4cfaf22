//! The in-memory world the engine's native tests run in: a fetcher with an ffmpeg-made
//! SegmentTemplate stream, a store, a host with a manual clock, and a manager over them.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "shared by the test files, each of which uses its own part; a panic is a failed test"
)]

pub mod single_file;

use engine::memory::{MemFetcher, MemHost, MemStore};
use engine::{Command, JobConfig, Manager, State, StopReason};
use futures::executor::LocalPool;
use serde_json::{json, Value};
use std::rc::Rc;

pub const MANIFEST: &str = "http://media.test/s/manifest.mpd";
/// The manifest of [`protected_world`], and the licence server and key ID it names.
pub const PROTECTED: &str = "http://media.test/s/protected.mpd";
pub const LICENSE: &str = "http://license.test/clearkey";
pub const KID_UUID: &str = "10000000-1000-1000-1000-100000000001";

pub struct World {
    pub pool: LocalPool,
    pub fetcher: Rc<MemFetcher>,
    pub store: Rc<MemStore>,
    pub host: Rc<MemHost>,
    pub manager: Rc<Manager<MemFetcher, MemStore, MemHost>>,
}

/// The template stream (3 representations × init + 6 segments) with concurrency 3, batch 2.
pub fn world() -> World {
    world_with(JobConfig {
        concurrency: 3,
        batch: 2,
        ..JobConfig::default()
    })
}

/// The template stream with a given scheduler configuration.
pub fn world_with(cfg: JobConfig) -> World {
    let pool = LocalPool::new();
    let fetcher = Rc::new(MemFetcher::default());
    fetcher.put(MANIFEST, include_str!("../ffmpeg-template.mpd"));
    for rep in 0..3 {
        fetcher.put(
            &format!("http://media.test/s/init-stream{rep}.m4s"),
            vec![rep as u8; 700],
        );
        for n in 1..=6 {
            fetcher.put(
                &format!("http://media.test/s/chunk-stream{rep}-{n:05}.m4s"),
                vec![n as u8; 10_000 + n * 10],
            );
        }
    }
    worker(pool, fetcher, Rc::new(MemStore::default()), cfg)
}

/// The template stream, also at [`PROTECTED`] with `systems` (ContentProtection elements)
/// on both AdaptationSets.
pub fn protected_world(systems: &str) -> World {
    let mpd = include_str!("../ffmpeg-template.mpd")
        .replace(
            "xmlns=\"urn:mpeg:dash:schema:mpd:2011\"",
            "xmlns=\"urn:mpeg:dash:schema:mpd:2011\" xmlns:cenc=\"urn:mpeg:cenc:2013\"",
        )
        .replace(
            "\t\t\t<Representation id=\"0\"",
            &format!("{systems}\n\t\t\t<Representation id=\"0\""),
        )
        .replace(
            "\t\t\t<Representation id=\"2\"",
            &format!("{systems}\n\t\t\t<Representation id=\"2\""),
        );
    let w = world();
    w.fetcher.put(PROTECTED, mpd);
    w
}

/// A worker (host and manager on `pool`) over a fetcher and a store.
fn worker(pool: LocalPool, fetcher: Rc<MemFetcher>, store: Rc<MemStore>, cfg: JobConfig) -> World {
    let host = MemHost::new(&pool);
    let manager = Manager::new(
        fetcher.clone(),
        store.clone(),
        host.clone(),
        "https://app.test/".into(),
        cfg,
    );
    World {
        pool,
        fetcher,
        store,
        host,
        manager,
    }
}

impl World {
    /// Runs a command; gives its answer as pages receive it (JSON), after checking that the
    /// answer has the type the protocol declares for the command (`protocol::ANSWERS`).
    pub fn run(&mut self, command: Command) -> Result<Value, engine::KalturaError> {
        let m = self.manager.clone();
        let kind = command.kind();
        let answer = self
            .pool
            .run_until(async move { m.handle(command).await })?;
        let declared = engine::protocol::ANSWERS
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, t)| *t);
        assert_eq!(Some(answer.type_name()), declared, "the answer to {kind}");
        Ok(serde_json::to_value(answer).expect("answers serialise"))
    }

    /// Prepares `id` with `config` and starts its download; returns the download's answer.
    pub fn start(&mut self, id: &str, config: Value) -> Result<Value, engine::KalturaError> {
        self.start_with(id, config, None)
    }

    /// Same, with download options.
    pub fn start_with(
        &mut self,
        id: &str,
        config: Value,
        options: Option<mpd::SelectOptions>,
    ) -> Result<Value, engine::KalturaError> {
        self.run(Command::Prepare {
            entry_id: id.into(),
            config,
        })?;
        self.run(Command::Download {
            entry_id: id.into(),
            options,
        })
    }

    pub fn prepare_and_download(&mut self, id: &str) -> Value {
        self.start(id, json!({"sources": {"dash": [{"url": MANIFEST}]}}))
            .unwrap()
    }

    pub fn state(&self, id: &str) -> (State, Option<StopReason>) {
        let e = self.store.entries.borrow().get(id).cloned().unwrap();
        (e.state, e.stop_reason)
    }

    /// Stored records (chunks) of an entry.
    pub fn stored(&self, id: &str) -> usize {
        self.store
            .segments
            .borrow()
            .keys()
            .filter(|k| k.0 == id)
            .count()
    }

    /// The same store and fetcher seen by a fresh worker (the old one was killed).
    pub fn restarted(self, cfg: JobConfig) -> World {
        let World { fetcher, store, .. } = self;
        worker(LocalPool::new(), fetcher, store, cfg)
    }

    /// Runs the worker's tasks until the store has taken `n` commits.
    pub fn run_until_commits(&mut self, n: u32) {
        let store = self.store.clone();
        let mut polls = 0u32;
        self.pool.run_until(futures::future::poll_fn(move |cx| {
            polls += 1;
            assert!(polls < 100_000, "the worker stalled before commit {n}");
            if store.commits.get() >= n {
                std::task::Poll::Ready(())
            } else {
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
        }));
    }

    /// Runs `resume_unfinished` as a waking event does; returns how many jobs started.
    pub fn wake(&mut self) -> usize {
        let m = self.manager.clone();
        self.pool
            .run_until(async move { m.resume_unfinished().await })
            .unwrap()
            .started
    }
}
