//! The shape of the code, checked: modules do not import each other in a cycle, and services
//! never reach up into the HTTP layer. Read from the source text (`use crate::…`, `super::…` and
//! inline `crate::…` paths, test modules left out), like `shared/tools/module-cycles`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules are named by their first two path segments (`server::tickets`, `pages`).
const DEPTH: usize = 2;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("readable source directory")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/server/tickets/cache.rs` → `["server", "tickets", "cache"]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

fn group(parts: &[String]) -> String {
    if parts.is_empty() {
        "crate".to_owned()
    } else {
        parts[..parts.len().min(DEPTH)].join("::")
    }
}

/// The modules a line refers to, as full paths from the crate root.
fn references(line: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let bytes = line.as_bytes();
    let mut at = 0;
    while at < line.len() {
        let rest = &line[at..];
        let starts_word =
            at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
        if starts_word && (rest.starts_with("crate::") || rest.starts_with("super::")) {
            let path: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
            let mut base: Vec<String> = if segments.first() == Some(&"crate") {
                segments.remove(0);
                Vec::new()
            } else {
                // Each `super` climbs one module: in `foo/bar.rs` (module foo::bar) it is foo.
                let mut base = module.to_vec();
                while segments.first() == Some(&"super") {
                    segments.remove(0);
                    base.pop();
                }
                base
            };
            base.extend(
                segments
                    .iter()
                    .take_while(|s| s.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
                    .map(|s| (*s).to_owned()),
            );
            found.push(base);
            at += path.len().max(1);
        } else {
            at += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    found
}

/// Edges between module groups, each with one line that makes it.
fn module_graph() -> BTreeMap<String, BTreeMap<String, String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable source file");
        let module = module_path(&src, &file);
        let from = group(&module);
        for (number, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("#[cfg(test)]") {
                break;
            }
            if line.trim_start().starts_with("//") {
                continue;
            }
            for target in references(line, &module) {
                let to = group(&target);
                if to != from && to != "crate" {
                    graph
                        .entry(from.clone())
                        .or_default()
                        .entry(to)
                        .or_insert_with(|| format!("{}:{}", file.display(), number + 1));
                }
            }
        }
    }
    graph
}

/// Groups of modules that reach each other (strongly connected components of two or more).
fn cycles(graph: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<BTreeSet<String>> {
    let reach = |start: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![start.to_owned()];
        while let Some(node) = stack.pop() {
            for next in graph.get(&node).into_iter().flat_map(|e| e.keys()) {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let mut components: Vec<BTreeSet<String>> = Vec::new();
    for node in graph.keys() {
        if components.iter().any(|c| c.contains(node)) {
            continue;
        }
        let component: BTreeSet<String> = reach(node)
            .into_iter()
            .filter(|other| other == node || reach(other).contains(node))
            .collect();
        if component.len() > 1 || graph[node].contains_key(node) {
            components.push(component);
        }
    }
    components
}

#[test]
fn modules_do_not_import_each_other_in_a_cycle() {
    let graph = module_graph();
    assert!(graph.len() > 10, "the graph was read: {graph:?}");
    let found = cycles(&graph);
    let explained: Vec<String> = found
        .iter()
        .map(|component| {
            let edges: Vec<String> = component
                .iter()
                .flat_map(|from| {
                    graph[from]
                        .iter()
                        .filter(|(to, _)| component.contains(*to))
                        .map(move |(to, at)| format!("  {from} -> {to}: {at}"))
                })
                .collect();
            format!("{component:?}\n{}", edges.join("\n"))
        })
        .collect();
    assert!(found.is_empty(), "import cycles:\n{}", explained.join("\n"));
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    graph
        .entry("a".into())
        .or_default()
        .insert("b".into(), "x".into());
    graph
        .entry("b".into())
        .or_default()
        .insert("c".into(), "x".into());
    graph
        .entry("c".into())
        .or_default()
        .insert("a".into(), "x".into());
    graph
        .entry("d".into())
        .or_default()
        .insert("a".into(), "x".into());
    let found = cycles(&graph);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].len(), 3);
}

/// Only the HTTP layer (and the server functions and start-up above it) may know about
/// requests, `AppState` and status codes; services below it are called, never calling up.
#[test]
fn services_never_import_the_http_layer() {
    let graph = module_graph();
    let upper = [
        "server::http",
        "server::devtools",
        "api",
        "startup",
        "cli",
        "app",
        "pages",
    ];
    let services = [
        "server::auth",
        "server::board",
        "server::board_events",
        "server::config",
        "server::db",
        "server::demo",
        "server::html",
        "server::live_hub",
        "server::mail",
        "server::telemetry",
        "server::tickets",
    ];
    let mut wrong = Vec::new();
    for service in services {
        for (to, at) in graph.get(service).into_iter().flatten() {
            if upper.iter().any(|u| to == u) {
                wrong.push(format!("{service} -> {to}: {at}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "services reaching up:\n{}",
        wrong.join("\n")
    );
    assert!(
        graph
            .get("server::tickets")
            .is_some_and(|e| e.contains_key("server::board")),
        "the check sees real edges"
    );
}

#[test]
fn the_reference_reader_resolves_paths() {
    let module: Vec<String> = vec!["server".into(), "tickets".into(), "cache".into()];
    assert_eq!(
        references("use crate::server::board::TicketBoard;", &module),
        vec![vec!["server".to_owned(), "board".to_owned()]]
    );
    assert_eq!(
        references("use super::conversation;", &module),
        vec![vec![
            "server".to_owned(),
            "tickets".to_owned(),
            "conversation".to_owned()
        ]]
    );
}
