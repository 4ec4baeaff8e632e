//! The catalog as the official MCP registry API reads it: every version with its answer already
//! serialized, in `(name, version)` byte order (the order of the `collate "C"` columns the list
//! used to walk), each server's latest, and a name index for `search`.
//!
//! The maps are persistent (`imbl`): a change copies only the paths it touches, so applying one
//! server costs O(log n) and a snapshot is cheap to keep while a newer one is built.

use std::ops::Bound;
use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use imbl::OrdMap;
#[cfg(test)]
use mcpreg_api::registry::ServerResponse;
use mcpreg_api::registry::{ListMetadata, Status};
use serde::Serialize;

use crate::db::versions::{StoredVersion, Unreadable, VersionRow};

/// A version's key: server name, then version (both compared as bytes).
type Key = (Arc<str>, Arc<str>);

/// Separates names in the search index's text (no server name holds it).
const SEPARATOR: u8 = b'\n';

/// One stored version, ready to serve.
#[derive(Debug)]
pub struct VersionEntry {
    /// Row id.
    pub id: i64,
    /// Server name.
    pub name: Arc<str>,
    /// Version string.
    pub version: Arc<str>,
    /// Lifecycle status.
    pub status: Status,
    /// Whether it is its server's latest (as stored).
    pub is_latest: bool,
    /// When it was published.
    pub published_at: DateTime<Utc>,
    /// When its registry metadata last changed.
    pub updated_at: DateTime<Utc>,
    /// Its official-API answer (`ServerResponse`), serialized.
    json: Bytes,
    /// Where `,"_meta":` starts in `json`.
    meta_at: usize,
    /// The answer's `_meta`, to serialize again with another `isLatest`.
    meta: mcpreg_api::registry::ResponseMeta,
}

impl VersionEntry {
    /// The entry of a stored version; an error when its document is not JSON (never stored so).
    pub fn new(stored: StoredVersion) -> Result<Self, serde_json::Error> {
        let StoredVersion { id, row } = stored;
        let name: Arc<str> = Arc::from(row.server_name.as_str());
        let version: Arc<str> = Arc::from(row.version.as_str());
        let (status, is_latest, published_at, updated_at) =
            (row.status, row.is_latest, row.published_at, row.updated_at);
        let response = VersionRow::into_response(row)?;
        let json = serde_json::to_vec(&response)?;
        let meta_json = serde_json::to_vec(&response.meta)?;
        // `{"server":…,"_meta":{…}}`: the meta is the object's last member.
        let meta_at = json.len() - meta_json.len() - r#","_meta":}"#.len();
        Ok(Self {
            id,
            name,
            version,
            status,
            is_latest,
            published_at,
            updated_at,
            json: Bytes::from(json),
            meta_at,
            meta: response.meta,
        })
    }

    /// The official-API answer for this version.
    pub fn json(&self) -> &Bytes {
        &self.json
    }

    /// The answer with `isLatest` set as given (an allowlist's view decides its own latest).
    pub fn json_with_latest(&self, is_latest: bool) -> Bytes {
        if is_latest == self.is_latest {
            return self.json.clone();
        }
        let mut meta = self.meta.clone();
        meta.official.is_latest = is_latest;
        let mut out = Vec::with_capacity(self.json.len() + 1);
        out.extend_from_slice(&self.json[..self.meta_at]);
        out.extend_from_slice(br#","_meta":"#);
        // A struct of strings, numbers and booleans always serializes.
        if serde_json::to_writer(&mut out, &meta).is_err() {
            return self.json.clone();
        }
        out.push(b'}');
        Bytes::from(out)
    }
}

/// Where a page starts: strictly after this server name (and version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Server name of the last item of the previous page.
    pub server_name: String,
    /// Its version; `None` for a cursor that names only a server.
    pub version: Option<String>,
}

impl Cursor {
    /// Parses the official cursor form `name:version` (or a bare `name`).
    pub fn parse(s: &str) -> Self {
        match s.split_once(':') {
            Some((name, version)) => Cursor {
                server_name: name.to_owned(),
                version: Some(version.to_owned()),
            },
            None => Cursor {
                server_name: s.to_owned(),
                version: None,
            },
        }
    }

    /// The cursor that continues after `entry`.
    pub fn after(name: &str, version: &str) -> String {
        format!("{name}:{version}")
    }

