//! Checks over the crate's own source that keep its shape: the platform layers import no
//! capability module and form no import cycle, a capability module's private tables
//! are named only by that module, no module names another's tables, and the read views
//! modules publish are sound ([`views`]). Each check is a pure function over `(path, source)`
//! pairs, so the tests below run it on the real tree and on bad samples.
//!
//! A "unit" is a top-level part of the crate (`db`, `web`, `jobs`…) or one capability
//! module (`modules::referrals`).

use std::collections::{BTreeMap, BTreeSet};

mod views;
pub use views::{view_definitions, view_violations, view_writes};

/// Units that are the platform: they may import each other (without cycles) but never a
/// capability module, `api`, `app` or `demo`.
pub const PLATFORM: &[&str] = &[
    "api", "audit", "auth", "code", "config", "csvfile", "dates", "db", "error", "jobs",
    "manifest", "notify", "ops", "rbac", "state", "web",
];

/// Units that assemble the modules and so may import every one of them: `app` (the
/// manifests, the router, the state) and `api::v1` (the OpenAPI document lists every
/// module's operations). Nothing in the platform may import them.
pub const COMPOSITION: &[&str] = &["app", "api::v1", "demo", "backup"];

/// The unit a source path (relative to `src/`) belongs to: `modules::<name>` for a
/// capability module, `<dir>::<file>` inside a platform folder (`auth::session`), else the
/// top-level name (`state`, `app`).
pub fn unit_of(path: &str) -> String {
    let path = path.trim_start_matches("./");
    let mut parts = path.split('/');
    let first = parts.next().unwrap_or_default().trim_end_matches(".rs");
    let second = parts.next().map(|p| p.trim_end_matches(".rs"));
    match (first, second) {
        ("modules", Some(m)) if m != "mod" => format!("modules::{m}"),
        ("modules", _) => "modules".to_string(),
        (dir, Some(file)) if file != "mod" && PLATFORM.contains(&dir) => format!("{dir}::{file}"),
        (dir, _) => dir.to_string(),
    }
}

/// The platform layer a unit belongs to (`auth::session` → `auth`).
fn layer(unit: &str) -> &str {
    if unit.starts_with("modules") {
        return unit;
    }
    unit.split("::").next().unwrap_or(unit)
}

/// Strip `//` comments (line and doc comments) so prose does not count as an import.
fn code_lines(source: &str) -> impl Iterator<Item = &str> {
    source.lines().map(|l| match l.find("//") {
        // A `//` inside a string literal such as "http://" is kept: only cut when the part
        // before it has an even number of quotes.
        Some(i) if l[..i].matches('"').count() % 2 == 0 => &l[..i],
        _ => l,
    })
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// Units named by `crate::…` paths in a source file (grouped `crate::{a, b::c}` included).
pub fn references(source: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let code: String = code_lines(source).collect::<Vec<_>>().join("\n");
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Take the brace group and the first identifier of each top-level item.
            let mut depth = 1;
            let mut end = group.len();
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = j;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let inner = &group[..end];
            let mut item_start = 0;
            let mut d = 0;
            let bytes: Vec<char> = inner.chars().collect();
            let mut items = Vec::new();
            for (j, c) in bytes.iter().enumerate() {
                match c {
                    '{' => d += 1,
                    '}' => d -= 1,
                    ',' if d == 0 => {
                        items.push(bytes[item_start..j].iter().collect::<String>());
                        item_start = j + 1;
                    }
                    _ => {}
                }
            }
            items.push(bytes[item_start..].iter().collect::<String>());
            for item in items {
                let item = item.trim();
                add_path(&mut out, item);
            }
        } else {
            add_path(&mut out, rest);
        }
    }
    out
}

