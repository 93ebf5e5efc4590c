//! A span-carrying YAML value tree and the helpers every kind reader uses to
//! walk it. Reading each document into this generic tree first (instead of
//! typed structs) gives field paths, unknown-field warnings and precise
//! errors (file, line, column, field) in one place.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::policy::model::{Located, Origin, PolicyWarning};
use crate::policy::PolicyError;

/// One YAML node and where it starts (1-based line and column, in
/// characters, as serde-saphyr reports them).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: NodeKind,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys keep their own positions (used to point at `tls:` rather than
    /// at the first field inside it).
    Map(Vec<(Node, Node)>),
}

impl NodeKind {
    /// How messages name a node's type.
    pub fn describe(&self) -> &'static str {
        match self {
            NodeKind::Null => "nothing (null)",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Int(_) | NodeKind::UInt(_) => "a number",
            NodeKind::Float(_) => "a number",
            NodeKind::Str(_) => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }
}

impl Node {
    pub fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Null)
    }

    /// A scalar's text as Kubernetes would stringify a map key.
    pub fn key_text(&self) -> String {
        match &self.kind {
            NodeKind::Str(s) => s.clone(),
            NodeKind::Int(i) => i.to_string(),
            NodeKind::UInt(u) => u.to_string(),
            NodeKind::Float(f) => f.to_string(),
            NodeKind::Bool(b) => b.to_string(),
            NodeKind::Null => "null".into(),
            NodeKind::Seq(_) => "[…]".into(),
            NodeKind::Map(_) => "{…}".into(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value under `key` when this is a mapping (null values count as absent).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, v)| k.as_str() == Some(key) && !v.is_null())
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<NodeKind>::deserialize(deserializer)?;
        Ok(Node {
            kind: spanned.value,
            line: spanned.referenced.line() as usize,
            column: spanned.referenced.column() as usize,
        })
    }
}

