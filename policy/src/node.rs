//! The untyped tree a policy document is read into before it is checked, and the paths that
//! name places in it.
//!
//! Deserialising straight into typed structs with serde would stop at the first problem and
//! silently keep the last of two duplicate keys. Reading into [`Node`] first (from YAML or
//! JSON alike) lets the checker in `document.rs` walk the whole tree and report every problem,
//! each at its path.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A value of a YAML or JSON document. Mappings keep their entries in document order,
/// duplicates included, so that the checker can report them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    /// An integer that fits in `i128` (YAML and JSON integers always do).
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    /// What kind of value this is, for messages ("expected a list, found a string").
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Int(_) => "an integer",
            Node::Float(_) => "a number",
            Node::Str(_) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML or JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Int(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Int(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        i128::try_from(v)
            .map(Node::Int)
            .map_err(|_| E::custom("integer is too large"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            // YAML allows any scalar as a key; a policy has only named fields, so a key that is
            // not a string is reported by the checker as an unknown field under its text.
            let key = match key {
                Node::Str(s) => s,
                Node::Null => "null".to_owned(),
                Node::Bool(b) => b.to_string(),
                Node::Int(i) => i.to_string(),
                Node::Float(x) => x.to_string(),
                Node::Seq(_) | Node::Map(_) => {
                    return Err(de::Error::custom(
                        "a mapping key must be a string, not a list or a mapping",
                    ));
                }
            };
            entries.push((key, map.next_value()?));
        }
        Ok(Node::Map(entries))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, _data: A) -> Result<Node, A::Error> {
        // serde_yaml_ng hands YAML tags (`!foo value`) to visitors as enums.
        Err(de::Error::custom(
            "YAML tags (`!tag`) are not supported in a policy document",
        ))
    }
}

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Field(String),
    Index(usize),
}

/// Where a value is in a document: `rules[2].resources[0].server`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Path(Vec<Segment>);

impl Path {
    /// The document itself.
    pub(crate) fn root() -> Self {
        Self::default()
    }

    /// This path followed by a field.
    pub(crate) fn field(&self, name: &str) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Field(name.to_owned()));
        Self(segments)
    }

    /// This path followed by a list index.
    pub(crate) fn index(&self, i: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(i));
        Self(segments)
    }

    /// The RFC 6901 JSON pointer to the same place (`/rules/2/resources/0/server`).
    pub(crate) fn pointer(&self) -> String {
        let mut out = String::new();
        for segment in &self.0 {
            out.push('/');
            match segment {
                Segment::Field(name) => out.push_str(&name.replace('~', "~0").replace('/', "~1")),
                Segment::Index(i) => out.push_str(&i.to_string()),
            }
        }
        out
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Field(name) if is_plain(name) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(name)?;
                }
                // A key that is not a plain word (an unknown field such as `a.b`) is quoted,
                // so the path stays unambiguous.
                Segment::Field(name) => write!(f, "[{name:?}]")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

fn is_plain(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_as_dotted_paths_and_pointers() {
        let p = Path::root()
            .field("rules")
            .index(2)
            .field("resources")
            .index(0)
            .field("server");
        assert_eq!(p.to_string(), "rules[2].resources[0].server");
        assert_eq!(p.pointer(), "/rules/2/resources/0/server");
        let odd = Path::root().field("rules").index(0).field("a.b/c");
        assert_eq!(odd.to_string(), r#"rules[0]["a.b/c"]"#);
        assert_eq!(odd.pointer(), "/rules/0/a.b~1c");
        assert_eq!(Path::root().to_string(), "");
        assert_eq!(Path::root().pointer(), "");
    }

    #[test]
    fn yaml_and_json_read_into_the_same_tree() {
        let yaml: Node =
            serde_yaml_ng::from_str("a: [1, x, true, null]\nb: {c: 1.5}\n").expect("valid yaml");
        let json: Node = serde_json::from_str(r#"{"a": [1, "x", true, null], "b": {"c": 1.5}}"#)
            .expect("valid json");
        assert_eq!(yaml, json);
    }

    #[test]
    fn duplicate_keys_are_kept_for_the_checker() {
        let json: Node = serde_json::from_str(r#"{"a": 1, "a": 2}"#).expect("valid json");
        assert_eq!(
            json,
            Node::Map(vec![
                ("a".to_owned(), Node::Int(1)),
                ("a".to_owned(), Node::Int(2))
            ])
        );
    }
}
