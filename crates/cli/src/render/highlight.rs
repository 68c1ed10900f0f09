//! A small keyword highlighter for fenced code.
//!
//! It is a lexer, not a parser: comments, strings, numbers, keywords,
//! literals and capitalised type names, which is most of what makes code
//! scannable in a terminal. A full grammar-based highlighter would dwarf the
//! rest of the binary. State that spans lines (block comments, Python
//! triple-quoted strings, JavaScript template literals) is carried in
//! [`Carry`]; everything else restarts at each line, so a mis-lexed line
//! never colours the rest of the block.

/// What a piece of code is, for colouring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    Plain,
    Keyword,
    Literal,
    Type,
    Str,
    Num,
    Comment,
    /// An object key (JSON, YAML) or a shell variable.
    Key,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lang {
    Rust,
    Python,
    Js,
    Bash,
    Json,
    Yaml,
    Sql,
    Go,
    /// Unknown or absent language: styled as code, not highlighted.
    Plain,
}

/// Lexer state carried from one line to the next.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Carry {
    #[default]
    Normal,
    BlockComment,
    /// Inside a string that ends with this delimiter.
    Str(&'static str),
}

struct Spec {
    line_comment: &'static [&'static str],
    block_comment: Option<(&'static str, &'static str)>,
    /// `#` starts a comment only at the start of a word (shell, YAML), so
    /// `$#` and `a#b` are not comments.
    hash_at_word_start: bool,
    quotes: &'static [u8],
    keywords: &'static [&'static str],
    literals: &'static [&'static str],
    types: &'static [&'static str],
    ignore_case: bool,
    capitalised_types: bool,
}

impl Lang {
    /// The language named by a fence's info string (its first word).
    pub(crate) fn from_info(info: &str) -> Lang {
        let word = info
            .split(|c: char| c.is_whitespace() || c == ',' || c == '{' || c == '}')
            .find(|w| !w.is_empty())
            .unwrap_or("")
            .trim_start_matches('.')
            .to_ascii_lowercase();
        match word.as_str() {
            "rust" | "rs" => Lang::Rust,
            "python" | "py" | "python3" => Lang::Python,
            "js" | "javascript" | "jsx" | "mjs" | "cjs" | "ts" | "typescript" | "tsx" => Lang::Js,
            "bash" | "sh" | "shell" | "zsh" | "console" | "shellsession" => Lang::Bash,
            "json" | "jsonc" | "json5" => Lang::Json,
            "yaml" | "yml" => Lang::Yaml,
            "sql" | "postgresql" | "postgres" | "mysql" | "sqlite" => Lang::Sql,
            "go" | "golang" => Lang::Go,
            _ => Lang::Plain,
        }
    }

    fn spec(self) -> Option<&'static Spec> {
        Some(match self {
            Lang::Rust => &RUST,
            Lang::Python => &PYTHON,
            Lang::Js => &JS,
            Lang::Bash => &BASH,
            Lang::Json => &JSON,
            Lang::Yaml => &YAML,
            Lang::Sql => &SQL,
            Lang::Go => &GO,
            Lang::Plain => return None,
        })
    }
}

