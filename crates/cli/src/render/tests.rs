use super::{MarkdownStream, Style};

const ANSI: Style = Style::Ansi { width: 40 };

fn render(doc: &str) -> String {
    let mut md = MarkdownStream::new(ANSI);
    let mut out = md.push(doc);
    out.push_str(&md.finish());
    out
}

fn render_pieces(pieces: &[&str]) -> String {
    let mut md = MarkdownStream::new(ANSI);
    let mut out = String::new();
    for p in pieces {
        out.push_str(&md.push(p));
    }
    out.push_str(&md.finish());
    out
}

/// The visible text: SGR and erase-line sequences removed.
fn strip(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether, after `s`, the terminal is in its default rendition: every SGR we
/// write starts with a reset, so the last one decides.
fn ends_plain(s: &str) -> bool {
    match s.rfind("\x1b[0") {
        None => true,
        Some(i) => s[i..].starts_with("\x1b[0m"),
    }
}

/// Every line of rendered output must leave the terminal plain, so a broken
/// stream cannot colour what follows.
fn assert_lines_plain(out: &str) {
    for line in out.split('\n') {
        assert!(ends_plain(line), "line leaves styling open: {line:?}");
    }
}

const DOC: &str = "# Title *with* `code`
Intro paragraph with **bold**, *italic*, _under_, ~~gone~~, `x * y`, and a [link](https://example.com/a_(b)) plus <https://x.dev>.
A snake_case_name and 2 * 3 * 4 stay literal; so does a lone ` tick and \\*escaped\\*.

## Lists
- first item with **strong text**
  - nested *one*
    + deeper
* star item
1. numbered
12) paren style
- [ ] task

> A quote with `code`
> > nested quote
> - quoted item

---
* * *
___

| Name | Value |
|:-----|------:|
| **a** | 1 |

```rust
fn main() { let x: u32 = 42; // answer
    println!(\"hi {x}\"); /* block
still comment */ }
```
~~~python
def f(a):
    return \"\"\"multi
line\"\"\" if a else None  # note
~~~
```
plain *code* block
```
   ```sh
   echo $HOME # comment
   ```
Unicode: é 日本語 🎉 and ### not heading
####### seven
#hashtag
Image ![alt text](img.png) end.
Trailing line without newline **bold";

#[test]
fn plain_is_byte_identical() {
    for doc in [DOC, "a\r\nb\r\n", "\x1b[31mraw\x1b[0m", ""] {
        let mut md = MarkdownStream::new(Style::Plain);
        let mut out = String::new();
        for (i, c) in doc.char_indices() {
            out.push_str(&md.push(&doc[i..i + c.len_utf8()]));
        }
        assert_eq!(md.finish(), "");
        assert_eq!(out, doc);
    }
}

#[test]
fn every_two_way_split_renders_the_same() {
    let whole = render(DOC);
    for (i, _) in DOC.char_indices().skip(1) {
        let split = render_pieces(&[&DOC[..i], &DOC[i..]]);
        assert_eq!(split, whole, "split at byte {i}: {:?}", &DOC[..i]);
    }
}

#[test]
fn char_by_char_and_irregular_chunks_render_the_same() {
    let whole = render(DOC);
    let chars: Vec<&str> = DOC
        .char_indices()
        .map(|(i, c)| &DOC[i..i + c.len_utf8()])
        .collect();
    assert_eq!(render_pieces(&chars), whole);

    // Deterministic pseudo-random chunk sizes (1..=23 bytes), many seeds.
    for seed in 1..200u64 {
        let mut state = seed;
        let mut pieces = Vec::new();
        let mut at = 0;
        while at < DOC.len() {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mut end = (at + 1 + (state >> 33) as usize % 23).min(DOC.len());
            while !DOC.is_char_boundary(end) {
                end += 1;
            }
            pieces.push(&DOC[at..end]);
            at = end;
        }
        assert_eq!(render_pieces(&pieces), whole, "seed {seed}");
    }
}

#[test]
fn every_push_leaves_the_terminal_plain() {
    let mut md = MarkdownStream::new(ANSI);
    let mut all = String::new();
    for (i, c) in DOC.char_indices() {
        let out = md.push(&DOC[i..i + c.len_utf8()]);
        all.push_str(&out);
        assert!(ends_plain(&all), "open styling after byte {i}");
    }
    all.push_str(&md.finish());
    assert!(ends_plain(&all));
    assert_lines_plain(&all);
}

#[test]
fn rendered_text_keeps_the_words() {
    let out = strip(&render(DOC));
    for want in [
        "Title with code\n",
        "• first item with strong text\n",
        "  • nested one\n",
        "    • deeper\n",
        "1. numbered\n",
        "12) paren style\n",
        "│ A quote with code\n",
        "│ │ nested quote\n",
        "│ • quoted item\n",
        "a link (https://example.com/a_(b)) plus https://x.dev.",
        "2 * 3 * 4",
        "A snake_case_name",
        "lone ` tick and *escaped*.",
        "• [ ] task",
        "| Name | Value |\n|:-----|------:|\n| **a** | 1 |\n",
        "fn main() { let x: u32 = 42; // answer\n",
        "plain *code* block\n",
        "   echo $HOME # comment\n",
        "Unicode: é 日本語 🎉 and ### not heading\n",
        "####### seven\n#hashtag\n",
        "Image alt text (img.png) end.",
        "Trailing line without newline **bold",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
    assert!(!out.contains("```"), "fences are drawn, not shown");
}

#[test]
fn heading_is_styled_without_markers() {
    let out = render("## Section ##\n");
    assert_eq!(strip(&out), "Section\n");
    assert!(out.starts_with("\x1b[0;1;95m"), "{out:?}");
    assert!(out.ends_with("\x1b[0m\n"));
    let h1 = render("# Top\n");
    assert!(h1.starts_with("\x1b[0;1;4;95m"), "{h1:?}");
}

#[test]
fn heading_waits_for_its_newline() {
    let mut md = MarkdownStream::new(ANSI);
    assert_eq!(md.push("# Tit"), "");
    assert_eq!(strip(&md.push("le\n")), "Title\n");
}

#[test]
fn paragraph_streams_before_its_newline() {
    let mut md = MarkdownStream::new(ANSI);
    assert_eq!(md.push("Hello wor"), "Hello wor");
    assert_eq!(md.push("ld "), "ld ");
    // An opener waits for its partner...
    assert_eq!(md.push("**big"), "");
    // ...and is styled once it arrives.
    assert_eq!(md.push("** end"), "\x1b[0;1mbig\x1b[0m end");
    assert_eq!(md.push("\n"), "\n");
    assert_eq!(md.finish(), "");
}

#[test]
fn list_item_streams_after_its_marker() {
    let mut md = MarkdownStream::new(ANSI);
    // `- ` could still become a rule (`- - -`).
    assert_eq!(md.push("- "), "");
    let out = md.push("item text");
    assert_eq!(strip(&out), "• item text");
}

#[test]
fn unmatched_opener_is_released_after_the_window() {
    let mut md = MarkdownStream::new(ANSI);
    assert_eq!(md.push("a *b"), "a ");
    let filler = "x".repeat(super::inline::SPAN_WINDOW);
    let out = md.push(&filler);
    assert_eq!(out, format!("*b{filler}"));
}

#[test]
fn bullets_and_numbers() {
    let out = render("- a\n  * b\n    + c\n3. d\n");
    assert_eq!(strip(&out), "• a\n  • b\n    • c\n3. d\n");
    assert!(out.contains("\x1b[0;36m•\x1b[0m"));
    assert!(out.contains("\x1b[0;36m3.\x1b[0m"));
}

#[test]
fn quotes_become_dim_bars() {
    let out = render("> said\n>> deeper\n");
    assert_eq!(strip(&out), "│ said\n││ deeper\n");
    assert!(out.starts_with("\x1b[0;2m│\x1b[0m said"));
}

#[test]
fn rules_fill_the_width() {
    let out = render("***\n");
    assert_eq!(strip(&out), format!("{}\n", "─".repeat(40)));
    assert!(out.starts_with("\x1b[0;2m"));
    // `- x` is an item and `--x` a paragraph, not rules.
    assert_eq!(strip(&render("- x\n--x\n")), "• x\n--x\n");
}

#[test]
fn inline_styles() {
    assert_eq!(render("**b**\n"), "\x1b[0;1mb\x1b[0m\n");
    assert_eq!(render("*i* _j_\n"), "\x1b[0;3mi\x1b[0m \x1b[0;3mj\x1b[0m\n");
    assert_eq!(render("***bi***\n"), "\x1b[0;1;3mbi\x1b[0m\n");
    assert_eq!(render("~~s~~\n"), "\x1b[0;9ms\x1b[0m\n");
    assert_eq!(render("`c`\n"), "\x1b[0;38;5;180;48;5;236mc\x1b[0m\n");
    // Nested spans restore the enclosing style, not plain.
    assert_eq!(
        render("**a *b* c**\n"),
        "\x1b[0;1ma \x1b[0;1;3mb\x1b[0;1m c\x1b[0m\n"
    );
    // Code spans are literal inside.
    assert_eq!(strip(&render("`**not bold**`\n")), "**not bold**\n");
    assert_eq!(strip(&render("`` a ` b ``\n")), "a ` b\n");
    // Not emphasis.
    for lit in ["snake_case_name\n", "2 * 3\n", "** spaced **\n", "a ~ b\n"] {
        assert_eq!(render(lit), lit);
    }
}

#[test]
fn links_show_text_and_dim_url() {
    let out = render("see [docs](https://d.example/x \"title\")\n");
    assert_eq!(strip(&out), "see docs (https://d.example/x)\n");
    assert!(out.contains("\x1b[0;4;94mdocs\x1b[0m"), "{out:?}");
    assert!(out.contains("\x1b[0;2m(https://d.example/x)\x1b[0m"));
    assert_eq!(
        strip(&render("[https://a.b](https://a.b)\n")),
        "https://a.b\n"
    );
    assert_eq!(render("[1] and arr[i]\n"), "[1] and arr[i]\n");
    assert_eq!(render("Vec<T> and a < b\n"), "Vec<T> and a < b\n");
}

#[test]
fn tables_are_kept_with_a_dim_separator() {
    let doc = "| a | b |\n| --- | :-: |\n| `x` | *y* |\n";
    let out = render(doc);
    assert_eq!(strip(&out), doc);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "| a | b |");
    assert_eq!(lines[1], "\x1b[0;2m| --- | :-: |\x1b[0m");
    assert_eq!(lines[2], "| `x` | *y* |");
}

#[test]
fn fenced_code_is_carded_and_highlighted() {
    let out = render("```rust\nlet x = 1; // c\n```\n");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(strip(lines[0]), "rust");
    assert_eq!(strip(lines[1]), "let x = 1; // c");
    assert_eq!(strip(lines[2]), "");
    assert!(
        lines[1].starts_with("\x1b[0;38;5;204;48;5;236mlet"),
        "{:?}",
        lines[1]
    );
    assert_eq!(lines[2], "\x1b[0;38;5;252;48;5;236m\x1b[K\x1b[0m");
    assert!(lines[1].contains("\x1b[0;38;5;215;48;5;236m1"));
    assert!(lines[1].contains("\x1b[0;3;38;5;244;48;5;236m// c"));
    for l in &lines {
        assert!(l.ends_with("\x1b[K\x1b[0m"), "{l:?}");
    }
    // Markdown inside code is not interpreted.
    assert_eq!(
        strip(&render("~~~\n# not a heading\n- no\n~~~\n")),
        "\n# not a heading\n- no\n\n"
    );
}

#[test]
fn keyword_highlighting_per_language() {
    let kw = "38;5;204";
    for (lang, line, word) in [
        ("rust", "pub fn f() {}", "fn"),
        ("py", "def f(): pass", "def"),
        ("ts", "const x = 1", "const"),
        ("javascript", "function f() {}", "function"),
        ("bash", "if true; then echo; fi", "then"),
        ("sql", "SELECT * FROM t", "SELECT"),
        ("go", "func main() {}", "func"),
    ] {
        let out = render(&format!("```{lang}\n{line}\n```\n"));
        assert!(
            out.contains(&format!("{kw};48;5;236m{word}")),
            "{lang}: {out:?}"
        );
    }
    let json = render("```json\n{\"k\": true, \"v\": \"s\"}\n```\n");
    assert!(json.contains("38;5;117;48;5;236m\"k\""), "{json:?}");
    assert!(json.contains("38;5;114;48;5;236m\"s\""));
    assert!(json.contains("38;5;141;48;5;236mtrue"));
    let yaml = render("```yaml\nname: x # c\n```\n");
    assert!(yaml.contains("38;5;117;48;5;236mname"), "{yaml:?}");
    // Unknown languages are code-styled but not highlighted.
    let plain = render("```brainfuck\nfn if let\n```\n");
    assert!(!plain.contains(kw));
    assert!(plain.contains("\x1b[0;38;5;252;48;5;236mfn if let\x1b[K\x1b[0m"));
}

#[test]
fn code_state_carries_across_lines() {
    let out = render("```rust\n/* a\nb */ fn\n```\n");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[2].contains("\x1b[0;3;38;5;244;48;5;236mb */"),
        "{:?}",
        lines[2]
    );
    assert!(lines[2].contains("204;48;5;236mfn"));
}