    /// Whether `(name, version)` comes after the cursor.
    pub fn precedes(&self, name: &str, version: &str) -> bool {
        match &self.version {
            Some(v) => (name, version) > (self.server_name.as_str(), v.as_str()),
            None => name > self.server_name.as_str(),
        }
    }
}

/// Filters of `GET /v0.1/servers`.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Continue after this item.
    pub cursor: Option<Cursor>,
    /// Page size (1–100).
    pub limit: u32,
    /// Case-insensitive substring of the server name.
    pub search: Option<String>,
    /// Only versions whose metadata changed strictly after this instant.
    pub updated_since: Option<DateTime<Utc>>,
    /// Only each server's latest version.
    pub latest_only: bool,
    /// Only this exact version.
    pub version: Option<String>,
    /// Include versions whose status is `deleted`.
    pub include_deleted: bool,
}

/// How `search` folds case: the registry's list as PostgreSQL's `ILIKE` on a `collate "C"`
/// column did (ASCII letters only), an allowlist's list as it always has (Unicode lower case of
/// the search; names are ASCII).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fold {
    /// ASCII letters only.
    Ascii,
    /// The search in Unicode lower case.
    Unicode,
}

/// The search text as the name index compares it (lower-case ASCII names), or `None` when no
/// name can contain it (it has a character no lower-cased name has).
pub fn search_key(search: &str, fold: Fold) -> Option<Vec<u8>> {
    let lower = match fold {
        Fold::Ascii => search.to_ascii_lowercase(),
        Fold::Unicode => search.to_lowercase(),
    };
    (lower.is_ascii() && !lower.as_bytes().contains(&SEPARATOR)).then(|| lower.into_bytes())
}

/// Every distinct server name, in order, lower-cased in one text for substring search.
#[derive(Debug, Default)]
pub struct NameIndex {
    names: Vec<Arc<str>>,
    /// `names[i]` lower-cased starts at `starts[i]`; names are separated by [`SEPARATOR`].
    text: Vec<u8>,
    starts: Vec<usize>,
}

impl NameIndex {
    fn build<'a>(names: impl Iterator<Item = &'a Arc<str>>) -> Self {
        let mut index = NameIndex::default();
        for name in names {
            if index.names.last().is_some_and(|last| last == name) {
                continue;
            }
            index.starts.push(index.text.len());
            index
                .text
                .extend(name.as_bytes().iter().map(u8::to_ascii_lowercase));
            index.text.push(SEPARATOR);
            index.names.push(name.clone());
        }
        index
    }

    /// The names at or after `from` that contain `key` (see [`search_key`]), in order.
    pub fn matching<'a>(
        &'a self,
        key: &'a [u8],
        from: Option<&str>,
    ) -> impl Iterator<Item = &'a Arc<str>> + 'a {
        let first = from.map_or(0, |f| self.names.partition_point(|n| &**n < f));
        let offset = self.starts.get(first).copied().unwrap_or(self.text.len());
        let mut last = None;
        memchr::memmem::find_iter(&self.text[offset..], key).filter_map(move |at| {
            let at = offset + at;
            let i = self.starts.partition_point(|&s| s <= at).checked_sub(1)?;
            let end = self.starts.get(i + 1).map_or(self.text.len(), |&s| s - 1);
            if at + key.len() > end || last == Some(i) {
                return None;
            }
            last = Some(i);
            self.names.get(i)
        })
    }
}

/// A server the registry cannot read: one of its stored versions holds a value outside what
/// the code knows. Reads that would include it fail (an opaque 500, the reason logged) rather
/// than serve it as something else or leave it out.
#[derive(Debug, Clone)]
pub struct Broken {
    /// The server.
    pub server: Arc<str>,
    /// What is wrong.
    pub reason: Arc<str>,
}

impl From<Broken> for crate::error::ApiError {
    fn from(b: Broken) -> Self {
        crate::error::ApiError::Internal(anyhow::anyhow!(
            "stored versions of {} are unreadable: {}",
            b.server,
            b.reason
        ))
    }
}

/// The catalog at one revision.
#[derive(Clone, Default)]
pub struct Catalog {
    versions: OrdMap<Key, Arc<VersionEntry>>,
    latest: OrdMap<Arc<str>, Arc<VersionEntry>>,
    broken: OrdMap<Arc<str>, Arc<str>>,
    names: Arc<OnceLock<NameIndex>>,
}

impl Catalog {
    /// A catalog of these stored versions.
    pub fn load(stored: Vec<Result<StoredVersion, Unreadable>>) -> Self {
        let mut catalog = Catalog::default();
        for s in stored {
            catalog.add(s);
        }
        catalog
    }