/// Splits `line` into coloured pieces, in order, covering it exactly.
pub(crate) fn highlight(
    lang: Lang,
    carry: &mut Carry,
    line: &str,
    emit: &mut dyn FnMut(Tok, &str),
) {
    let Some(spec) = lang.spec() else {
        emit(Tok::Plain, line);
        return;
    };
    let b = line.as_bytes();
    let mut i = 0;
    // YAML's `key:` is recognised by position, so look for it before lexing.
    if lang == Lang::Yaml && *carry == Carry::Normal {
        i = yaml_key(line, emit);
    }
    while i < b.len() {
        match *carry {
            Carry::BlockComment => {
                let (_, close) = spec.block_comment.unwrap_or(("", "*/"));
                let end = match line[i..].find(close) {
                    Some(k) => {
                        *carry = Carry::Normal;
                        i + k + close.len()
                    }
                    None => b.len(),
                };
                emit(Tok::Comment, &line[i..end]);
                i = end;
                continue;
            }
            Carry::Str(delim) => {
                let end = string_end(b, i, delim);
                if let Some(end) = end {
                    *carry = Carry::Normal;
                    emit(Tok::Str, &line[i..end]);
                    i = end;
                } else {
                    emit(Tok::Str, &line[i..]);
                    i = b.len();
                }
                continue;
            }
            Carry::Normal => {}
        }
        let rest = &line[i..];
        let c = b[i];
        let word_start = i == 0 || !is_ident(b[i - 1]);
        if spec.line_comment.iter().any(|p| rest.starts_with(p))
            && (!spec.hash_at_word_start || c != b'#' || i == 0 || b[i - 1].is_ascii_whitespace())
        {
            emit(Tok::Comment, rest);
            return;
        }
        if let Some((open, _)) = spec.block_comment
            && rest.starts_with(open)
        {
            *carry = Carry::BlockComment;
            emit(Tok::Comment, open);
            i += open.len();
            continue;
        }
        if spec.quotes.contains(&c) {
            if lang == Lang::Rust && c == b'\'' && !is_char_literal(rest) {
                // A lifetime or loop label.
                let n = 1 + ident_len(&b[i + 1..]);
                emit(Tok::Literal, &line[i..i + n]);
                i += n;
                continue;
            }
            let delim = string_delim(lang, rest);
            let body = i + delim.len();
            match string_end(b, body, delim) {
                Some(end) => {
                    let tok =
                        if matches!(lang, Lang::Json | Lang::Yaml) && followed_by_colon(b, end) {
                            Tok::Key
                        } else {
                            Tok::Str
                        };
                    emit(tok, &line[i..end]);
                    i = end;
                }
                None => {
                    if delim.len() == 3 || delim == "`" {
                        *carry = Carry::Str(delim);
                    }
                    emit(Tok::Str, rest);
                    return;
                }
            }
            continue;
        }
        if lang == Lang::Bash && c == b'$' {
            let n = shell_var_len(&b[i..]);
            emit(Tok::Key, &line[i..i + n]);
            i += n;
            continue;
        }
        if word_start
            && (c.is_ascii_digit() || (c == b'-' && next_is_digit(b, i) && lang_has_neg(lang)))
        {
            let n = 1 + b[i + 1..]
                .iter()
                .take_while(|&&x| is_ident(x) || x == b'.')
                .count();
            emit(Tok::Num, &line[i..i + n]);
            i += n;
            continue;
        }
        if is_ident_start(c) {
            let n = ident_len(&b[i..]);
            let word = &line[i..i + n];
            emit(classify_word(spec, word), word);
            i += n;
            continue;
        }
        // Punctuation and anything non-ASCII, up to the next interesting byte.
        let n = 1 + b[i + 1..]
            .iter()
            .take_while(|&&x| {
                !(is_ident_start(x)
                    || x.is_ascii_digit()
                    || spec.quotes.contains(&x)
                    || matches!(x, b'/' | b'#' | b'-' | b'$'))
            })
            .count();
        // Stay on a character boundary: only ASCII bytes stop the run.
        let mut end = i + n;
        while !line.is_char_boundary(end) {
            end += 1;
        }
        emit(Tok::Plain, &line[i..end]);
        i = end;
    }
}

fn classify_word(spec: &Spec, word: &str) -> Tok {
    let hit = |list: &[&str]| {
        if spec.ignore_case {
            list.iter().any(|k| k.eq_ignore_ascii_case(word))
        } else {
            list.contains(&word)
        }
    };
    if hit(spec.keywords) {
        Tok::Keyword
    } else if hit(spec.literals) {
        Tok::Literal
    } else if hit(spec.types)
        || (spec.capitalised_types && word.starts_with(|c: char| c.is_ascii_uppercase()))
    {
        Tok::Type
    } else {
        Tok::Plain
    }
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn ident_len(b: &[u8]) -> usize {
    b.iter().take_while(|&&c| is_ident(c)).count()
}

fn next_is_digit(b: &[u8], i: usize) -> bool {
    b.get(i + 1).is_some_and(u8::is_ascii_digit)
}

/// Languages where `-1` is a plausible negative literal rather than a flag
/// or an operator glued to a name.
fn lang_has_neg(lang: Lang) -> bool {
    matches!(lang, Lang::Json | Lang::Yaml)
}

fn is_char_literal(rest: &str) -> bool {
    let b = rest.as_bytes();
    match b.get(1) {
        Some(b'\\') => b[2..].iter().take(10).any(|&c| c == b'\''),
        Some(_) => rest[1..].chars().nth(1) == Some('\''),
        None => false,
    }
}

fn string_delim(lang: Lang, rest: &str) -> &'static str {
    if lang == Lang::Python {
        if rest.starts_with("\"\"\"") {
            return "\"\"\"";
        }
        if rest.starts_with("'''") {
            return "'''";
        }
    }
    match rest.as_bytes()[0] {
        b'\'' => "'",
        b'`' => "`",
        _ => "\"",
    }
}