fn add_path(out: &mut BTreeSet<String>, path: &str) {
    let first = ident_at(path);
    if first.is_empty() || first == "self" {
        return;
    }
    if first == "modules" {
        let after = &path[first.len()..];
        if let Some(rest) = after.strip_prefix("::") {
            if let Some(group) = rest.strip_prefix('{') {
                for m in group.split(',') {
                    let m = ident_at(m.trim());
                    if !m.is_empty() {
                        out.insert(format!("modules::{m}"));
                    }
                }
            } else {
                let m = ident_at(rest);
                if !m.is_empty() {
                    out.insert(format!("modules::{m}"));
                }
            }
        } else {
            out.insert("modules".into());
        }
    } else {
        let after = &path[first.len()..];
        match after.strip_prefix("::") {
            Some(rest) if rest.starts_with('{') => {
                for m in rest[1..].split(',') {
                    let m = ident_at(m.trim());
                    if !m.is_empty() {
                        out.insert(format!("{first}::{m}"));
                    }
                }
            }
            Some(rest) if !ident_at(rest).is_empty() => {
                out.insert(format!("{first}::{}", ident_at(rest)));
            }
            _ => {
                out.insert(first.to_string());
            }
        }
    }
}

/// `super::x` paths of a file inside a platform folder name its siblings.
fn super_references(source: &str) -> BTreeSet<String> {
    let code: String = code_lines(source).collect::<Vec<_>>().join("\n");
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("super::") {
        rest = &rest[i + "super::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            for m in group
                .split(['}', ';'])
                .next()
                .unwrap_or_default()
                .split(',')
            {
                let m = ident_at(m.trim());
                if !m.is_empty() {
                    out.insert(m.to_string());
                }
            }
        } else {
            let m = ident_at(rest);
            if !m.is_empty() {
                out.insert(m.to_string());
            }
        }
    }
    out
}

/// The import graph between units.
pub fn graph(files: &[(String, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let units: BTreeSet<String> = files.iter().map(|(p, _)| unit_of(p)).collect();
    let resolve = |r: &str| -> String {
        if units.contains(r) || r.starts_with("modules") {
            return r.to_string();
        }
        r.split("::").next().unwrap_or(r).to_string()
    };
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, source) in files {
        let from = unit_of(path);
        let mut refs: BTreeSet<String> = references(source).iter().map(|r| resolve(r)).collect();
        // Siblings inside a platform folder (`super::session` from `auth/csrf.rs`).
        if from.contains("::") && !from.starts_with("modules") {
            let dir = layer(&from).to_string();
            for s in super_references(source) {
                refs.insert(resolve(&format!("{dir}::{s}")));
            }
        }
        let entry = g.entry(from.clone()).or_default();
        for r in refs {
            if r != from {
                entry.insert(r);
            }
        }
    }
    g
}

/// Problems with the platform layers: imports of modules (or of `api`, `app`, `demo`)
/// and any import cycle among platform units.
pub fn platform_violations(files: &[(String, String)]) -> Vec<String> {
    let g = graph(files);
    let mut problems = Vec::new();
    for (from, tos) in &g {
        if !PLATFORM.contains(&layer(from)) || COMPOSITION.contains(&from.as_str()) {
            continue;
        }
        for to in tos {
            if to.starts_with("modules") || COMPOSITION.contains(&to.as_str()) {
                problems.push(format!("platform layer `{from}` imports `{to}`"));
            }
        }
    }
    // Cycles among platform units: depth-first search with colours.
    let platform: BTreeSet<&str> = g
        .keys()
        .map(String::as_str)
        .filter(|u| PLATFORM.contains(&layer(u)) && !COMPOSITION.contains(u))
        .collect();
    let mut colour: BTreeMap<&str, u8> = BTreeMap::new();
    fn visit<'a>(
        n: &'a str,
        g: &'a BTreeMap<String, BTreeSet<String>>,
        platform: &BTreeSet<&str>,
        colour: &mut BTreeMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
        problems: &mut Vec<String>,
    ) {
        colour.insert(n, 1);
        stack.push(n);
        if let Some(tos) = g.get(n) {
            for to in tos {
                if !platform.contains(to.as_str()) {
                    continue;
                }
                match colour.get(to.as_str()).copied().unwrap_or(0) {
                    0 => visit(to, g, platform, colour, stack, problems),
                    1 => {
                        let start = stack.iter().position(|s| *s == to).unwrap_or(0);
                        let mut cycle: Vec<&str> = stack[start..].to_vec();
                        cycle.push(to);
                        problems.push(format!("import cycle: {}", cycle.join(" → ")));
                    }
                    _ => {}
                }
            }
        }
        stack.pop();
        colour.insert(n, 2);
    }
    for n in platform.clone() {
        if colour.get(n).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            visit(n, &g, &platform, &mut colour, &mut stack, &mut problems);
        }
    }
    problems
}

