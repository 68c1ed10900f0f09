use std::fs;
use std::path::Path;

use claude_vault::{Index, parse_query};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn titles(idx: &Index, q: &str) -> Vec<String> {
    let mut v: Vec<String> = idx
        .query(&parse_query(q).unwrap(), 100)
        .unwrap()
        .into_iter()
        .map(|h| h.title)
        .collect();
    v.sort();
    v
}

#[test]
fn fts5_is_available() {
    let c = rusqlite::Connection::open_in_memory().unwrap();
    c.execute_batch("CREATE VIRTUAL TABLE t USING fts5(a); INSERT INTO t VALUES ('hello world');")
        .unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM t WHERE t MATCH 'hello'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn build_query_and_incremental_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "A.md",
        "---\ntype: ADR\nstatus: Proposed\ntags: [technology/aws]\n---\nKafka events. [[B]] [[Missing]]\n",
    );
    write(
        root,
        "sub/B.md",
        "---\ntype: Adr\nstatus: accepted\n---\nPostgres #db/postgres\n",
    );
    write(
        root,
        "C.md",
        "---\ntype: [broken\n---\nno type here, kafka too\n",
    );
    write(root, ".obsidian/X.md", "ignored");
    write(root, "ignored/Y.md", "ignored");
    write(root, ".gitignore", "ignored/\n");
    let mut idx = Index::open(root).unwrap();
    let r = idx.refresh(&mut |_, _| {}).unwrap();
    assert_eq!((r.scanned, r.added), (3, 3));
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(r.warnings[0].path, "C.md");
    assert_eq!(r.warnings[0].line, Some(2));
    assert_eq!(titles(&idx, "type:adr status:proposed"), ["A"]);
    assert_eq!(titles(&idx, "type:Adr"), ["A", "B"]);
    assert_eq!(titles(&idx, "kafka"), ["A", "C"]);
    assert_eq!(titles(&idx, "technology/aws"), ["A"]);
    assert_eq!(titles(&idx, "tag:db"), ["B"]);
    assert_eq!(titles(&idx, "backlinks:\"B\""), ["A"]);
    assert_eq!(titles(&idx, "broken-links"), ["A"]);
    assert_eq!(titles(&idx, "orphans"), ["A", "C"]);
    assert!(
        idx.query(&parse_query("kafka").unwrap(), 10).unwrap()[0]
            .snippet
            .contains("→")
    );
    let stats = idx.stats().unwrap();
    assert_eq!((stats.notes, stats.links, stats.broken_links), (3, 2, 1));
    let check = idx.check().unwrap();
    assert_eq!(check.without_type, ["C.md"]);
    assert_eq!(check.broken_links.len(), 1);

    // Nothing changed: nothing parsed again.
    let r = idx.refresh(&mut |_, _| {}).unwrap();
    assert_eq!((r.added, r.updated, r.removed, r.unchanged), (0, 0, 0, 3));

    // Edit, add, delete.
    write(
        root,
        "C.md",
        "---\ntype: Adr\nstatus: proposed\n---\nnow fixed\n",
    );
    write(root, "Missing.md", "---\ntype: Page\n---\nhere now\n");
    fs::remove_file(root.join("sub/B.md")).unwrap();
    drop(idx);
    let mut idx = Index::open(root).unwrap();
    let r = idx.refresh(&mut |_, _| {}).unwrap();
    assert_eq!((r.added, r.updated, r.removed), (1, 1, 1));
    assert_eq!(titles(&idx, "type:adr status:proposed"), ["A", "C"]);
    assert!(titles(&idx, "postgres").is_empty());
    assert!(
        titles(&idx, "broken-links").contains(&"A".to_string()),
        "B is gone now"
    );
    let broken = idx.check().unwrap().broken_links;
    assert_eq!(broken.len(), 1, "Missing.md now exists: {broken:?}");
    assert_eq!(broken[0].target, "B");
}

#[test]
fn a_missing_vault_folder_is_an_error_not_a_new_vault() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-vault");
    let err = claude_vault::Index::open(&missing)
        .err()
        .expect("must fail");
    assert!(err.to_string().contains("is not a directory"), "{err}");
    assert!(!missing.exists());
}
