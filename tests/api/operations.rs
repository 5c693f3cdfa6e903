//! The operations front-ends send, checked against `schema.graphql` by a GraphQL compiler that is
//! not this server's (apollo-compiler): every `.graphql` file under `operations/`, and every
//! GraphQL example in the README, which must be one of those files word for word. A schema change
//! that would break one of them fails here and names it.

use std::path::{Path, PathBuf};

use apollo_compiler::{ExecutableDocument, Schema};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.graphql` file under `dir`, sorted.
fn graphql_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "graphql") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The GraphQL code blocks of a Markdown text.
fn graphql_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```graphql") => current = Some(String::new()),
            (Some(_), "```") => blocks.push(current.take().unwrap()),
            (Some(block), line) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn every_operation_is_valid_against_the_schema() {
    let sdl = std::fs::read_to_string(root().join("schema.graphql")).unwrap();
    let schema = Schema::parse_and_validate(sdl, "schema.graphql").expect("schema.graphql is a valid schema");
    let files = graphql_files(&root().join("operations"));
    assert!(files.len() >= 7, "the README's examples at least: {files:?}");
    let mut failures = Vec::new();
    // Tools that read every file together (GraphQL Code Generator on `operations/**/*.graphql`,
    // persisted-query manifests) need each operation and fragment name once across all of them.
    let mut names: Vec<(String, String)> = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        match ExecutableDocument::parse_and_validate(&schema, text, &name) {
            Ok(document) => {
                let operations = document.operations.iter().map(|op| match &op.name {
                    Some(n) => format!("operation {n}"),
                    None => "an anonymous operation".to_owned(),
                });
                let fragments = document.fragments.keys().map(|n| format!("fragment {n}"));
                names.extend(operations.chain(fragments).map(|what| (what, name.clone())));
            }
            Err(errors) => failures.push(format!("{name}:\n{}", errors.errors)),
        }
    }
    assert!(failures.is_empty(), "operations the schema no longer serves:\n{}", failures.join("\n"));
    names.sort();
    let twice: Vec<String> = names
        .windows(2)
        .filter(|pair| pair[0].0 == pair[1].0)
        .map(|pair| format!("{} in {} and {}", pair[0].0, pair[0].1, pair[1].1))
        .collect();
    assert!(twice.is_empty(), "names used more than once across operations/: {twice:?}");
}

#[test]
fn the_readme_examples_are_the_checked_operations() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let files: Vec<String> =
        graphql_files(&root().join("operations/readme")).iter().map(|f| std::fs::read_to_string(f).unwrap()).collect();
    let blocks = graphql_blocks(&readme);
    assert_eq!(blocks.len(), files.len(), "one README example per file under operations/readme");
    for block in blocks {
        assert!(files.contains(&block), "this README example is not a file under operations/readme:\n{block}");
    }
}