    fn add(&mut self, stored: Result<StoredVersion, Unreadable>) {
        let read = stored.and_then(|s| {
            let (server_name, version) = (s.row.server_name.clone(), s.row.version.clone());
            VersionEntry::new(s).map_err(|e| Unreadable {
                server_name,
                version,
                reason: format!("the stored document is not JSON: {e}"),
            })
        });
        match read {
            Ok(entry) => self.insert(Arc::new(entry)),
            Err(u) => {
                tracing::error!(server.name = %u.server_name, server.version = %u.version, reason = %u.reason, "a stored version is unreadable; reads of its server fail until it is fixed");
                self.broken.insert(
                    Arc::from(u.server_name.as_str()),
                    Arc::from(format!("{}: {}", u.version, u.reason).as_str()),
                );
            }
        }
    }

    fn check(&self, name: &str) -> Result<(), Broken> {
        match self.broken.get_key_value(name) {
            None => Ok(()),
            Some((server, reason)) => Err(Broken {
                server: server.clone(),
                reason: reason.clone(),
            }),
        }
    }

    fn insert(&mut self, entry: Arc<VersionEntry>) {
        if entry.is_latest {
            self.latest.insert(entry.name.clone(), entry.clone());
        }
        self.versions
            .insert((entry.name.clone(), entry.version.clone()), entry);
    }

    /// The catalog with these servers' versions replaced by `stored` (every stored version of
    /// exactly these servers; a server with none is gone).
    pub fn replace_servers(
        &self,
        servers: &[String],
        stored: Vec<Result<StoredVersion, Unreadable>>,
    ) -> Self {
        let mut next = Catalog {
            versions: self.versions.clone(),
            latest: self.latest.clone(),
            broken: self.broken.clone(),
            names: Arc::new(OnceLock::new()),
        };
        for name in servers {
            let keys: Vec<Key> = next
                .server_range(name)
                .map(|(k, _)| k.clone())
                .collect::<Vec<_>>();
            for k in keys {
                next.versions.remove(&k);
            }
            next.latest.remove(name.as_str());
            next.broken.remove(name.as_str());
        }
        for s in stored {
            next.add(s);
        }
        next
    }