impl<'de> Deserialize<'de> for NodeKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = NodeKind;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<NodeKind, E> {
        Ok(NodeKind::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<NodeKind, E> {
        Ok(NodeKind::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<NodeKind, E> {
        Ok(NodeKind::UInt(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<NodeKind, E> {
        Ok(NodeKind::Str(v.to_string()))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<NodeKind, E> {
        Ok(NodeKind::Str(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<NodeKind, E> {
        Ok(NodeKind::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<NodeKind, E> {
        Ok(NodeKind::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<NodeKind, E> {
        Ok(NodeKind::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<NodeKind, E> {
        Ok(NodeKind::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<NodeKind, E> {
        Ok(NodeKind::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<NodeKind, E> {
        Ok(NodeKind::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<NodeKind, D::Error> {
        NodeKind::deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<NodeKind, D::Error> {
        NodeKind::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NodeKind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(NodeKind::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NodeKind, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(NodeKind::Map(entries))
    }
}

/// Parses a YAML stream into its non-empty documents.
pub(crate) fn parse_stream(file: &str, text: &str) -> Result<Vec<Node>, PolicyError> {
    let options = serde_saphyr::options! { with_snippet: false };
    serde_saphyr::from_multiple_with_options::<Node>(text, options).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line() as usize, l.column() as usize))
            .unwrap_or((0, 0));
        let message = e.render();
        // The parser's message may quote the offending input; keep it one
        // bounded line like every other policy error.
        let message = clip(
            message.lines().next().unwrap_or("").trim(),
            MESSAGE_MAX_CHARS,
        );
        PolicyError::Yaml {
            origin: Origin {
                file: file.to_string(),
                line,
                column,
                field: String::new(),
            },
            message,
        }
    })
}

/// Joins a field path: `spec` + `servers` → `spec.servers`.
pub(crate) fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// Inputs longer than this (in chars) get no "did you mean": every valid
/// word is far shorter, so a longer input is no typo of one, and the distance
/// costs time in the product of the lengths, which a hostile multi-megabyte
/// value must not be able to buy.
pub(crate) const SUGGEST_MAX_CHARS: usize = 64;

/// How many chars of a user-written value an error or warning echoes; the
/// rest is elided with its size, so a huge value still gives one short line.
pub(crate) const ECHO_MAX_CHARS: usize = 64;

/// Longest message [`Ctx::invalid`] and [`Ctx::warn`] let through. Messages
/// built by kind readers may echo values without [`shown`]; this is the
/// backstop that keeps every such line bounded. Valid-value lists are
/// well under it.
const MESSAGE_MAX_CHARS: usize = 512;

/// `s` as messages echo it: whole when short, otherwise its first
/// [`ECHO_MAX_CHARS`] chars (cut on a char boundary) plus its size in bytes.
pub(crate) fn shown(s: &str) -> String {
    clip(s, ECHO_MAX_CHARS)
}

/// The first `max` chars of `s`, then `… (N bytes)` when anything was cut.
fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}… ({} bytes)", &s[..cut], s.len()),
    }
}

/// Optimal string alignment distance (Levenshtein plus adjacent swaps), on
/// ASCII-lowercased text, for "did you mean" suggestions. Keeps three rows
/// of the shorter input (O(min(n, m)) memory), so the cost of a long
/// argument is time only; [`closest`] also refuses long inputs outright.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_ascii_lowercase().chars().collect();
    let b: Vec<char> = b.to_ascii_lowercase().chars().collect();
    // Rows run over the shorter word; the distance is symmetric.
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    let width = short.len() + 1;
    let mut before: Vec<usize> = vec![0; width]; // row i - 2
    let mut prev: Vec<usize> = (0..width).collect(); // row i - 1
    let mut cur: Vec<usize> = vec![0; width]; // row i
    for i in 1..=long.len() {
        cur[0] = i;
        for j in 1..width {
            let cost = usize::from(long[i - 1] != short[j - 1]);
            let mut best = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && long[i - 1] == short[j - 2] && long[i - 2] == short[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            cur[j] = best;
        }
        // Rotate: before <- prev <- cur; cur's old contents are overwritten.
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[short.len()]
}

/// The closest candidate when it is close enough to be a likely typo. No
/// suggestion for inputs over [`SUGGEST_MAX_CHARS`] chars (see there).
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    if word.chars().nth(SUGGEST_MAX_CHARS).is_some() {
        return None;
    }
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 3 && *d * 3 <= c.len().max(word.len()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The reading context of one file (or of a YAML string embedded in it).
pub(crate) struct Ctx<'a> {
    pub file: &'a str,
    /// The file's text, to tell quoted scalars apart for column arithmetic.
    /// `None` inside an embedded document.
    pub text: Option<&'a str>,
    /// Added to every line (embedded `data.mesh` strings); 0 otherwise.
    pub line_offset: usize,
    /// Added to every column (the block scalar's indentation); 0 otherwise.
    pub column_offset: usize,
    /// Prefix for field paths (`items[2].` for List members, `data.mesh:`).
    pub path_prefix: String,
    pub warnings: Vec<PolicyWarning>,
}

/// A mapping's entries, with its path, as returned by [`Ctx::fields`].
pub(crate) struct Fields<'n> {
    pub path: String,
    entries: Vec<(&'n Node, &'n Node)>,
}

impl<'n> Fields<'n> {
    /// The value of `name` (null counts as absent) with its key node.
    pub fn entry(&self, name: &str) -> Option<(&'n Node, &'n Node)> {
        self.entries
            .iter()
            .find(|(k, v)| k.as_str() == Some(name) && !v.is_null())
            .copied()
    }

    pub fn get(&self, name: &str) -> Option<&'n Node> {
        self.entry(name).map(|(_, v)| v)
    }

    pub fn path_of(&self, name: &str) -> String {
        join(&self.path, name)
    }

    pub fn entries(&self) -> &[(&'n Node, &'n Node)] {
        &self.entries
    }
}

impl<'a> Ctx<'a> {
    pub fn new(file: &'a str, text: &'a str) -> Ctx<'a> {
        Ctx {
            file,
            text: Some(text),
            line_offset: 0,
            column_offset: 0,
            path_prefix: String::new(),
            warnings: Vec::new(),
        }
    }

    /// Where `node` is, naming it `path` (the document-relative field path).
    pub fn origin(&self, node: &Node, path: &str) -> Origin {
        Origin {
            file: self.file.to_string(),
            line: node.line + self.line_offset,
            column: node.column + self.column_offset,
            // Paths embed user-written keys; a huge unknown key must not
            // make every line that names its field huge.
            field: clip(&format!("{}{}", self.path_prefix, path), ECHO_MAX_CHARS * 2),
        }
    }

    pub fn invalid(&self, node: &Node, path: &str, message: impl Into<String>) -> PolicyError {
        PolicyError::Invalid {
            origin: self.origin(node, path),
            message: clip(&message.into(), MESSAGE_MAX_CHARS),
        }
    }

    pub fn warn(&mut self, node: &Node, path: &str, message: impl Into<String>) {
        let origin = self.origin(node, path);
        self.warnings.push(PolicyWarning {
            origin,
            message: clip(&message.into(), MESSAGE_MAX_CHARS),
        });
    }

    fn type_error(&self, node: &Node, path: &str, expected: &str) -> PolicyError {
        let last = path.rsplit('.').next().unwrap_or(path);
        self.invalid(
            node,
            path,
            format!(
                "`{last}` must be {expected}, found {}",
                node.kind.describe()
            ),
        )
    }

    /// A mapping's entries; unknown keys (not in `known`) become warnings
    /// with a suggestion. A null or missing node is an empty mapping.
    pub fn fields<'n>(
        &mut self,
        node: Option<&'n Node>,
        path: &str,
        known: &[&str],
    ) -> Result<Fields<'n>, PolicyError> {
        let mut fields = Fields {
            path: path.to_string(),
            entries: Vec::new(),
        };
        let Some(node) = node else {
            return Ok(fields);
        };
        match &node.kind {
            NodeKind::Null => Ok(fields),
            NodeKind::Map(entries) => {
                for (k, v) in entries {
                    let name = k.key_text();
                    if !known.is_empty() && !known.contains(&name.as_str()) {
                        let place = if path.is_empty() {
                            "the document"
                        } else {
                            path
                        };
                        let hint = closest(&name, known)
                            .map(|c| format!(" (did you mean `{c}`?)"))
                            .unwrap_or_default();
                        let shown_name = shown(&name);
                        self.warn(
                            k,
                            &join(path, &name),
                            format!(
                                "unknown field `{shown_name}` in {place}{hint}; the API server prunes it, so it has no effect"
                            ),
                        );
                    }
                    fields.entries.push((k, v));
                }
                Ok(fields)
            }
            _ => Err(self.type_error(node, path, "a mapping")),
        }
    }

    /// The sub-mapping `name` of `f` (empty when absent).
    pub fn sub<'n>(
        &mut self,
        f: &Fields<'n>,
        name: &str,
        known: &[&str],
    ) -> Result<Fields<'n>, PolicyError> {
        self.fields(f.get(name), &f.path_of(name), known)
    }

    /// A required-to-be-string scalar.
    pub fn string(&self, node: &Node, path: &str) -> Result<String, PolicyError> {
        match &node.kind {
            NodeKind::Str(s) => Ok(s.clone()),
            _ => Err(self.type_error(node, path, "a string")),
        }
    }

    /// A string, also accepting numbers (ports in AuthorizationPolicy,
    /// label values the user left unquoted where Istio stringifies them).
    pub fn scalar_text(&self, node: &Node, path: &str) -> Result<String, PolicyError> {
        match &node.kind {
            NodeKind::Str(s) => Ok(s.clone()),
            NodeKind::Int(_) | NodeKind::UInt(_) | NodeKind::Float(_) | NodeKind::Bool(_) => {
                Ok(node.key_text())
            }
            _ => Err(self.type_error(node, path, "a string")),
        }
    }

    pub fn opt_string(&self, f: &Fields, name: &str) -> Result<Option<String>, PolicyError> {
        f.get(name)
            .map(|n| self.string(n, &f.path_of(name)))
            .transpose()
    }

    pub fn located_string(
        &self,
        f: &Fields,
        name: &str,
    ) -> Result<Option<Located<String>>, PolicyError> {
        let path = f.path_of(name);
        f.get(name)
            .map(|n| Ok(Located::new(self.string(n, &path)?, self.origin(n, &path))))
            .transpose()
    }

    pub fn located_bool(
        &self,
        f: &Fields,
        name: &str,
    ) -> Result<Option<Located<bool>>, PolicyError> {
        let path = f.path_of(name);
        match f.get(name) {
            None => Ok(None),
            Some(n) => match n.kind {
                NodeKind::Bool(b) => Ok(Some(Located::new(b, self.origin(n, &path)))),
                _ => Err(self.type_error(n, &path, "true or false")),
            },
        }
    }

    /// A list of strings, each with its own origin (`hosts[1]`).
    pub fn located_list(
        &self,
        f: &Fields,
        name: &str,
    ) -> Result<Vec<Located<String>>, PolicyError> {
        let path = f.path_of(name);
        match f.get(name) {
            None => Ok(Vec::new()),
            Some(n) => match &n.kind {
                NodeKind::Seq(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let p = index(&path, i);
                        Ok(Located::new(self.string(item, &p)?, self.origin(item, &p)))
                    })
                    .collect(),
                _ => Err(self.type_error(n, &path, "a list")),
            },
        }
    }

    /// A list of strings without origins; numbers are stringified when
    /// `lenient` (AuthorizationPolicy ports).
    pub fn list(&self, f: &Fields, name: &str, lenient: bool) -> Result<Vec<String>, PolicyError> {
        let path = f.path_of(name);
        match f.get(name) {
            None => Ok(Vec::new()),
            Some(n) => match &n.kind {
                NodeKind::Seq(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let p = index(&path, i);
                        if lenient {
                            self.scalar_text(item, &p)
                        } else {
                            self.string(item, &p)
                        }
                    })
                    .collect(),
                _ => Err(self.type_error(n, &path, "a list")),
            },
        }
    }

    /// A list whose items are mappings: (item node, item path) pairs.
    pub fn items<'n>(
        &self,
        f: &Fields<'n>,
        name: &str,
    ) -> Result<Vec<(&'n Node, String)>, PolicyError> {
        let path = f.path_of(name);
        match f.get(name) {
            None => Ok(Vec::new()),
            Some(n) => match &n.kind {
                NodeKind::Seq(items) => Ok(items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| (item, index(&path, i)))
                    .collect()),
                _ => Err(self.type_error(n, &path, "a list")),
            },
        }
    }

    /// A `map[string]string` (selector, matchLabels, tls.options).
    pub fn string_map(
        &mut self,
        f: &Fields,
        name: &str,
    ) -> Result<BTreeMap<String, String>, PolicyError> {
        let sub = self.sub(f, name, &[])?;
        sub.entries()
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| {
                let key = k.key_text();
                let value = self.scalar_text(v, &sub.path_of(&key))?;
                Ok((key, value))
            })
            .collect()
    }

    /// A port number (1..=65535, as Istio and Kubernetes validate it).
    pub fn port(&self, node: &Node, path: &str) -> Result<u16, PolicyError> {
        let n = match node.kind {
            NodeKind::Int(i) => i128::from(i),
            NodeKind::UInt(u) => i128::from(u),
            NodeKind::Str(ref s) => {
                let hint = if s.trim().parse::<u16>().is_ok() {
                    format!(" (write {} without quotes)", s.trim())
                } else {
                    String::new()
                };
                return Err(self.invalid(
                    node,
                    path,
                    format!(
                        "port must be a number, found the string {:?}{hint}",
                        shown(s)
                    ),
                ));
            }
            _ => return Err(self.type_error(node, path, "a port number")),
        };
        u16::try_from(n)
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| self.invalid(node, path, format!("port {n} is out of range (1-65535)")))
    }

    /// An enum-valued string field; `parse` returns `None` for unknown values
    /// and the error lists `valid`.
    pub fn located_enum<T>(
        &self,
        f: &Fields,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
        valid: &[&str],
    ) -> Result<Option<Located<T>>, PolicyError> {
        let path = f.path_of(name);
        let Some(node) = f.get(name) else {
            return Ok(None);
        };
        let text = self.string(node, &path)?;
        match parse(&text) {
            Some(v) => Ok(Some(Located::new(v, self.origin(node, &path)))),
            None => {
                let hint = closest(&text, valid)
                    .map(|c| format!(" (did you mean {c}?)"))
                    .unwrap_or_default();
                Err(self.invalid(
                    node,
                    &path,
                    format!(
                        "unknown {name} {:?}{hint}; valid values: {}",
                        shown(&text),
                        valid.join(", ")
                    ),
                ))
            }
        }
    }

    /// A list that may also be written as one comma-separated string (SMCP
    /// `cipherSuites`, `ecdhCurves`). Items of a string get the string's
    /// line and, when it is on one line, the column of the item itself.
    pub fn list_or_csv(&self, f: &Fields, name: &str) -> Result<Vec<Located<String>>, PolicyError> {
        let path = f.path_of(name);
        match f.get(name) {
            Some(
                n @ Node {
                    kind: NodeKind::Str(s),
                    ..
                },
            ) => {
                let quote = usize::from(self.quoted_at(n));
                let mut out = Vec::new();
                let mut offset = 0usize;
                for part in s.split(',') {
                    let lead = part.len() - part.trim_start().len();
                    let item = part.trim();
                    if !item.is_empty() {
                        let p = index(&path, out.len());
                        let mut origin = self.origin(n, &p);
                        if !s.contains('\n') {
                            origin.column += quote + s[..offset + lead].chars().count();
                        }
                        out.push(Located::new(item.to_string(), origin));
                    }
                    offset += part.len() + 1;
                }
                Ok(out)
            }
            _ => self.located_list(f, name),
        }
    }

    /// Whether the scalar at `node` starts with a quote in the source text.
    fn quoted_at(&self, node: &Node) -> bool {
        let Some(text) = self.text else {
            return false;
        };
        if self.line_offset != 0 || node.line == 0 {
            return false;
        }
        text.lines()
            .nth(node.line - 1)
            .and_then(|l| l.chars().nth(node.column.saturating_sub(1)))
            .is_some_and(|c| c == '"' || c == '\'')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_one_based_and_point_at_values() {
        let docs = parse_stream("t", "a: 1\nb:\n  - x\n  - 'y'\n").unwrap();
        assert_eq!(docs.len(), 1);
        let b = docs[0].get("b").unwrap();
        let NodeKind::Seq(items) = &b.kind else {
            panic!("b is a list")
        };
        assert_eq!((items[0].line, items[0].column), (3, 5));
        assert_eq!((items[1].line, items[1].column), (4, 5));
        assert_eq!(docs[0].get("a").unwrap().kind, NodeKind::UInt(1));
    }

    #[test]
    fn empty_documents_and_comments_are_skipped() {
        let docs = parse_stream("t", "# c\n---\n---\na: 1\n---\n# only a comment\n").unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].line, 4);
    }

    #[test]
    fn quoted_numbers_stay_strings() {
        let docs = parse_stream("t", "p: \"443\"\nq: 443\n").unwrap();
        assert!(matches!(docs[0].get("p").unwrap().kind, NodeKind::Str(_)));
        assert!(matches!(
            docs[0].get("q").unwrap().kind,
            NodeKind::UInt(443)
        ));
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let err = parse_stream("f.yaml", "a: [1, 2\nb: 3\n").unwrap_err();
        match err {
            PolicyError::Yaml { origin, .. } => {
                assert_eq!(origin.file, "f.yaml");
                assert!(origin.line >= 1, "{origin:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn suggestions_for_typos() {
        assert_eq!(edit_distance("minProtocolVerison", "minProtocolVersion"), 1);
        assert_eq!(
            closest("minProtocolVerison", &["mode", "minProtocolVersion"]),
            Some("minProtocolVersion")
        );
        assert_eq!(closest("zzz", &["mode", "minProtocolVersion"]), None);
        assert_eq!(closest("SIMPL", &["SIMPLE", "MUTUAL"]), Some("SIMPLE"));
    }

    #[test]
    fn distance_is_symmetric_and_counts_swaps_once() {
        for (a, b, d) in [
            ("", "", 0),
            ("", "abc", 3),
            ("kitten", "sitting", 3),
            ("ca", "ac", 1),
            ("TLSV1_2", "tlsv12", 1),
            ("abcdef", "badcfe", 3),
        ] {
            assert_eq!(edit_distance(a, b), d, "{a} → {b}");
            assert_eq!(edit_distance(b, a), d, "{b} → {a}");
        }
    }

    #[test]
    fn long_inputs_get_no_suggestion() {
        // At the bound a near miss is still suggested …
        let word = format!("{}x", "a".repeat(SUGGEST_MAX_CHARS - 1));
        let target = "a".repeat(SUGGEST_MAX_CHARS);
        assert_eq!(closest(&word, &[target.as_str()]), Some(target.as_str()));
        // … one char past it, even an exact-but-one match is not.
        let word = format!("{}x", "a".repeat(SUGGEST_MAX_CHARS));
        let target = "a".repeat(SUGGEST_MAX_CHARS + 1);
        assert_eq!(closest(&word, &[target.as_str()]), None);
        // And a multi-megabyte value returns at once instead of allocating
        // a matrix (3 MB × 10 chars was 333 MB).
        let huge = "T".repeat(3 << 20);
        assert_eq!(closest(&huge, &["TLSV1_2", "TLSV1_3"]), None);
    }

    #[test]
    fn echoed_values_are_cut_on_a_char_boundary_with_their_size() {
        assert_eq!(shown("TLSV1_9"), "TLSV1_9");
        let exact = "é".repeat(ECHO_MAX_CHARS);
        assert_eq!(shown(&exact), exact);
        let long = "é".repeat(ECHO_MAX_CHARS + 1);
        let out = shown(&long);
        assert_eq!(
            out,
            format!("{}… ({} bytes)", "é".repeat(ECHO_MAX_CHARS), long.len())
        );
    }

    #[test]
    fn a_huge_unknown_key_gives_a_short_warning() {
        // YAML caps implicit keys at 1024 chars; an explicit key (`? …`)
        // can be any length.
        let key = "k".repeat(1 << 20);
        let text = format!("? {key}\n: 1\n");
        let docs = parse_stream("t", &text).unwrap();
        let mut ctx = Ctx::new("t", &text);
        ctx.fields(Some(&docs[0]), "", &["spec"]).unwrap();
        assert_eq!(ctx.warnings.len(), 1);
        let w = &ctx.warnings[0];
        assert!(w.origin.field.len() < 200, "{}", w.origin.field.len());
        assert!(w.message.len() < 300, "{}", w.message);
        assert!(w.message.contains("(1048576 bytes)"), "{}", w.message);
    }
}