/// SQL keywords after which a name is a table.
const TABLE_KEYWORDS: &[&str] = &["FROM", "JOIN", "INTO", "UPDATE", "TABLE", "EXISTS"];

/// Whether the text before a name ends with a table keyword (skipping white space and the
/// `\` of a continued string literal).
fn after_table_keyword(before: &str) -> bool {
    let trimmed = before.trim_end_matches(|c: char| c.is_whitespace() || c == '\\' || c == '"');
    TABLE_KEYWORDS.iter().any(|k| {
        trimmed.len() >= k.len()
            && trimmed[trimmed.len() - k.len()..].eq_ignore_ascii_case(k)
            && !trimmed[..trimmed.len() - k.len()]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// Source files whose SQL names a private table they do not own (`FROM … `, `JOIN …`,
/// `UPDATE …`, or the table's name alone in quotes). `private` pairs each private table
/// with its owner: a capability module (`modules::people`) or, for the platform's own
/// tables, `platform` (any platform layer). Modules declare their private tables in their
/// manifests ([`private_tables`]).
pub fn private_table_violations(
    files: &[(String, String)],
    private: &[(String, String)],
) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, source) in files {
        let unit = unit_of(path);
        if unit == "app" {
            continue; // declares which module owns which table
        }
        let unit = layer(&unit);
        let code: String = code_lines(source).collect::<Vec<_>>().join("\n");
        for (table, owner) in private {
            let owns = unit == owner.as_str()
                || (owner == "platform"
                    && PLATFORM.contains(&unit)
                    && !COMPOSITION.contains(&unit));
            if owns {
                continue;
            }
            let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            let found = code.match_indices(table.as_str()).any(|(i, _)| {
                let before = code[..i].chars().next_back();
                let after = code[i + table.len()..].chars().next();
                let quoted = before == Some('"') && after == Some('"');
                !word(before) && !word(after) && (quoted || after_table_keyword(&code[..i]))
            });
            if found {
                problems.push(format!(
                    "{path} queries `{table}`, which only `{owner}` may read"
                ));
            }
        }
    }
    problems
}

/// The private tables every manifest declares, each with its owner as
/// [`private_table_violations`] names it.
pub fn private_tables() -> Vec<(String, String)> {
    crate::app::manifests()
        .into_iter()
        .flat_map(|m| {
            let owner = if m.name == "platform" {
                "platform".to_string()
            } else {
                format!("modules::{}", m.name)
            };
            m.private
                .iter()
                .map(move |t| ((*t).to_string(), owner.clone()))
        })
        .collect()
}

/// Tables named after a SQL table keyword in a source text.
fn sql_tables<'a>(code: &'a str, known: &BTreeMap<String, String>) -> BTreeSet<&'a str> {
    let mut out = BTreeSet::new();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut start = None;
    for (i, c) in code.char_indices() {
        match (word(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let w = &code[s..i];
                if known.contains_key(w) && after_table_keyword(&code[..s]) {
                    out.insert(w);
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Every (module, table) pair where a capability module's SQL names a table that another
/// manifest owns. `owners` maps each table to the name of the manifest that owns it
/// (`referrals`, `platform`…); modules are named as in `modules/<name>/`.
pub fn cross_module_queries(
    files: &[(String, String)],
    owners: &BTreeMap<String, String>,
) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, source) in files {
        let unit = unit_of(path);
        let Some(module) = unit.strip_prefix("modules::") else {
            continue;
        };
        let code: String = code_lines(source).collect::<Vec<_>>().join("\n");
        for t in sql_tables(&code, owners) {
            if owners.get(t).is_some_and(|o| o != module) {
                out.insert((module.to_string(), t.to_string()));
            }
        }
    }
    out
}

/// Where a module's SQL still reads another module's table today: debt to pay by moving the
/// read behind a named function of the owner (as `accounts::store::emails_with_role` and
/// `people::service::display_names` did) or onto one of the owner's published read views
/// (`accounts_user_names`…). The check fails on any pair not listed here, so the list can
/// only shrink, and on a listed pair that no longer occurs.
pub const KNOWN_CROSS_MODULE_QUERIES: &[(&str, &str)] = &[];

/// Inline `style` attributes in templates: `file:line` for each. The CSP (`style-src
/// 'self'`) blocks them in the browser, so a page that relies on one looks wrong; put the
/// rule in `assets/css/ensemble.css` and use a class. A `style=` inside a string, as in a
/// test that looks for one (`contains("style=")`), does not count.
pub fn inline_style_violations(files: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (path, source) in files {
        for (n, line) in code_lines(source).enumerate() {
            let found = line.match_indices("style").any(|(i, _)| {
                let before = line[..i].chars().next_back();
                let after = line[i + "style".len()..].trim_start();
                !before.is_some_and(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '"' | '.' | '#')
                }) && after.starts_with('=')
                    && !after.starts_with("==")
            });
            if found {
                out.push(format!("{path}:{}", n + 1));
            }
        }
    }
    out
}