    fn server_range<'a>(
        &'a self,
        name: &str,
    ) -> impl Iterator<Item = (&'a Key, &'a Arc<VersionEntry>)> + 'a {
        let name: Arc<str> = Arc::from(name);
        let from: Key = (name.clone(), Arc::from(""));
        self.versions
            .range((Bound::Included(from), Bound::Unbounded))
            .take_while(move |(k, _)| k.0 == name)
    }

    /// How many versions it holds.
    pub fn len(&self) -> usize {
        self.versions.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }

    /// One version by exact version string.
    pub fn get(&self, name: &str, version: &str) -> Result<Option<&Arc<VersionEntry>>, Broken> {
        self.check(name)?;
        Ok(self
            .versions
            .get(&(Arc::<str>::from(name), Arc::<str>::from(version))))
    }

    /// The server's latest version (deleted or not).
    pub fn latest(&self, name: &str) -> Result<Option<&Arc<VersionEntry>>, Broken> {
        self.check(name)?;
        Ok(self.latest.get(name))
    }

    /// Every version of a server, newest publication first.
    pub fn versions_of(
        &self,
        name: &str,
        include_deleted: bool,
    ) -> Result<Vec<Arc<VersionEntry>>, Broken> {
        self.check(name)?;
        let mut all: Vec<Arc<VersionEntry>> = self
            .server_range(name)
            .map(|(_, e)| e.clone())
            .filter(|e| include_deleted || e.status != Status::Deleted)
            .collect();
        all.sort_by_key(|e| std::cmp::Reverse((e.published_at, e.id)));
        Ok(all)
    }

    /// The name index, built on first use at this revision.
    pub fn names(&self) -> &NameIndex {
        self.names
            .get_or_init(|| NameIndex::build(self.versions.keys().map(|k| &k.0)))
    }

    /// One page of the list: up to `limit + 1` versions in `(name, version)` order, so the caller
    /// knows whether another follows. Fails when an unreadable server lies in the part of the
    /// catalog the page covers.
    pub fn page(&self, filter: &ListFilter) -> Result<Vec<Arc<VersionEntry>>, Broken> {
        let page = self.page_of_readable(filter);
        if self.broken.is_empty() {
            return Ok(page);
        }
        let full = page.len() > filter.limit as usize;
        let until = page.last().filter(|_| full).map(|e| &*e.name);
        let key = filter
            .search
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| search_key(s, Fold::Ascii));
        for name in self.broken.keys() {
            let covered = filter.cursor.as_ref().is_none_or(|c| match c.version {
                Some(_) => **name >= *c.server_name,
                None => **name > *c.server_name,
            }) && until.is_none_or(|u| &**name <= u)
                && key.as_ref().is_none_or(|k| {
                    k.as_ref().is_some_and(|k| {
                        memchr::memmem::find(name.to_ascii_lowercase().as_bytes(), k).is_some()
                    })
                });
            if covered {
                self.check(name)?;
            }
        }
        Ok(page)
    }

    fn page_of_readable(&self, filter: &ListFilter) -> Vec<Arc<VersionEntry>> {
        let want = filter.limit as usize + 1;
        let keep = |e: &VersionEntry| {
            (filter.include_deleted || e.status != Status::Deleted)
                && filter.version.as_deref().is_none_or(|v| v == &*e.version)
                && filter.updated_since.is_none_or(|t| e.updated_at > t)
                && filter
                    .cursor
                    .as_ref()
                    .is_none_or(|c| c.precedes(&e.name, &e.version))
        };
        let from = filter.cursor.as_ref().map(|c| c.server_name.as_str());
        let search = filter.search.as_deref().filter(|s| !s.is_empty());
        if let Some(search) = search {
            let Some(key) = search_key(search, Fold::Ascii) else {
                return Vec::new();
            };
            let mut out = Vec::new();
            for name in self.names().matching(&key, from) {
                if filter.latest_only {
                    out.extend(self.latest.get(name).filter(|e| keep(e)).cloned());
                } else {
                    out.extend(
                        self.server_range(name)
                            .map(|(_, e)| e)
                            .filter(|e| keep(e))
                            .cloned(),
                    );
                }
                if out.len() >= want {
                    out.truncate(want);
                    break;
                }
            }
            return out;
        }
        if filter.latest_only {
            let start = from.map_or(Bound::Unbounded, |f| Bound::Included(Arc::<str>::from(f)));
            return self
                .latest
                .range((start, Bound::Unbounded))
                .map(|(_, e)| e)
                .filter(|e| keep(e))
                .take(want)
                .cloned()
                .collect();
        }
        let start = from.map_or(Bound::Unbounded, |f| {
            Bound::Included((Arc::<str>::from(f), Arc::<str>::from("")))
        });
        self.versions
            .range((start, Bound::Unbounded))
            .map(|(_, e)| e)
            .filter(|e| keep(e))
            .take(want)
            .cloned()
            .collect()
    }
}

