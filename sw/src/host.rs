//! The engine's `Host` in a service worker: time, timers, tasks, and events broadcast to every
//! window client.

use engine::ports::{Host, LockGuard};
use engine::{Event, EventMessage};
use futures::future::{FutureExt, LocalBoxFuture};
use js_sys::{Function, Object, Promise, Reflect};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ClientQueryOptions, ClientType, ServiceWorkerGlobalScope};

/// The worker's host.
pub struct WebHost;

impl Host for WebHost {
    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    fn sleep(&self, ms: u32) -> LocalBoxFuture<'static, ()> {
        gloo_timers::future::TimeoutFuture::new(ms).boxed_local()
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }

    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        wasm_bindgen_futures::spawn_local(task);
    }

    fn emit(&self, event: Event) {
        let Ok(text) = serde_json::to_string(&EventMessage {
            kind: "event",
            event: &event,
        }) else {
            return;
        };
        let Ok(message) = js_sys::JSON::parse(&text) else {
            return;
        };
        wasm_bindgen_futures::spawn_local(broadcast(message));
    }

    fn online(&self) -> bool {
        let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
        scope.navigator().on_line()
    }

    fn try_lock(&self, name: &str) -> LocalBoxFuture<'static, Option<LockGuard>> {
        web_lock(name.to_string()).boxed_local()
    }

    fn memory_bytes(&self) -> Option<u64> {
        let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
        let buffer: js_sys::ArrayBuffer = memory.buffer().unchecked_into();
        Some(u64::from(buffer.byte_length()))
    }
}

/// Resolves the promise that holds a Web Lock when dropped, releasing the lock.
struct Release(Function);

impl Drop for Release {
    fn drop(&mut self) {
        let _ = self.0.call0(&JsValue::UNDEFINED);
    }
}

/// `navigator.locks.request(name, {ifAvailable: true}, ...)`, holding the lock until the guard
/// is dropped (or the worker stops: the browser then releases it). Where Web Locks are missing
/// the lock is granted: one worker still never runs a job twice (its own map of running jobs).
async fn web_lock(name: String) -> Option<LockGuard> {
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let locks = Reflect::get(&scope.navigator(), &"locks".into()).ok();
    let request = locks
        .as_ref()
        .and_then(|l| Reflect::get(l, &"request".into()).ok())
        .and_then(|r| r.dyn_into::<Function>().ok());
    let (Some(locks), Some(request)) = (locks, request) else {
        return Some(LockGuard(Box::new(())));
    };
    let mut resolve_release: Option<Function> = None;
    let held = Promise::new(&mut |resolve, _| resolve_release = Some(resolve));
    let release = resolve_release?;
    let (tx, rx) = futures::channel::oneshot::channel::<bool>();
    let tx = Rc::new(RefCell::new(Some(tx)));
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        let granted = !lock.is_null() && !lock.is_undefined();
        if let Some(tx) = tx.borrow_mut().take() {
            let _ = tx.send(granted);
        }
        if granted {
            held.into()
        } else {
            JsValue::UNDEFINED
        }
    });
    let options = Object::new();
    let _ = Reflect::set(&options, &"ifAvailable".into(), &JsValue::TRUE);
    if request
        .call3(&locks, &name.into(), &options, &callback)
        .is_err()
    {
        return Some(LockGuard(Box::new(())));
    }
    match rx.await {
        Ok(true) => Some(LockGuard(Box::new(Release(release)))),
        _ => None,
    }
}

/// Posts a message to every window client of this worker, controlled or not.
pub async fn broadcast(message: JsValue) {
    let scope: ServiceWorkerGlobalScope = js_sys::global().unchecked_into();
    let options = ClientQueryOptions::new();
    options.set_type(ClientType::Window);
    options.set_include_uncontrolled(true);
    let Ok(list) = JsFuture::from(scope.clients().match_all_with_options(&options)).await else {
        return;
    };
    for client in js_sys::Array::from(&list).iter() {
        let client: web_sys::Client = client.unchecked_into();
        // A client that closed in the meantime just misses the event.
        let _ = client.post_message(&message);
    }
}