#[test]
fn code_rows_fill_only_when_short_of_the_width() {
    let long = "x".repeat(40);
    let out = render(&format!("```\n{long}\n```\n"));
    let row = out.lines().nth(1).unwrap_or_default();
    assert!(
        !row.contains("\x1b[K"),
        "a full row must not erase its last cell"
    );
    let tabbed = render("```\n\tx\n```\n");
    assert!(
        strip(&tabbed).contains("\n    x\n"),
        "tabs expand: {tabbed:?}"
    );
}

#[test]
fn finish_closes_an_unterminated_code_block() {
    let mut md = MarkdownStream::new(ANSI);
    let mut out = md.push("```rust\nfn main() {\n    let s = \"unterminated");
    let rest = md.finish();
    assert!(rest.contains("unterminated"));
    assert!(rest.ends_with("\x1b[0m"));
    out.push_str(&rest);
    assert_lines_plain(&out);
    // The stream is fresh again: this is a paragraph, not code.
    assert_eq!(md.push("*x*\n"), "\x1b[0;3mx\x1b[0m\n");
}

#[test]
fn finish_closes_a_held_line_and_an_open_span() {
    let mut md = MarkdownStream::new(ANSI);
    assert_eq!(md.push("# Head"), "");
    assert_eq!(strip(&md.finish()), "Head");
    assert_eq!(md.push("a **b"), "a ");
    assert_eq!(md.finish(), "**b\x1b[0m");
}