/// The most lines a source file may hold before its tests (`#[cfg(test)]`): past this it
/// is split by sub-domain or page family, so one person can hold a file in their head.
pub const MAX_FILE_LINES: usize = 900;

/// Files longer than [`MAX_FILE_LINES`] (not counting a trailing test module), with their
/// length.
pub fn oversized_files(files: &[(String, String)]) -> Vec<(String, usize)> {
    files
        .iter()
        .filter_map(|(path, source)| {
            let lines = source
                .lines()
                .position(|l| l.trim() == "#[cfg(test)]")
                .unwrap_or_else(|| source.lines().count());
            (lines > MAX_FILE_LINES).then(|| (path.clone(), lines))
        })
        .collect()
}

/// The most lines a route handler may hold: it parses, calls one service and renders; the
/// markup lives in a view function beside it.
pub const MAX_HANDLER_LINES: usize = 40;

/// Route handlers longer than [`MAX_HANDLER_LINES`], as `path: name (lines)`. A handler is a
/// top-level `async fn` that takes an axum extractor by value (`State(..)`, `Path(..)`,
/// `Query(..)`, `Form(..)`, `Json(..)`, or `ctx: PageCtx`); middleware (taking `Next`) is not
/// a handler. Its length runs from `fn` to the closing brace in the first column.
pub fn long_handlers(files: &[(String, String)]) -> Vec<String> {
    const EXTRACTORS: &[&str] = &[
        "State(",
        "Path(",
        "Query(",
        "Form(",
        "Json(",
        ": PageCtx,",
        ": PageCtx)",
    ];
    let mut out = Vec::new();
    for (path, source) in files {
        let lines: Vec<&str> = source.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let l = lines[i];
            let starts = [
                "async fn ",
                "pub async fn ",
                "pub(crate) async fn ",
                "pub(super) async fn ",
            ]
            .iter()
            .any(|p| l.starts_with(p));
            if !starts {
                i += 1;
                continue;
            }
            let mut j = i;
            while j < lines.len() && !lines[j].trim_end().ends_with('{') {
                j += 1;
            }
            let signature = lines[i..=j.min(lines.len() - 1)].concat();
            let mut end = j + 1;
            while end < lines.len() && lines[end] != "}" {
                end += 1;
            }
            let is_handler =
                EXTRACTORS.iter().any(|e| signature.contains(e)) && !signature.contains("Next");
            let n = end.min(lines.len() - 1) - i + 1;
            if is_handler && n > MAX_HANDLER_LINES {
                let name = l
                    .split("fn ")
                    .nth(1)
                    .and_then(|r| r.split(['(', '<']).next())
                    .unwrap_or_default();
                out.push(format!("{path}: {name} ({n} lines)"));
            }
            i = end + 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn crate_sources() -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut out = Vec::new();
        let mut dirs = vec![root.clone()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let rel = p
                        .strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/");
                    if rel == "arch.rs" || rel.starts_with("arch/") {
                        continue; // names the tables on purpose
                    }
                    out.push((rel, std::fs::read_to_string(&p).unwrap()));
                }
            }
        }
        assert!(out.len() > 50, "found only {} source files", out.len());
        out
    }

    fn sample(path: &str, source: &str) -> (String, String) {
        (path.to_string(), source.to_string())
    }

    #[test]
    fn platform_layers_import_no_capability_module_and_form_no_cycle() {
        let problems = platform_violations(&crate_sources());
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn only_the_owning_module_names_a_private_table() {
        let private = private_tables();
        assert!(private.len() >= 7, "{private:?}");
        for (t, _) in &private {
            assert!(
                owners().contains_key(t),
                "a private table must also be owned: {t}"
            );
        }
        let problems = private_table_violations(&crate_sources(), &private);
        assert!(problems.is_empty(), "{problems:#?}");
    }

    fn owners() -> BTreeMap<String, String> {
        let mut owners = BTreeMap::new();
        for m in crate::app::manifests() {
            for t in m.tables {
                owners.insert((*t).to_string(), m.name.to_string());
            }
        }
        owners
    }

    #[test]
    fn modules_query_no_other_module_s_tables_beyond_the_known_debt() {
        let found = cross_module_queries(&crate_sources(), &owners());
        let known: BTreeSet<(String, String)> = KNOWN_CROSS_MODULE_QUERIES
            .iter()
            .map(|(m, t)| ((*m).to_string(), (*t).to_string()))
            .collect();
        let new: Vec<_> = found.difference(&known).collect();
        let gone: Vec<_> = known.difference(&found).collect();
        assert!(
            new.is_empty(),
            "these modules query another module's table; call a named function of the owner, or read a view it publishes, instead: {new:?}"
        );
        assert!(
            gone.is_empty(),
            "these no longer happen: remove them from arch::KNOWN_CROSS_MODULE_QUERIES: {gone:?}"
        );
    }

    #[test]
    fn the_cross_module_check_catches_a_module_reading_another_s_table() {
        let owners: BTreeMap<String, String> = [
            ("users", "accounts"),
            ("referrals", "referrals"),
            ("practice_sessions", "practice"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let files = vec![
            sample(
                "modules/practice/x.rs",
                "\"SELECT u.email FROM practice_sessions s JOIN \\\n users u ON u.id = s.lead\" // FROM referrals",
            ),
            sample(
                "modules/referrals/y.rs",
                "\"UPDATE referrals SET x = 1\"; let users = 3;",
            ),
        ];
        let found = cross_module_queries(&files, &owners);
        assert_eq!(
            found.into_iter().collect::<Vec<_>>(),
            vec![("practice".to_string(), "users".to_string())]
        );
    }

    #[test]
    fn every_table_in_the_migrations_has_exactly_one_owning_manifest() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/sqlite");
        let mut tables = BTreeSet::new();
        for e in std::fs::read_dir(&dir).unwrap() {
            let sql = std::fs::read_to_string(e.unwrap().path()).unwrap();
            for (i, _) in sql.match_indices("CREATE TABLE ") {
                let rest = sql[i + "CREATE TABLE ".len()..].trim_start_matches("IF NOT EXISTS ");
                let name = ident_at(rest);
                if !name.starts_with('_') {
                    tables.insert(name.to_string());
                }
            }
        }
        assert!(tables.len() > 40, "found only {} tables", tables.len());
        let mut owners: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for m in crate::app::manifests() {
            for t in m.tables {
                owners.entry((*t).to_string()).or_default().push(m.name);
            }
        }
        for t in &tables {
            let o = owners.get(t).cloned().unwrap_or_default();
            assert_eq!(o.len(), 1, "table {t} is owned by {o:?}");
        }
        for t in owners.keys() {
            assert!(
                tables.contains(t),
                "a manifest owns {t}, which no migration creates"
            );
        }
    }

    fn migration_views(backend: &str) -> BTreeMap<String, BTreeSet<String>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../migrations")
            .join(backend);
        let mut views = BTreeMap::new();
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for path in files {
            let sql = std::fs::read_to_string(path).unwrap();
            for (v, sources) in view_definitions(&sql) {
                // A later migration may redefine a view it first drops.
                let replaced = sql.contains(&format!("DROP VIEW {v};"));
                assert!(
                    views.insert(v.clone(), sources).is_none() || replaced,
                    "view {v} is created twice"
                );
            }
        }
        views
    }

    fn declared_views() -> Vec<(String, String)> {
        crate::app::manifests()
            .into_iter()
            .flat_map(|m| {
                m.views
                    .iter()
                    .map(move |v| ((*v).to_string(), m.name.to_string()))
            })
            .collect()
    }

    #[test]
    fn every_view_in_the_migrations_is_published_by_the_module_whose_tables_it_reads() {
        let created = migration_views("sqlite");
        assert_eq!(
            created,
            migration_views("postgres"),
            "both backends create the same views over the same tables"
        );
        assert!(created.len() >= 10, "found only {} views", created.len());
        let private: BTreeSet<String> = private_tables().into_iter().map(|(t, _)| t).collect();
        let problems = view_violations(&created, &declared_views(), &owners(), &private);
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn no_source_file_writes_into_a_read_view() {
        let views: BTreeSet<String> = declared_views().into_iter().map(|(v, _)| v).collect();
        let problems = view_writes(&crate_sources(), &views);
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn no_source_file_is_longer_than_one_person_can_hold() {
        let mut files = crate_sources();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for rel in ["src/arch.rs", "src/arch/views.rs"] {
            files.push((
                rel.to_string(),
                std::fs::read_to_string(root.join(rel)).unwrap(),
            ));
        }
        let cli = root.join("../ensemble-cli/src");
        let mut dirs = vec![cli.clone()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    files.push((
                        p.display().to_string(),
                        std::fs::read_to_string(&p).unwrap(),
                    ));
                }
            }
        }
        let found = oversized_files(&files);
        assert!(
            found.is_empty(),
            "files over {MAX_FILE_LINES} lines before their tests (split them by sub-domain): {found:?}"
        );
        // The check itself: a long file is caught, and its test module does not count.
        let long = "fn a() {}\n".repeat(MAX_FILE_LINES + 1);
        let tested = format!(
            "{}#[cfg(test)]\nmod tests {{\n{}}}\n",
            "fn a() {}\n".repeat(10),
            long
        );
        let found = oversized_files(&[sample("long.rs", &long), sample("tested.rs", &tested)]);
        assert_eq!(found, vec![("long.rs".to_string(), MAX_FILE_LINES + 1)]);
    }

    #[test]
    fn route_handlers_parse_call_one_service_and_render() {
        let found = long_handlers(&crate_sources());
        assert!(
            found.is_empty(),
            "handlers over {MAX_HANDLER_LINES} lines (move the markup into a view function and the work into a service): {found:#?}"
        );
        let long = format!(
            "pub async fn page(\n    State(state): State<AppState>,\n    ctx: PageCtx,\n) -> Response {{\n{}}}\n",
            "    x();\n".repeat(MAX_HANDLER_LINES)
        );
        let service = format!(
            "pub async fn work(state: &AppState) -> Result<(), AppError> {{\n{}}}\n",
            "    x();\n".repeat(MAX_HANDLER_LINES)
        );
        let layer = format!(
            "pub async fn layer(State(s): State<AppState>, req: Request, next: Next) -> Response {{\n{}}}\n",
            "    x();\n".repeat(MAX_HANDLER_LINES)
        );
        let found = long_handlers(&[
            sample("a.rs", &long),
            sample("b.rs", &service),
            sample("c.rs", &layer),
        ]);
        assert_eq!(
            found,
            vec![format!("a.rs: page ({} lines)", MAX_HANDLER_LINES + 5)]
        );
    }

    #[test]
    fn templates_have_no_inline_style_attribute() {
        let found = inline_style_violations(&crate_sources());
        assert!(
            found.is_empty(),
            "inline style attributes (blocked by the CSP; use a class in assets/css): {found:?}"
        );
    }

    #[test]
    fn the_inline_style_check_catches_a_style_attribute_and_ignores_a_string() {
        let bad = vec![
            sample(
                "a.rs",
                r#"p."nhsuk-body" style="white-space: pre-line" { (x) }"#,
            ),
            sample("b.rs", r#"div style=(css) { }"#),
            sample("c.rs", "span\n    style = \"color: red\" {}"),
        ];
        assert_eq!(inline_style_violations(&bad).len(), 3);
        let good = vec![
            sample("d.rs", r#"assert!(!svg.contains("style="));"#),
            sample(
                "e.rs",
                r#"p."ensemble-pre-line" { (x) } // style="x" in prose"#,
            ),
            sample(
                "f.rs",
                r#"let list_style = 1; data-style="x" if style == other {}"#,
            ),
        ];
        assert!(inline_style_violations(&good).is_empty());
    }

    #[test]
    fn the_platform_check_catches_a_module_import_and_a_cycle() {
        let bad = vec![
            sample(
                "jobs/mod.rs",
                "use crate::modules::referrals::service;\nuse crate::state::AppState;",
            ),
            sample(
                "state.rs",
                "use crate::{config::Config, jobs::JobRegistry};",
            ),
            sample("error.rs", "fn f() { crate::web::pages::x() }"),
            sample("web/pages.rs", "use crate::error::AppError;"),
            sample(
                "modules/referrals/service.rs",
                "use crate::jobs; // crate::modules::x in prose",
            ),
        ];
        let problems = platform_violations(&bad);
        assert!(
            problems
                .iter()
                .any(|p| p == "platform layer `jobs` imports `modules::referrals`"),
            "{problems:#?}"
        );
        assert!(
            problems.iter().any(|p| p.starts_with("import cycle: ")
                && p.contains("jobs")
                && p.contains("state")),
            "{problems:#?}"
        );
        assert!(
            problems.iter().any(|p| p.starts_with("import cycle: ")
                && p.contains("error")
                && p.contains("web")),
            "{problems:#?}"
        );
        // A module importing the platform is fine, and comments are not imports.
        assert!(
            !problems
                .iter()
                .any(|p| p.contains("`modules::referrals` imports"))
        );
    }

    #[test]
    fn grouped_and_nested_imports_are_seen() {
        let refs = references(
            "use crate::{db::Tx, modules::{people, referrals::service}, web::routes::Route};\n\
             // use crate::demo;\n\
             let url = \"http://x\"; crate::audit::by(tx);",
        );
        let want: BTreeSet<String> = [
            "db::Tx",
            "modules::people",
            "modules::referrals",
            "web::routes",
            "audit::by",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(refs, want);
    }

    #[test]
    fn the_table_check_catches_another_module_reading_a_private_table() {
        let bad = vec![
            sample(
                "modules/measures/schedules.rs",
                "sqlx::query(\"SELECT given_name FROM secret_identities WHERE person_id = $1\")",
            ),
            sample("auth/session.rs", "\"DELETE FROM sessions\""),
            sample(
                "modules/people/service.rs",
                "\"SELECT * FROM secret_identities\"",
            ),
            sample(
                "modules/practice/reflection.rs",
                "\"SELECT * FROM journal_entries\"",
            ),
            sample(
                "modules/referrals/x.rs",
                "let secret_identities_count = 1; // FROM secret_identities",
            ),
            sample(
                "modules/referrals/y.rs",
                "\"DELETE FROM \\\n sessions WHERE user_id = $1\" // the practice sessions",
            ),
            sample(
                "modules/practice/z.rs",
                "\"SELECT * FROM practice_sessions\"; let s = \"past sessions\";",
            ),
            sample(
                "modules/measures/w.rs",
                "bulk_insert(&\"journal_entries\", rows)",
            ),
        ];
        let private: Vec<(String, String)> = [
            ("secret_identities", "modules::people"),
            ("journal_entries", "modules::practice"),
            ("sessions", "platform"),
        ]
        .into_iter()
        .map(|(t, o)| (t.to_string(), o.to_string()))
        .collect();
        let problems = private_table_violations(&bad, &private);
        assert_eq!(
            problems,
            vec![
                "modules/measures/schedules.rs queries `secret_identities`, which only `modules::people` may read".to_string(),
                "modules/referrals/y.rs queries `sessions`, which only `platform` may read".to_string(),
                "modules/measures/w.rs queries `journal_entries`, which only `modules::practice` may read".to_string(),
            ]
        );
    }
}
