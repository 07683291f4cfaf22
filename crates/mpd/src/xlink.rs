//! xlink (ISO/IEC 23009-1 §5.5): elements whose content is in another document, fetched and
//! spliced in place before planning.
//!
//! Fetching is the caller's, so resolution is a loop it drives: [`Xlinks::needs`] lists the
//! documents to fetch now, [`Xlinks::resolve`] splices what came back. A spliced document may
//! hold xlinks of its own, listed by the next `needs`, up to [`MAX_XLINK_DEPTH`] levels.
//!
//! The rules follow shaka-player 5.2 (`shaka.dash.MpdUtils.processXlinks`):
//! - links are followed on the children of `MPD`, `Period`, `AdaptationSet`, `Representation`
//!   and `SegmentList` that are themselves one of those (so `Period`, `AdaptationSet`,
//!   `Representation`, `SegmentList`); a child of those with
//!   `xlink:href="urn:mpeg:dash:resolve-to-zero:2013"` is removed, whatever it is;
//! - only `xlink:actuate="onLoad"` is followed. shaka-player refuses any other value, and a
//!   missing one (the xlink default is `onRequest`), with `DASH_UNSUPPORTED_XLINK_ACTUATE` (its
//!   `dash.xlinkFailGracefully` option, off by default, keeps the element's own content
//!   instead). An `onRequest` link is fetched by a player only when playback reaches it, which a
//!   stored copy never can: it is refused here too, with a message saying so;
//! - a link inside a document reached through 5 links is refused (shaka's
//!   `DASH_XLINK_DEPTH_LIMIT`), and relative hrefs resolve against the document that holds them;
//! - a remote document with one element of the referencing element's name replaces its
//!   children, and its attributes are added to the element's own (its xlink ones removed);
//!   one of another name is refused (shaka's `DASH_INVALID_XML`).
//!
//! Where shaka-player refuses but the standard allows, this module follows the standard: a
//! remote document may hold several elements (they all take the referencing element's place)
//! or none (the element is removed).

use crate::error::MpdError;
use crate::xml::{Element, MAX_DOCUMENT_LEN, MAX_ELEMENTS};
use url::Url;

/// The xlink namespace.
pub const XLINK_NS: &str = "http://www.w3.org/1999/xlink";
/// The href that removes its element (ISO/IEC 23009-1 §5.5.3).
pub const RESOLVE_TO_ZERO: &str = "urn:mpeg:dash:resolve-to-zero:2013";
/// Links followed in a chain: a link in a document reached through this many is refused, as in
/// shaka-player.
pub const MAX_XLINK_DEPTH: usize = 5;
/// Most remote documents fetched for one manifest: a bound on the requests a hostile manifest
/// can make, far over what a real one (one per period) needs.
pub const MAX_XLINK_FETCHES: usize = 256;

/// Elements whose children may be xlinked.
const CONTAINERS: [&str; 5] = [
    "MPD",
    "Period",
    "AdaptationSet",
    "Representation",
    "SegmentList",
];

/// One remote document to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XlinkNeed {
    /// Absolute URL of the document.
    pub url: String,
    /// The name of the element it replaces (`Period`), for messages.
    pub element: String,
}

/// A manifest whose xlinks are being resolved.
#[derive(Debug, Clone)]
pub struct Xlinks {
    root: Element,
    url: Url,
    /// Prefixes bound to [`XLINK_NS`] anywhere in the documents (and `xlink`, which manifests
    /// use without declaring it).
    prefixes: Vec<String>,
    /// Links followed in a chain so far (rounds of `resolve`).
    depth: usize,
    fetches: usize,
    /// Text bytes and elements of the manifest and every remote document: together they are held
    /// to the caps of one manifest.
    bytes: usize,
    elements: usize,
}

impl Xlinks {
    /// Parses manifest text fetched from `url` (its final URL). A document that is not a static
    /// MPD is refused here, before any link is fetched.
    pub fn parse(text: &str, url: &Url) -> Result<Xlinks, MpdError> {
        let root = crate::xml::parse(text)?;
        crate::model::check_root(&root)?;
        let mut x = Xlinks {
            elements: count(&root),
            root,
            url: url.clone(),
            prefixes: vec!["xlink".to_string()],
            depth: 0,
            fetches: 0,
            bytes: text.len(),
        };
        learn_prefixes(&x.root, &mut x.prefixes);
        prune(&mut x.root, &x.prefixes);
        Ok(x)
    }