/// Index just past the closing `delim`, honouring backslash escapes.
fn string_end(b: &[u8], from: usize, delim: &str) -> Option<usize> {
    let d = delim.as_bytes();
    let mut j = from;
    while j < b.len() {
        if b[j] == b'\\' {
            j += 2;
            continue;
        }
        if b[j..].starts_with(d) {
            return Some(j + d.len());
        }
        j += 1;
    }
    None
}

fn followed_by_colon(b: &[u8], from: usize) -> bool {
    b[from..].iter().find(|c| !c.is_ascii_whitespace()) == Some(&b':')
}

fn shell_var_len(b: &[u8]) -> usize {
    match b.get(1) {
        Some(b'{') => b.iter().position(|&c| c == b'}').map_or(b.len(), |k| k + 1),
        Some(c) if b"@#?$!*-0123456789".contains(c) => 2,
        Some(_) => 1 + ident_len(&b[1..]),
        None => 1,
    }
}

/// Emits a leading `key:` (after indentation and an optional `- `) and
/// returns where lexing should continue.
fn yaml_key(line: &str, emit: &mut dyn FnMut(Tok, &str)) -> usize {
    let b = line.as_bytes();
    let mut i = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    if b[i..].starts_with(b"- ") {
        i += 2;
    }
    let key_len = b[i..]
        .iter()
        .take_while(|&&c| is_ident(c) || matches!(c, b'-' | b'.' | b'/'))
        .count();
    let colon = i + key_len;
    let is_key = key_len > 0
        && b.get(colon) == Some(&b':')
        && b.get(colon + 1).is_none_or(|c| c.is_ascii_whitespace());
    if !is_key {
        return 0;
    }
    if i > 0 {
        emit(Tok::Plain, &line[..i]);
    }
    emit(Tok::Key, &line[i..colon]);
    emit(Tok::Plain, ":");
    colon + 1
}

static RUST: Spec = Spec {
    line_comment: &["//"],
    block_comment: Some(("/*", "*/")),
    hash_at_word_start: false,
    quotes: b"\"'",
    keywords: &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
        "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "type",
        "unsafe", "use", "where", "while", "yield",
    ],
    literals: &["true", "false"],
    types: &[
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "f32", "f64", "bool", "char", "str",
    ],
    ignore_case: false,
    capitalised_types: true,
};

static PYTHON: Spec = Spec {
    line_comment: &["#"],
    block_comment: None,
    hash_at_word_start: false,
    quotes: b"\"'",
    keywords: &[
        "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
        "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
        "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with",
        "yield", "match", "case",
    ],
    literals: &["True", "False", "None", "self", "cls"],
    types: &[
        "int", "str", "float", "bool", "bytes", "list", "dict", "set", "tuple", "object",
    ],
    ignore_case: false,
    capitalised_types: true,
};

