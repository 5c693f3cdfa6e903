//! The shape of the code, held by tests: the rules crate knows no database, runtime or GraphQL; no
//! source file grows past 500 lines; and no module imports, through any chain, a module that
//! imports it back.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Command,
};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The crates and where their sources are.
const CRATES: [(&str, &str); 4] =
    [("moments", "src"), ("rules", "rules/src"), ("store", "store/src"), ("migration", "migration/src")];

/// Crates the rules may not reach, directly or through another crate.
const NOT_IN_THE_RULES: [&str; 11] = [
    "sea-orm",
    "sea-query",
    "sqlx",
    "sqlx-core",
    "tokio",
    "async-std",
    "futures-util",
    "async-graphql",
    "axum",
    "hyper",
    "migration",
];

#[test]
fn the_rules_crate_depends_on_no_database_runtime_or_graphql_crate() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let tree = Command::new(cargo)
        .args(["tree", "--offline", "--package", "rules", "--edges", "normal", "--prefix", "none", "--format", "{p}"])
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert!(tree.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&tree.stderr));
    let names: BTreeSet<String> = String::from_utf8(tree.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect();
    assert!(names.contains("rules") && names.contains("chrono"), "unexpected cargo tree output: {names:?}");
    let found: Vec<&str> = NOT_IN_THE_RULES.iter().copied().filter(|n| names.contains(*n)).collect();
    assert!(found.is_empty(), "the rules crate reaches {found:?}");
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_source_file_is_longer_than_500_lines() {
    let mut files = Vec::new();
    for (_, dir) in CRATES {
        sources(&Path::new(ROOT).join(dir), &mut files);
    }
    sources(&Path::new(ROOT).join("tests"), &mut files);
    sources(&Path::new(ROOT).join("bench"), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).unwrap().lines().count();
            (lines > 500).then(|| format!("{} ({lines})", f.strip_prefix(ROOT).unwrap().display()))
        })
        .collect();
    assert!(long.is_empty(), "longer than 500 lines: {long:?}");
}

/// A module's path inside its crate (`["graphql", "types"]`), from its file.
fn module_of(dir: &Path, file: &Path) -> Vec<String> {
    let mut parts: Vec<String> =
        file.strip_prefix(dir).unwrap().with_extension("").iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

/// The unit of the check: a module, except that the schema's object types (`graphql::types`),
/// which refer to each other as the schema's types do, count as one.
fn unit(module: &[String]) -> Vec<String> {
    if module.starts_with(&["graphql".to_owned(), "types".to_owned()]) {
        return module[..2].to_vec();
    }
    module.to_vec()
}

/// Removes comments and `#[cfg(test)] mod tests`, which may use anything.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// Every path a file names from `crate::` or `super::`, with `use` trees spread out.
fn paths(code: &str) -> Vec<String> {
    fn spread(prefix: &str, tree: &str, out: &mut Vec<String>) {
        let tree = tree.trim();
        if let Some(open) = tree.find('{').filter(|_| tree.ends_with('}')) {
            let head = format!("{prefix}{}", &tree[..open]);
            let (mut depth, mut start) = (0, open + 1);
            let inner = &tree[..tree.len() - 1];
            for (i, c) in inner.char_indices().skip(open + 1) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        spread(&head, &inner[start..i], out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            spread(&head, &inner[start..], out);
        } else if !tree.is_empty() {
            out.push(format!("{prefix}{tree}"));
        }
    }
    let mut out = Vec::new();
    let compact: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
    for statement in compact.split(';') {
        if let Some(at) = statement.find("use crate::").or_else(|| statement.find("use super::")) {
            spread("", &statement[at + 4..], &mut out);
        }
    }
    for (at, _) in compact.match_indices("crate::").chain(compact.match_indices("super::")) {
        // Not the second half of `super::super::` or of another crate's name.
        if compact[..at].ends_with(|c: char| c == ':' || c == '_' || c.is_alphanumeric()) {
            continue;
        }
        let rest: String =
            compact[at..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
        // A `use` tree's head (`crate::graphql::{`) was spread above.
        if !rest.ends_with("::") {
            out.push(rest);
        }
    }
    out
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let mut cycles = Vec::new();
    for (name, dir) in CRATES {
        let dir = Path::new(ROOT).join(dir);
        let mut files = Vec::new();
        sources(&dir, &mut files);
        files.retain(|f| !f.ends_with("main.rs"));
        let modules: BTreeMap<Vec<String>, PathBuf> = files.iter().map(|f| (module_of(&dir, f), f.clone())).collect();
        let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
        for (module, file) in &modules {
            let code = code_of(&std::fs::read_to_string(file).unwrap());
            for path in paths(&code) {
                let mut segments: Vec<&str> = path.split("::").map(str::trim).filter(|s| !s.is_empty()).collect();
                let mut target: Vec<String> = match segments.first() {
                    Some(&"crate") => Vec::new(),
                    Some(&"super") => {
                        let mut base = module.clone();
                        while segments.first() == Some(&"super") {
                            base.pop();
                            segments.remove(0);
                        }
                        segments.insert(0, "super");
                        base
                    }
                    _ => continue,
                };
                target.extend(segments[1..].iter().map(|s| s.split(' ').next().unwrap_or("").to_owned()));
                // The longest prefix that is a module of this crate.
                while !target.is_empty() && !modules.contains_key(&target) {
                    target.pop();
                }
                let (from, to) = (unit(module), unit(&target));
                if from != to {
                    edges.entry(from).or_default().insert(to);
                }
            }
            // A module's own submodules, named without `crate::` (`ws::LiveEdge`, `use ws::…`).
            let compact: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
            for child in modules.keys().filter(|m| m.len() == module.len() + 1 && m.starts_with(module)) {
                let name = format!("{}::", child[module.len()]);
                let named = compact
                    .match_indices(&name)
                    .any(|(at, _)| !compact[..at].ends_with(|c: char| c == ':' || c == '_' || c.is_alphanumeric()));
                let (from, to) = (unit(module), unit(child));
                if named && from != to {
                    edges.entry(from).or_default().insert(to);
                }
            }
        }
        // A unit in a cycle reaches itself.
        for start in edges.keys() {
            let mut seen = BTreeSet::new();
            let mut stack: Vec<&Vec<String>> = edges[start].iter().collect();
            while let Some(next) = stack.pop() {
                if next == start {
                    let to: Vec<String> = edges[start].iter().map(|m| m.join("::")).collect();
                    cycles.push(format!("{name}::{} -> {}", start.join("::"), to.join(", ")));
                    break;
                }
                if seen.insert(next.clone()) {
                    stack.extend(edges.get(next).into_iter().flatten());
                }
            }
        }
    }
    assert!(cycles.is_empty(), "modules in an import circle, with what each imports:\n{}", cycles.join("\n"));
}
