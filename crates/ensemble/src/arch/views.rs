//! The read views modules publish for each other (`Manifest::views`): which views the
//! migrations create and over which tables, whether each belongs to the one module whose
//! tables it reads, and that nothing writes through one.

use std::collections::{BTreeMap, BTreeSet};

use super::{code_lines, ident_at};

/// Whether the text before a name ends with a keyword that writes to it (`INSERT INTO`,
/// `UPDATE`, `DELETE FROM`), skipping white space and string-literal continuations.
fn after_write_keyword(before: &str) -> bool {
    let trimmed = before.trim_end_matches(|c: char| c.is_whitespace() || c == '\\' || c == '"');
    let ends_with_word = |text: &str, k: &str| {
        text.len() >= k.len()
            && text[text.len() - k.len()..].eq_ignore_ascii_case(k)
            && !text[..text.len() - k.len()]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if ends_with_word(trimmed, "INTO") || ends_with_word(trimmed, "UPDATE") {
        return true;
    }
    if ends_with_word(trimmed, "FROM") {
        let rest = trimmed[..trimmed.len() - 4]
            .trim_end_matches(|c: char| c.is_whitespace() || c == '\\' || c == '"');
        return ends_with_word(rest, "DELETE");
    }
    false
}

/// The read views a migration script creates, each with the names its definition reads
/// (after `FROM` or `JOIN`). `--` comments are ignored.
pub fn view_definitions(sql: &str) -> BTreeMap<String, BTreeSet<String>> {
    let code: String = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = BTreeMap::new();
    let upper = code.to_ascii_uppercase();
    for (i, _) in upper.match_indices("CREATE VIEW ") {
        let rest = code[i + "CREATE VIEW ".len()..].trim_start();
        let rest = if rest.to_ascii_uppercase().starts_with("IF NOT EXISTS ") {
            rest["IF NOT EXISTS ".len()..].trim_start()
        } else {
            rest
        };
        let name = ident_at(rest);
        let body = &rest[name.len()..];
        let body = &body[..body.find(';').unwrap_or(body.len())];
        let mut sources = BTreeSet::new();
        let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let mut start = None;
        for (j, c) in body
            .char_indices()
            .chain(std::iter::once((body.len(), ' ')))
        {
            match (word(c), start) {
                (true, None) => start = Some(j),
                (false, Some(s)) => {
                    let before = body[..s].trim_end();
                    let up = before.to_ascii_uppercase();
                    if (up.ends_with("FROM") || up.ends_with("JOIN"))
                        && !before[..before.len() - 4]
                            .chars()
                            .next_back()
                            .is_some_and(word)
                    {
                        sources.insert(body[s..j].to_string());
                    }
                    start = None;
                }
                _ => {}
            }
        }
        out.insert(name.to_string(), sources);
    }
    out
}

/// Problems with the published read views: each view a migration creates must be declared
/// by exactly one manifest (`Manifest::views`) and each declared view created; a view is
/// named after its module (`accounts_…`) and reads only tables that module owns, none of
/// them private. `created` maps each view to the names its definition reads, `declared`
/// pairs each declared view with its manifest, `owners` maps each table to its manifest,
/// and `private` lists the private tables.
pub fn view_violations(
    created: &BTreeMap<String, BTreeSet<String>>,
    declared: &[(String, String)],
    owners: &BTreeMap<String, String>,
    private: &BTreeSet<String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut by_view: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (view, module) in declared {
        by_view.entry(view).or_default().push(module);
    }
    for (view, sources) in created {
        let modules = by_view.get(view.as_str()).cloned().unwrap_or_default();
        let [module] = modules.as_slice() else {
            problems.push(format!(
                "view `{view}` is declared by {modules:?}, not by exactly one manifest"
            ));
            continue;
        };
        if !view.starts_with(&format!("{module}_")) {
            problems.push(format!(
                "view `{view}` is declared by `{module}` but not named `{module}_…`"
            ));
        }
        for t in sources {
            if private.contains(t) {
                problems.push(format!("view `{view}` reads the private table `{t}`"));
            } else if owners.get(t).map(String::as_str) != Some(*module) {
                problems.push(format!(
                    "view `{view}` of `{module}` reads `{t}`, which `{module}` does not own"
                ));
            }
        }
    }
    for (view, module) in declared {
        if !created.contains_key(view) {
            problems.push(format!(
                "`{module}` declares the view `{view}`, which no migration creates"
            ));
        }
    }
    problems
}

/// Source files that write into a read view (`INSERT INTO`, `UPDATE`, `DELETE FROM`):
/// PostgreSQL would let a simple view be written through, so a view could become a way
/// round the owner's services. Writes go to the owner's functions.
pub fn view_writes(files: &[(String, String)], views: &BTreeSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, source) in files {
        let code: String = code_lines(source).collect::<Vec<_>>().join("\n");
        let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let mut start = None;
        for (i, c) in code
            .char_indices()
            .chain(std::iter::once((code.len(), ' ')))
        {
            match (word(c), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    let w = &code[s..i];
                    let problem = format!("{path} writes into the read view `{w}`");
                    if views.contains(w)
                        && after_write_keyword(&code[..s])
                        && !problems.contains(&problem)
                    {
                        problems.push(problem);
                    }
                    start = None;
                }
                _ => {}
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::arch::cross_module_queries;

    fn sample(path: &str, source: &str) -> (String, String) {
        (path.to_string(), source.to_string())
    }

    #[test]
    fn the_view_checks_catch_a_bad_view_and_a_write_through_one() {
        let sql = "-- CREATE VIEW commented_out AS SELECT id FROM users;\n\
            CREATE VIEW accounts_user_names AS SELECT id, display_name FROM users;\n\
            CREATE VIEW accounts_everything AS SELECT u.id FROM users u JOIN referrals r ON r.assigned_to = u.id;\n\
            CREATE VIEW people_identities AS\n  SELECT person_id, given_name FROM people_secrets;\n\
            CREATE VIEW referral_names AS SELECT id FROM referrals;\n\
            CREATE VIEW orphan_view AS SELECT id FROM referrals;\n\
            CREATE VIEW twice_declared AS SELECT id FROM referrals;";
        let created = view_definitions(sql);
        assert_eq!(
            created.get("accounts_everything").unwrap(),
            &["referrals", "users"]
                .into_iter()
                .map(String::from)
                .collect::<BTreeSet<_>>()
        );
        assert!(!created.contains_key("commented_out"));
        let declared: Vec<(String, String)> = [
            ("accounts_user_names", "accounts"),
            ("accounts_everything", "accounts"),
            ("people_identities", "people"),
            ("referral_names", "referrals"),
            ("twice_declared", "referrals"),
            ("twice_declared", "measures"),
            ("referrals_never_made", "referrals"),
        ]
        .into_iter()
        .map(|(v, m)| (v.to_string(), m.to_string()))
        .collect();
        let owners: BTreeMap<String, String> = [
            ("users", "accounts"),
            ("referrals", "referrals"),
            ("people_secrets", "people"),
        ]
        .into_iter()
        .map(|(t, m)| (t.to_string(), m.to_string()))
        .collect();
        let private: BTreeSet<String> = ["people_secrets".to_string()].into();
        let problems = view_violations(&created, &declared, &owners, &private);
        assert_eq!(
            problems,
            vec![
                "view `accounts_everything` of `accounts` reads `referrals`, which `accounts` does not own".to_string(),
                "view `orphan_view` is declared by [], not by exactly one manifest".to_string(),
                "view `people_identities` reads the private table `people_secrets`".to_string(),
                "view `referral_names` is declared by `referrals` but not named `referrals_…`".to_string(),
                "view `twice_declared` is declared by [\"referrals\", \"measures\"], not by exactly one manifest".to_string(),
                "`referrals` declares the view `referrals_never_made`, which no migration creates".to_string(),
            ]
        );

        // Reading a published view is fine for any module; writing through one is not,
        // even for its owner.
        let views: BTreeSet<String> = ["accounts_user_names".to_string()].into();
        let files = vec![
            sample(
                "modules/practice/x.rs",
                "\"SELECT u.display_name FROM practice_sessions s JOIN accounts_user_names u ON u.id = s.lead\"",
            ),
            sample(
                "modules/practice/y.rs",
                "\"UPDATE accounts_user_names SET display_name = $1\"",
            ),
            sample(
                "modules/accounts/z.rs",
                "\"DELETE FROM \\\n accounts_user_names WHERE id = $1\"; // INSERT INTO accounts_user_names",
            ),
            sample(
                "modules/measures/w.rs",
                "\"SELECT id FROM accounts_user_names\"; let updated_from = \"INSERT INTO x SELECT * FROM accounts_user_names\";",
            ),
        ];
        assert_eq!(
            view_writes(&files, &views),
            vec![
                "modules/practice/y.rs writes into the read view `accounts_user_names`".to_string(),
                "modules/accounts/z.rs writes into the read view `accounts_user_names`".to_string(),
            ]
        );
        let table_owners: BTreeMap<String, String> =
            [("users", "accounts"), ("practice_sessions", "practice")]
                .into_iter()
                .map(|(t, m)| (t.to_string(), m.to_string()))
                .collect();
        assert!(cross_module_queries(&files, &table_owners).is_empty());
    }
}