static JS: Spec = Spec {
    line_comment: &["//"],
    block_comment: Some(("/*", "*/")),
    hash_at_word_start: false,
    quotes: b"\"'`",
    keywords: &[
        "async",
        "await",
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "export",
        "extends",
        "finally",
        "for",
        "from",
        "function",
        "if",
        "import",
        "in",
        "instanceof",
        "let",
        "new",
        "of",
        "return",
        "static",
        "super",
        "switch",
        "this",
        "throw",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "with",
        "yield",
        "interface",
        "type",
        "enum",
        "implements",
        "private",
        "protected",
        "public",
        "readonly",
        "as",
        "declare",
        "namespace",
        "abstract",
        "keyof",
    ],
    literals: &["true", "false", "null", "undefined", "NaN", "Infinity"],
    types: &[
        "string", "number", "boolean", "any", "unknown", "never", "void", "object", "bigint",
        "symbol",
    ],
    ignore_case: false,
    capitalised_types: true,
};

static BASH: Spec = Spec {
    line_comment: &["#"],
    block_comment: None,
    hash_at_word_start: true,
    quotes: b"\"'",
    keywords: &[
        "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
        "in", "function", "return", "local", "export", "exit", "break", "continue", "select",
        "readonly", "declare", "set", "unset", "shift", "source",
    ],
    literals: &["true", "false"],
    types: &[],
    ignore_case: false,
    capitalised_types: false,
};

static JSON: Spec = Spec {
    line_comment: &["//"],
    block_comment: Some(("/*", "*/")),
    hash_at_word_start: false,
    quotes: b"\"",
    keywords: &[],
    literals: &["true", "false", "null"],
    types: &[],
    ignore_case: false,
    capitalised_types: false,
};

static YAML: Spec = Spec {
    line_comment: &["#"],
    block_comment: None,
    hash_at_word_start: true,
    quotes: b"\"'",
    keywords: &[],
    literals: &[
        "true", "false", "null", "yes", "no", "on", "off", "True", "False", "Null",
    ],
    types: &[],
    ignore_case: false,
    capitalised_types: false,
};

static SQL: Spec = Spec {
    line_comment: &["--"],
    block_comment: Some(("/*", "*/")),
    hash_at_word_start: false,
    quotes: b"'\"",
    keywords: &[
        "select",
        "from",
        "where",
        "and",
        "or",
        "not",
        "insert",
        "into",
        "values",
        "update",
        "set",
        "delete",
        "create",
        "table",
        "drop",
        "alter",
        "add",
        "index",
        "primary",
        "key",
        "foreign",
        "references",
        "join",
        "left",
        "right",
        "inner",
        "outer",
        "full",
        "on",
        "as",
        "group",
        "by",
        "order",
        "having",
        "limit",
        "offset",
        "union",
        "all",
        "distinct",
        "case",
        "when",
        "then",
        "else",
        "end",
        "is",
        "like",
        "in",
        "between",
        "exists",
        "default",
        "unique",
        "constraint",
        "view",
        "begin",
        "commit",
        "rollback",
        "transaction",
        "returning",
        "with",
        "desc",
        "asc",
        "cross",
        "natural",
        "using",
        "if",
        "replace",
        "cascade",
    ],
    literals: &["true", "false", "null"],
    types: &[
        "int",
        "integer",
        "bigint",
        "smallint",
        "serial",
        "bigserial",
        "text",
        "varchar",
        "char",
        "boolean",
        "bool",
        "date",
        "time",
        "timestamp",
        "timestamptz",
        "float",
        "real",
        "double",
        "numeric",
        "decimal",
        "uuid",
        "json",
        "jsonb",
        "blob",
    ],
    ignore_case: true,
    capitalised_types: false,
};

static GO: Spec = Spec {
    line_comment: &["//"],
    block_comment: Some(("/*", "*/")),
    hash_at_word_start: false,
    quotes: b"\"'`",
    keywords: &[
        "break",
        "case",
        "chan",
        "const",
        "continue",
        "default",
        "defer",
        "else",
        "fallthrough",
        "for",
        "func",
        "go",
        "goto",
        "if",
        "import",
        "interface",
        "map",
        "package",
        "range",
        "return",
        "select",
        "struct",
        "switch",
        "type",
        "var",
    ],
    literals: &["true", "false", "nil", "iota"],
    types: &[
        "int",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "uintptr",
        "float32",
        "float64",
        "complex64",
        "complex128",
        "string",
        "bool",
        "byte",
        "rune",
        "error",
        "any",
    ],
    ignore_case: false,
    capitalised_types: true,
};