/// A list answer, `ServerList` serialized: `items` are serialized `ServerResponse`s.
pub fn list_json<'a>(items: impl Iterator<Item = &'a [u8]>, metadata: &ListMetadata) -> Bytes {
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(br#"{"servers":["#);
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.extend_from_slice(br#"],"metadata":"#);
    #[derive(Serialize)]
    struct Meta<'a>(&'a ListMetadata);
    // Strings and a number always serialize.
    let _ = serde_json::to_writer(&mut out, &Meta(metadata));
    out.push(b'}');
    Bytes::from(out)
}

/// Checks (in tests) that [`list_json`] writes what serde writes for a [`ServerList`].
#[cfg(test)]
fn serde_list(items: Vec<ServerResponse>, metadata: ListMetadata) -> Vec<u8> {
    serde_json::to_vec(&mcpreg_api::registry::ServerList {
        servers: items,
        metadata,
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: i64, name: &str, version: &str, latest: bool, status: Status) -> StoredVersion {
        let t = DateTime::from_timestamp(1_700_000_000 + id, 0).unwrap_or_default();
        StoredVersion {
            id,
            row: VersionRow {
                server_name: name.into(),
                version: version.into(),
                document: format!(r#"{{"name":"{name}","version":"{version}", "x": [1,2]}}"#),
                status,
                status_message: (status != Status::Active).then(|| "why \"quoted\"".into()),
                is_latest: latest,
                published_at: t,
                updated_at: t,
                tools_pin: (id % 2 == 0).then(|| "sha256:ab".into()),
                context_cost_tokens: Some(12),
                context_cost_encoding: Some("o200k_base".into()),
            },
        }
    }

    fn sample() -> Catalog {
        Catalog::load(vec![
            Ok(stored(1, "com.b/x", "1.0.0", false, Status::Active)),
            Ok(stored(2, "com.b/x", "2.0.0", true, Status::Active)),
            Ok(stored(
                3,
                "com.a/Server-One",
                "1.0.0",
                true,
                Status::Deprecated,
            )),
            Ok(stored(4, "com.c/gone", "1.0.0", true, Status::Deleted)),
            Ok(stored(5, "com.a/server-two", "0.1.0", true, Status::Active)),
        ])
    }

    fn names(page: &[Arc<VersionEntry>]) -> Vec<String> {
        page.iter()
            .map(|e| format!("{}@{}", e.name, e.version))
            .collect()
    }

    #[test]
    fn entries_serialize_as_the_api_type_and_can_change_latest() {
        let s = stored(2, "com.b/x", "2.0.0", true, Status::Deprecated);
        let expected = serde_json::to_vec(&s.row_response()).unwrap_or_default();
        let e = VersionEntry::new(s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.json().as_ref(), expected.as_slice());
        let mut flipped: ServerResponse =
            serde_json::from_slice(&expected).unwrap_or_else(|e| panic!("{e}"));
        flipped.meta.official.is_latest = false;
        assert_eq!(
            e.json_with_latest(false).as_ref(),
            serde_json::to_vec(&flipped).unwrap_or_default().as_slice()
        );
        assert_eq!(e.json_with_latest(true), *e.json());
    }

    impl StoredVersion {
        fn row_response(&self) -> ServerResponse {
            let r = &self.row;
            VersionRow {
                server_name: r.server_name.clone(),
                version: r.version.clone(),
                document: r.document.clone(),
                status: r.status,
                status_message: r.status_message.clone(),
                is_latest: r.is_latest,
                published_at: r.published_at,
                updated_at: r.updated_at,
                tools_pin: r.tools_pin.clone(),
                context_cost_tokens: r.context_cost_tokens,
                context_cost_encoding: r.context_cost_encoding.clone(),
            }
            .into_response()
            .unwrap_or_else(|e| panic!("{e}"))
        }
    }

    #[test]
    fn list_json_is_serde_of_server_list() {
        let rows = [
            stored(1, "com.b/x", "1.0.0", false, Status::Active),
            stored(2, "com.b/x", "2.0.0", true, Status::Active),
        ];
        let responses: Vec<ServerResponse> = rows.iter().map(|r| r.row_response()).collect();
        for cursor in [None, Some("com.b/x:2.0.0".to_owned())] {
            let meta = ListMetadata {
                next_cursor: cursor,
                count: 2,
            };
            let items: Vec<Vec<u8>> = responses
                .iter()
                .map(|r| serde_json::to_vec(r).unwrap_or_default())
                .collect();
            assert_eq!(
                list_json(items.iter().map(Vec::as_slice), &meta).as_ref(),
                serde_list(responses.clone(), meta.clone()).as_slice()
            );
        }
        let empty = ListMetadata {
            next_cursor: None,
            count: 0,
        };
        assert_eq!(
            list_json(std::iter::empty(), &empty).as_ref(),
            serde_list(Vec::new(), empty.clone()).as_slice()
        );
    }

    #[test]
    fn pages_in_byte_order_with_filters() {
        let c = sample();
        let all =
            |f: ListFilter| names(&c.page(&ListFilter { limit: 10, ..f }).unwrap_or_default());
        assert_eq!(
            all(ListFilter::default()),
            [
                "com.a/Server-One@1.0.0",
                "com.a/server-two@0.1.0",
                "com.b/x@1.0.0",
                "com.b/x@2.0.0"
            ]
        );
        assert_eq!(
            all(ListFilter {
                latest_only: true,
                include_deleted: true,
                ..Default::default()
            }),
            [
                "com.a/Server-One@1.0.0",
                "com.a/server-two@0.1.0",
                "com.b/x@2.0.0",
                "com.c/gone@1.0.0"
            ]
        );
        assert_eq!(
            all(ListFilter {
                search: Some("SERVER".into()),
                ..Default::default()
            }),
            ["com.a/Server-One@1.0.0", "com.a/server-two@0.1.0"]
        );
        assert_eq!(
            all(ListFilter {
                search: Some("a/server-%".into()),
                ..Default::default()
            }),
            Vec::<String>::new()
        );
        assert_eq!(
            all(ListFilter {
                search: Some("x\ncom".into()),
                ..Default::default()
            }),
            Vec::<String>::new()
        );
        assert_eq!(
            all(ListFilter {
                cursor: Some(Cursor::parse("com.b/x:1.0.0")),
                ..Default::default()
            }),
            ["com.b/x@2.0.0"]
        );
        assert_eq!(
            all(ListFilter {
                cursor: Some(Cursor::parse("com.a/server-two")),
                search: Some("e".into()),
                include_deleted: true,
                ..Default::default()
            }),
            ["com.c/gone@1.0.0"]
        );
        assert_eq!(
            all(ListFilter {
                version: Some("1.0.0".into()),
                ..Default::default()
            }),
            ["com.a/Server-One@1.0.0", "com.b/x@1.0.0"]
        );
        let two = c
            .page(&ListFilter {
                limit: 1,
                ..Default::default()
            })
            .unwrap_or_default();
        assert_eq!(two.len(), 2, "limit + 1 so the caller knows more follow");
    }

    #[test]
    fn replacing_a_server_changes_only_it() {
        let c = sample();
        let next = c.replace_servers(
            &["com.b/x".into(), "com.new/y".into()],
            vec![
                Ok(stored(7, "com.b/x", "3.0.0", true, Status::Active)),
                Ok(stored(8, "com.new/y", "1.0.0", true, Status::Active)),
            ],
        );
        assert_eq!(c.len(), 5, "the old snapshot is untouched");
        assert_eq!(next.len(), 5);
        assert!(matches!(next.get("com.b/x", "1.0.0"), Ok(None)));
        assert_eq!(
            next.latest("com.b/x")
                .ok()
                .flatten()
                .map(|e| e.version.to_string()),
            Some("3.0.0".into())
        );
        assert_eq!(
            names(&next.versions_of("com.b/x", false).unwrap_or_default()),
            ["com.b/x@3.0.0"]
        );
        assert_eq!(
            names(
                &next
                    .page(&ListFilter {
                        search: Some("NEW".into()),
                        limit: 5,
                        ..Default::default()
                    })
                    .unwrap_or_default()
            ),
            ["com.new/y@1.0.0"]
        );
    }

    #[test]
    fn versions_of_a_server_newest_first() {
        let c = sample();
        assert_eq!(
            names(&c.versions_of("com.b/x", true).unwrap_or_default()),
            ["com.b/x@2.0.0", "com.b/x@1.0.0"]
        );
        assert!(
            c.versions_of("com.c/gone", false)
                .unwrap_or_default()
                .is_empty()
        );
        assert_eq!(
            c.versions_of("com.c/gone", true).unwrap_or_default().len(),
            1
        );
    }

    #[test]
    fn an_unreadable_server_fails_the_reads_that_cover_it() {
        let c = sample().replace_servers(
            &["com.b/x".into()],
            vec![Err(Unreadable {
                server_name: "com.b/x".into(),
                version: "1.0.0".into(),
                reason: "unknown stored status `archived`".into(),
            })],
        );
        assert!(c.get("com.b/x", "1.0.0").is_err());
        assert!(c.latest("com.b/x").is_err());
        assert!(c.versions_of("com.b/x", true).is_err());
        let page = |cursor: Option<&str>, search: Option<&str>, limit: u32| {
            c.page(&ListFilter {
                cursor: cursor.map(Cursor::parse),
                search: search.map(str::to_owned),
                limit,
                ..Default::default()
            })
        };
        assert!(page(None, None, 10).is_err(), "the page reaches it");
        assert!(page(None, None, 1).is_ok(), "a page that ends before it");
        assert!(page(Some("com.c"), None, 10).is_ok(), "a page after it");
        assert!(
            page(None, Some("server"), 10).is_ok(),
            "a search it does not match"
        );
        assert!(page(None, Some("B/X"), 10).is_err(), "a search it matches");
        assert!(c.get("com.a/server-two", "0.1.0").is_ok());
    }

    #[test]
    fn search_keys_fold_as_before() {
        assert_eq!(search_key("AbC", Fold::Ascii), Some(b"abc".to_vec()));
        // U+212A KELVIN SIGN: ILIKE on a "C" column never matched it; allowlists' Unicode
        // lower case makes it `k`.
        assert_eq!(search_key("\u{212A}", Fold::Ascii), None);
        assert_eq!(search_key("\u{212A}", Fold::Unicode), Some(b"k".to_vec()));
        assert_eq!(search_key("a\nb", Fold::Ascii), None);
    }
}
