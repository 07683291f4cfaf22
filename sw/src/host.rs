//! The engine's `Host` in a service worker: time, timers, tasks, and events broadcast to every
//! window client.

use engine::ports::Host;
use engine::{Event, EventMessage};
use futures::future::{FutureExt, LocalBoxFuture};
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