#[test]
fn crlf_renders_like_lf() {
    let lf = DOC.to_owned() + "\n";
    let crlf = lf.replace('\n', "\r\n");
    assert_eq!(render(&crlf), render(&lf));
    // Split between CR and LF.
    let mut md = MarkdownStream::new(ANSI);
    let mut out = md.push("text\r");
    out.push_str(&md.push("\nnext\r\n"));
    out.push_str(&md.finish());
    assert_eq!(out, "text\nnext\n");
    for (i, _) in crlf.char_indices().skip(1).step_by(7) {
        assert_eq!(
            render_pieces(&[&crlf[..i], &crlf[i..]]),
            render(&lf),
            "split at {i}"
        );
    }
}

#[test]
fn control_characters_cannot_reach_the_terminal() {
    let out = render("a\x1b[31mred\x07 b\r c\u{9b}\n");
    assert_eq!(out, "a^[[31mred^G b^M c\u{fffd}\n");
    let code = render("```\n\x1b]0;title\x07\n```\n");
    assert!(!strip(&code).contains('\x1b'));
    assert!(code.contains("^[]0;title^G"));
}

#[test]
fn long_lines_stream_with_bounded_memory() {
    let mut md = MarkdownStream::new(ANSI);
    let mut out = String::new();
    let word = "lorem **ipsum** dolor ";
    for _ in 0..5000 {
        out.push_str(&md.push(word));
    }
    assert!(md.buffered() < 2 * super::stream::COMPACT_AT);
    out.push_str(&md.finish());
    assert_eq!(strip(&out), "lorem ipsum dolor ".repeat(5000));
}

