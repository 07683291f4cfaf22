//! A small owned XML element tree built with quick-xml.
//!
//! The MPD model needs random access (inheritance walks up and down the tree) and the local
//! manifest writer re-serialises what it keeps, so we parse once into this tree. Hostile input is
//! bounded here: element count, nesting depth, attribute and text sizes, and entities other than
//! the five predefined ones and character references are refused, never expanded.

use crate::error::MpdError;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// Caps that a real manifest (a 10-hour stream with thousands of timeline entries) never hits.
pub const MAX_ELEMENTS: usize = 2_000_000;
/// Deepest nesting accepted; a real MPD nests about 6 levels.
pub const MAX_DEPTH: usize = 64;
/// Longest attribute value or text node accepted (URLs included).
pub const MAX_VALUE_LEN: usize = 64 * 1024;
/// Largest manifest accepted, in bytes.
pub const MAX_DOCUMENT_LEN: usize = 64 * 1024 * 1024;

/// One element with its attributes (in document order), children and concatenated text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Element {
    /// Qualified name as written, e.g. `cenc:pssh`.
    pub name: String,
    /// Attributes as written (qualified names), values unescaped.
    pub attrs: Vec<(String, String)>,
    /// Child elements in document order.
    pub children: Vec<Element>,
    /// Text content directly inside this element (trimmed).
    pub text: String,
}

impl Element {
    /// The local part of the name (`cenc:pssh` → `pssh`), since MPDs use namespaces loosely.
    pub fn local_name(&self) -> &str {
        local(&self.name)
    }

    /// The value of an attribute by its local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| local(k) == name)
            .map(|(_, v)| v.as_str())
    }

    /// Child elements with the given local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.local_name() == name)
    }

    /// The first child with the given local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.local_name() == name)
    }
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// Parses a whole document into its root element.
pub fn parse(text: &str) -> Result<Element, MpdError> {
    parse_nodes(text, false)?
        .pop()
        .ok_or_else(|| MpdError::Xml("the document has no root element".into()))
}

/// Parses a document that may hold any number of top-level elements, e.g. the remote part of
/// an xlink (several `Period`s, or none at all), with the same bounds as [`parse`].
pub fn parse_fragment(text: &str) -> Result<Vec<Element>, MpdError> {
    parse_nodes(text, true)
}

/// The top-level elements of `text`: only the first unless `many`, the rest of the text then
/// being ignored.
fn parse_nodes(text: &str, many: bool) -> Result<Vec<Element>, MpdError> {
    if text.len() > MAX_DOCUMENT_LEN {
        return Err(MpdError::TooLarge("manifest bytes"));
    }
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Element> = Vec::new();
    let mut top: Vec<Element> = Vec::new();
    let mut count = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| MpdError::Xml(format!("at byte {}: {e}", reader.buffer_position())))?;
        match event {
            Event::Start(start) => {
                count = count.saturating_add(1);
                if count > MAX_ELEMENTS {
                    return Err(MpdError::TooLarge("element count"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(MpdError::TooLarge("nesting depth"));
                }
                stack.push(element_from(&start)?);
            }
            Event::Empty(start) => {
                count = count.saturating_add(1);
                if count > MAX_ELEMENTS {
                    return Err(MpdError::TooLarge("element count"));
                }
                let el = element_from(&start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None if many => top.push(el),
                    None => return Ok(vec![el]),
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(MpdError::Xml("unbalanced end tag".into()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None if many => top.push(done),
                    None => return Ok(vec![done]),
                }
            }
            Event::Text(t) => push_text(&mut stack, &t.xml_content(XmlVersion::Implicit1_0))?,
            Event::CData(c) => push_text(&mut stack, &c)?,
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(ch)) => ch.to_string(),
                    Ok(None) => match resolve_predefined_entity(&r) {
                        Some(s) => s.to_string(),
                        None => {
                            return Err(MpdError::Xml(format!(
                            "entity &{}; is not expanded (only the XML predefined entities are)",
                            &*r
                        )))
                        }
                    },
                    Err(e) => return Err(MpdError::Xml(e.to_string())),
                };
                push_text(&mut stack, &resolved)?
            }
            Event::Eof if many && stack.is_empty() => return Ok(top),
            Event::Eof => {
                return Err(MpdError::Xml(
                    "document ended before its root element closed".into(),
                ))
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), MpdError> {
    if let Some(top) = stack.last_mut() {
        if top.text.len().saturating_add(text.len()) > MAX_VALUE_LEN {
            return Err(MpdError::TooLarge("text length"));
        }
        top.text.push_str(text.trim());
    }
    Ok(())
}

fn element_from(start: &BytesStart<'_>) -> Result<Element, MpdError> {
    let name = start.name().as_ref().to_string();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| MpdError::Xml(format!("in <{name}>: {e}")))?;
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| MpdError::Xml(format!("in <{name}>: {e}")))?;
        if value.len() > MAX_VALUE_LEN {
            return Err(MpdError::TooLarge("attribute length"));
        }
        attrs.push((attr.key.as_ref().to_string(), value.into_owned()));
    }
    Ok(Element {
        name,
        attrs,
        children: Vec::new(),
        text: String::new(),
    })
}

/// Serialises an element tree back to XML text (the local manifest writer uses this).
pub fn write(el: &Element, out: &mut String) {
    out.push('<');
    out.push_str(&el.name);
    for (k, v) in &el.attrs {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        escape_into(v, out);
        out.push('"');
    }
    if el.children.is_empty() && el.text.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    escape_into(&el.text, out);
    for c in &el.children {
        write(c, out);
    }
    out.push_str("</");
    out.push_str(&el.name);
    out.push('>');
}

fn escape_into(s: &str, out: &mut String) {
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(ch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predefined_and_char_entities_are_resolved_in_text() {
        let el = parse("<a><b>x&amp;y&#65;</b></a>").unwrap();
        assert_eq!(el.children[0].text, "x&yA");
    }

    #[test]
    fn custom_entities_are_refused_not_expanded() {
        let doc = r#"<!DOCTYPE a [<!ENTITY e "boom">]><a>&e;</a>"#;
        assert!(matches!(parse(doc), Err(MpdError::Xml(_))));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let doc = "<a>".repeat(100) + &"</a>".repeat(100);
        assert_eq!(parse(&doc), Err(MpdError::TooLarge("nesting depth")));
    }

    #[test]
    fn truncated_document_is_an_error() {
        assert!(matches!(parse("<MPD><Period>"), Err(MpdError::Xml(_))));
    }

    #[test]
    fn a_fragment_may_hold_several_top_level_elements_or_none() {
        let els = parse_fragment(r#"<?xml version="1.0"?><P id="1"/><P id="2"><A/></P>"#).unwrap();
        let ids: Vec<_> = els.iter().map(|e| e.attr("id")).collect();
        assert_eq!(ids, [Some("1"), Some("2")]);
        assert_eq!(parse_fragment("  ").unwrap(), Vec::<Element>::new());
        assert!(parse_fragment("<P><A/>").is_err());
        assert!(matches!(parse(""), Err(MpdError::Xml(_))));
    }

    #[test]
    fn write_round_trips_attributes_with_escapes() {
        let el = parse(r#"<a x="1&amp;2"><b>t&lt;</b></a>"#).unwrap();
        let mut s = String::new();
        write(&el, &mut s);
        assert_eq!(s, r#"<a x="1&amp;2"><b>t&lt;</b></a>"#);
    }
}
