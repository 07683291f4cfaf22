//! DASH segment encryption in the worker with WebCrypto: the key is fetched and imported as a
//! non-extractable AES-CBC `CryptoKey` (its 16 bytes go fetch → ArrayBuffer → `importKey`, all
//! in JS), and a segment goes Blob → ArrayBuffer → `crypto.subtle.decrypt` → Blob, so neither
//! keys nor segment bytes enter wasm memory (which never shrinks). WebCrypto checks and removes
//! the PKCS#7 padding; a wrong key almost always shows up as bad padding.

use super::{js_err, scope, send, within_inactivity};
use crate::body::BlobBody;
use engine::ports::{DecryptError, KeyError};
use engine::FetchError;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AesCbcParams, Blob, BlobPropertyBag, CryptoKey, SubtleCrypto};

/// The worker's `crypto.subtle`.
fn subtle() -> Result<SubtleCrypto, String> {
    scope()
        .crypto()
        .map(|c| c.subtle())
        .map_err(|e| format!("no WebCrypto in this worker ({})", js_err(e)))
}

/// Fetches the key at `url` (`cache: 'no-store'`: keys are kept nowhere) and imports it.
pub(super) async fn fetch_key(url: &str) -> Result<CryptoKey, KeyError> {
    let resp = send(url, None).await.map_err(KeyError::Fetch)?;
    let promise = resp
        .array_buffer()
        .map_err(|e| KeyError::Fetch(FetchError::Network(js_err(e))))?;
    let buffer: js_sys::ArrayBuffer = within_inactivity(promise)
        .await
        .map_err(KeyError::Fetch)?
        .unchecked_into();
    if buffer.byte_length() != 16 {
        return Err(KeyError::Unusable(format!(
            "{} bytes, not 16",
            buffer.byte_length()
        )));
    }
    let algorithm = js_sys::Object::new();
    js_sys::Reflect::set(&algorithm, &"name".into(), &"AES-CBC".into())
        .map_err(|e| KeyError::Unusable(js_err(e)))?;
    let usages = js_sys::Array::of1(&"decrypt".into());
    let import = subtle()
        .map_err(KeyError::Unusable)?
        .import_key_with_object("raw", &buffer, &algorithm, false, &usages)
        .map_err(|e| KeyError::Unusable(js_err(e)))?;
    let key = JsFuture::from(import)
        .await
        .map_err(|e| KeyError::Unusable(js_err(e)))?;
    Ok(key.unchecked_into())
}

/// A WebCrypto failure in words: its message, else its name (a failed AES-CBC decryption is an
/// `OperationError` with no message: a wrong key or IV, or bad padding).
fn describe(e: &JsValue) -> String {
    let message = js_err(e.clone());
    if !message.is_empty() {
        return message;
    }
    match e.dyn_ref::<web_sys::DomException>().map(|d| d.name()) {
        Some(name) if name == "OperationError" => {
            "OperationError, the padding is wrong after decryption".into()
        }
        Some(name) => name,
        None => format!("{e:?}"),
    }
}

/// Decrypts a whole segment; the clear Blob keeps the encrypted one's MIME type.
pub(super) async fn decrypt(
    body: &BlobBody,
    key: &CryptoKey,
    iv: [u8; 16],
) -> Result<BlobBody, DecryptError> {
    let fail = |what: &str, e: JsValue| DecryptError(format!("{what}: {}", describe(&e)));
    let bytes = JsFuture::from(body.0.array_buffer())
        .await
        .map_err(|e| fail("the fetched segment could not be read", e))?;
    let iv = js_sys::Uint8Array::from(&iv[..]);
    let params = AesCbcParams::new_with_u8_array("AES-CBC", &iv);
    let clear = subtle()
        .map_err(DecryptError)?
        .decrypt_with_object_and_buffer_source(&params, key, &bytes.unchecked_into())
        .map_err(|e| fail("WebCrypto refused the request", e))?;
    let clear = JsFuture::from(clear)
        .await
        .map_err(|e| fail("WebCrypto AES-CBC decryption failed", e))?;
    let options = BlobPropertyBag::new();
    options.set_type(&body.0.type_());
    let blob =
        Blob::new_with_buffer_source_sequence_and_options(&js_sys::Array::of1(&clear), &options)
            .map_err(|e| fail("the clear segment could not be made a Blob", e))?;
    Ok(BlobBody(blob))
}