#[test]
fn large_reply_byte_by_byte_matches_whole() {
    // Linear work: this would take far too long if each delta re-scanned the
    // reply so far.
    let doc = DOC.repeat(60);
    let whole = render(&doc);
    let mut md = MarkdownStream::new(ANSI);
    let mut out = String::new();
    for (i, c) in doc.char_indices() {
        out.push_str(&md.push(&doc[i..i + c.len_utf8()]));
    }
    out.push_str(&md.finish());
    assert_eq!(out, whole);
}

#[test]
fn long_delimiter_runs_are_text_in_any_split() {
    let doc = format!("a {} b {} c ~~~ d ***** e\n", "`".repeat(40), "*".repeat(7));
    let whole = render(&doc);
    assert_eq!(whole, doc);
    for (i, _) in doc.char_indices().skip(1) {
        assert_eq!(
            render_pieces(&[&doc[..i], &doc[i..]]),
            whole,
            "split at {i}"
        );
    }
    // Openers of up to three (emphasis) and sixteen (code) still work.
    assert_eq!(strip(&render("```` a ` b ````\n")), "a ` b\n");
}

#[test]
fn width_zero_means_eighty() {
    let mut md = MarkdownStream::new(Style::Ansi { width: 0 });
    let out = md.push("---\n");
    assert_eq!(strip(&out), format!("{}\n", "─".repeat(80)));
}