    /// The documents to fetch now, in document order; empty once every link is resolved.
    pub fn needs(&self) -> Result<Vec<XlinkNeed>, MpdError> {
        let found = self.pending();
        if found.is_empty() {
            return Ok(Vec::new());
        }
        if self.depth >= MAX_XLINK_DEPTH {
            return Err(MpdError::TooLarge("xlink nesting depth"));
        }
        if self.fetches.saturating_add(found.len()) > MAX_XLINK_FETCHES {
            return Err(MpdError::TooLarge("xlink documents"));
        }
        found
            .iter()
            .map(|(_, el)| {
                let name = el.local_name();
                let href = xlink_attr(el, "href", &self.prefixes).unwrap_or_default();
                let actuate = xlink_attr(el, "actuate", &self.prefixes).unwrap_or("onRequest");
                if actuate.trim() != "onLoad" {
                    return Err(MpdError::Xlink(format!(
                        "<{name} xlink:href=\"{}\"> has xlink:actuate=\"{}\": xlink onRequest is \
                         not supported offline (a player fetches such a link only when playback \
                         reaches it); only onLoad links are resolved",
                        shorten(href),
                        shorten(actuate)
                    )));
                }
                let url = self
                    .url
                    .join(href.trim())
                    .map_err(|e| MpdError::Url(format!("{}: {e}", shorten(href))))?;
                Ok(XlinkNeed {
                    url: url.to_string(),
                    element: name.to_string(),
                })
            })
            .collect()
    }

    /// Splices the documents fetched for the last [`Xlinks::needs`], given in the same order as
    /// (final URL after redirects, text).
    pub fn resolve(&mut self, fetched: Vec<(String, String)>) -> Result<(), MpdError> {
        let paths: Vec<Vec<usize>> = self.pending().into_iter().map(|(p, _)| p).collect();
        if paths.len() != fetched.len() {
            return Err(MpdError::Xlink(format!(
                "{} documents were given for {} links",
                fetched.len(),
                paths.len()
            )));
        }
        self.fetches = self.fetches.saturating_add(paths.len());
        // Last first: splicing an element never moves one earlier in document order.
        for (path, (final_url, text)) in paths.iter().zip(fetched).rev() {
            self.bytes = self.bytes.saturating_add(text.len());
            if self.bytes > MAX_DOCUMENT_LEN {
                return Err(MpdError::TooLarge("manifest bytes"));
            }
            let base = Url::parse(&final_url)
                .map_err(|e| MpdError::Url(format!("{}: {e}", shorten(&final_url))))?;
            let mut els = crate::xml::parse_fragment(&text).map_err(|e| match e {
                MpdError::Xml(why) => MpdError::Xml(format!(
                    "in the xlink document {}: {why}",
                    shorten(&final_url)
                )),
                other => other,
            })?;
            self.elements = els
                .iter()
                .map(count)
                .fold(self.elements, usize::saturating_add);
            if self.elements > MAX_ELEMENTS {
                return Err(MpdError::TooLarge("element count"));
            }
            for el in &mut els {
                learn_prefixes(el, &mut self.prefixes);
            }
            let (&at, parent_path) = path
                .split_last()
                .ok_or_else(|| MpdError::Xlink("the MPD element itself is linked".into()))?;
            let parent = node_mut(&mut self.root, parent_path)
                .ok_or_else(|| MpdError::Xlink("a linked element moved".into()))?;
            let original = parent
                .children
                .get(at)
                .ok_or_else(|| MpdError::Xlink("a linked element moved".into()))?;
            if let Some(other) = els.iter().find(|e| e.local_name() != original.local_name()) {
                return Err(MpdError::Xlink(format!(
                    "the xlink document {} for a <{}> holds a <{}>",
                    shorten(&final_url),
                    original.local_name(),
                    other.local_name()
                )));
            }
            for el in &mut els {
                absolutize(el, &base, &self.prefixes)?;
            }
            if let [only] = els.as_mut_slice() {
                merge_attrs(original, only, &self.prefixes);
            }
            parent.children.splice(at..=at, els);
        }
        prune(&mut self.root, &self.prefixes);
        // Below MAX_XLINK_DEPTH, checked on entry.
        self.depth = self.depth.saturating_add(1);
        Ok(())
    }

    /// The document with every link resolved so far spliced in.
    pub fn into_root(self) -> Element {
        self.root
    }

    /// Linked elements still to resolve, with their child-index paths from the root.
    fn pending(&self) -> Vec<(Vec<usize>, &Element)> {
        let mut out = Vec::new();
        let mut path = Vec::new();
        walk(&self.root, &self.prefixes, &mut path, &mut out);
        out
    }
}

