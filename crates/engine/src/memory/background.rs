//! The browser's Background Fetch in memory: fetches are recorded when started and delivered
//! when a test says so, from the fetcher's content, as the browser would hand them over.

use super::{Bytes, MemFetcher};
use crate::ports::{Delivered, Fetched};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

/// What the in-memory browser's Background Fetch holds.
#[derive(Default)]
pub struct MemBackground {
    /// Whether the browser has Background Fetch.
    pub available: Cell<bool>,
    /// When set, the browser refuses every new background fetch with this reason.
    pub refuse: RefCell<Option<String>>,
    /// The fetches still out, by id: their URLs.
    pub out: RefCell<BTreeMap<String, Vec<String>>>,
    /// Every fetch started, in order: id and URLs.
    pub started: RefCell<Vec<(String, Vec<String>)>>,
    /// Every fetch aborted, in order.
    pub aborted: RefCell<Vec<String>>,
}

impl MemFetcher {
    /// Starts background fetch `id` as a page's `backgroundFetch.fetch(id, urls)` does; `Err`
    /// with the browser's reason when it refuses.
    pub fn start_background(&self, id: &str, urls: &[String]) -> Result<(), String> {
        if let Some(why) = self.background.refuse.borrow().clone() {
            return Err(why);
        }
        if !self.background.available.get() || self.background.out.borrow().contains_key(id) {
            return Err(format!("TypeError: no background fetch {id} can start"));
        }
        self.background
            .started
            .borrow_mut()
            .push((id.to_string(), urls.to_vec()));
        self.background
            .out
            .borrow_mut()
            .insert(id.to_string(), urls.to_vec());
        Ok(())
    }

    /// Ends background fetch `id` as the browser does once every request answered: it is no
    /// longer out, and its responses are what the worker's `backgroundfetchsuccess` handler
    /// reads. Unknown ids deliver nothing.
    pub fn finish_background(&self, id: &str) -> Vec<Delivered<Bytes>> {
        let urls = self
            .background
            .out
            .borrow_mut()
            .remove(id)
            .unwrap_or_default();
        urls.into_iter()
            .map(|url| {
                let final_url = self.redirects.borrow().get(&url).cloned();
                let response =
                    self.serve(final_url.as_deref().unwrap_or(&url))
                        .map(|(body, truncate)| {
                            let mut body = body;
                            if let Some(n) = truncate {
                                body.truncate(n);
                            }
                            Fetched {
                                body: Bytes(Rc::new(body)),
                                content_type: None,
                                final_url,
                            }
                        });
                Delivered { url, response }
            })
            .collect()
    }

    /// The ids of the background fetches still out, oldest first.
    pub fn background_ids(&self) -> Vec<String> {
        let started = self.background.started.borrow();
        let out = self.background.out.borrow();
        started
            .iter()
            .filter(|(id, _)| out.contains_key(id))
            .map(|(id, _)| id.clone())
            .collect()
    }
}