/// Documents built from Markdown's significant pieces, so that openers,
/// markers and line starts meet in combinations no hand-written document
/// covers. Each must render the same however it is split, and leave every
/// line plain.
#[test]
fn generated_documents_render_the_same_in_any_split() {
    const PIECES: [&str; 40] = [
        "*",
        "**",
        "***",
        "_",
        "__",
        "`",
        "``",
        "```",
        "~",
        "~~",
        "~~~",
        "[",
        "]",
        "(",
        ")",
        "![",
        "<",
        "<https://",
        ">",
        "> ",
        "#",
        "# ",
        "-",
        "- ",
        "+ ",
        "1. ",
        "2)",
        "|",
        "| --- |",
        ":",
        " ",
        "  ",
        "\t",
        "\n",
        "\n",
        "\r\n",
        "word",
        "x_y",
        "é日",
        "\\",
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for _ in 0..400 {
        let len = 5 + next(40);
        let doc: String = (0..len).map(|_| PIECES[next(PIECES.len())]).collect();
        let whole = render(&doc);
        assert_lines_plain(&whole);
        for (i, _) in doc.char_indices().skip(1) {
            let split = render_pieces(&[&doc[..i], &doc[i..]]);
            assert_eq!(split, whole, "doc {doc:?} split at {i}");
        }
        let chars: Vec<&str> = doc
            .char_indices()
            .map(|(i, c)| &doc[i..i + c.len_utf8()])
            .collect();
        assert_eq!(render_pieces(&chars), whole, "doc {doc:?} char by char");
    }
}