/// An `xlink:href` still on an element means the document was planned without resolving its
/// xlinks first (see [`crate::xlink`]): its content is elsewhere, so planning it would be wrong.
pub(crate) fn unresolved(el: &Element) -> Result<(), MpdError> {
    let prefixed_href = el.attrs.iter().any(|(k, _)| {
        k.split_once(':')
            .is_some_and(|(p, l)| l == "href" && p != "xmlns")
    });
    if prefixed_href {
        return Err(MpdError::Xlink(format!(
            "<{}> has an xlink:href that was not resolved",
            el.local_name()
        )));
    }
    Ok(())
}

fn walk<'a>(
    el: &'a Element,
    prefixes: &[String],
    path: &mut Vec<usize>,
    out: &mut Vec<(Vec<usize>, &'a Element)>,
) {
    for (i, child) in el.children.iter().enumerate() {
        if !CONTAINERS.contains(&child.local_name()) {
            continue;
        }
        path.push(i);
        if xlink_attr(child, "href", prefixes).is_some() {
            out.push((path.clone(), child));
        } else {
            walk(child, prefixes, path, out);
        }
        path.pop();
    }
}

/// The value of the xlink attribute `local` (`href`, `actuate`).
fn xlink_attr<'a>(el: &'a Element, local: &str, prefixes: &[String]) -> Option<&'a str> {
    el.attrs
        .iter()
        .find(|(k, _)| is_xlink_attr(k, prefixes, Some(local)))
        .map(|(_, v)| v.as_str())
}

/// Whether `key` is an xlink attribute (named `local`, if given).
fn is_xlink_attr(key: &str, prefixes: &[String], local: Option<&str>) -> bool {
    key.split_once(':')
        .is_some_and(|(p, l)| prefixes.iter().any(|x| x == p) && local.is_none_or(|want| want == l))
}

/// Removes every resolve-to-zero child of a container, in containers at any depth.
fn prune(el: &mut Element, prefixes: &[String]) {
    el.children
        .retain(|c| xlink_attr(c, "href", prefixes).map(str::trim) != Some(RESOLVE_TO_ZERO));
    for c in el.children.iter_mut() {
        if CONTAINERS.contains(&c.local_name()) {
            prune(c, prefixes);
        }
    }
}

/// Adds the prefixes `el` and its descendants bind to the xlink namespace.
fn learn_prefixes(el: &Element, prefixes: &mut Vec<String>) {
    for (k, v) in &el.attrs {
        if let Some(p) = k.strip_prefix("xmlns:") {
            if v.trim() == XLINK_NS && !prefixes.iter().any(|x| x == p) {
                prefixes.push(p.to_string());
            }
        }
    }
    for c in &el.children {
        learn_prefixes(c, prefixes);
    }
}

/// Makes the hrefs of a fetched document absolute, resolved against that document's URL, since
/// once spliced it sits in the manifest, which has another.
fn absolutize(el: &mut Element, base: &Url, prefixes: &[String]) -> Result<(), MpdError> {
    for (k, v) in el.attrs.iter_mut() {
        if is_xlink_attr(k, prefixes, Some("href")) && v.trim() != RESOLVE_TO_ZERO {
            *v = base
                .join(v.trim())
                .map_err(|e| MpdError::Url(format!("{}: {e}", shorten(v))))?
                .to_string();
        }
    }
    for c in el.children.iter_mut() {
        absolutize(c, base, prefixes)?;
    }
    Ok(())
}

/// The attributes of the referencing element that the one fetched element lacks go onto it,
/// without the xlink ones: shaka-player keeps them too (the fetched ones win).
fn merge_attrs(original: &Element, fetched: &mut Element, prefixes: &[String]) {
    let mut attrs: Vec<(String, String)> = original
        .attrs
        .iter()
        .filter(|(k, _)| !is_xlink_attr(k, prefixes, None))
        .filter(|(k, _)| !fetched.attrs.iter().any(|(f, _)| f == k))
        .cloned()
        .collect();
    attrs.append(&mut fetched.attrs);
    fetched.attrs = attrs;
}

fn node_mut<'a>(root: &'a mut Element, path: &[usize]) -> Option<&'a mut Element> {
    let mut el = root;
    for &i in path {
        el = el.children.get_mut(i)?;
    }
    Some(el)
}

fn count(el: &Element) -> usize {
    el.children.iter().map(count).fold(1, usize::saturating_add)
}

/// A value cut to a length fit for a message.
fn shorten(s: &str) -> String {
    s.chars().take(200).collect()
}
