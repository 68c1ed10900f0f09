//! Argument placeholders in a skill's content, as Claude Code fills them:
//! `$ARGUMENTS`, `$ARGUMENTS[N]`, `$N` (0-based, shell-style quoting),
//! `$name` for named arguments, the `${CLAUDE_…}` variables, and `\$` to
//! keep a placeholder as written. Content without an argument placeholder
//! gets `ARGUMENTS: <text>` appended, which most vault skills rely on.

/// The values a skill's content may name.
#[derive(Debug, Clone, Default)]
pub struct Substitutions<'a> {
    /// The text after the skill's name, as typed.
    pub arguments: &'a str,
    /// The skill's `arguments` names, in order.
    pub names: &'a [String],
    pub session_id: &'a str,
    pub skill_dir: &'a str,
    pub project_dir: &'a str,
}

/// Splits arguments the way a shell would (`"two words"` is one); text with
/// unbalanced quotes falls back to whitespace splitting.
pub fn split_args(text: &str) -> Vec<String> {
    shlex::split(text).unwrap_or_else(|| text.split_whitespace().map(str::to_string).collect())
}

/// Whether the content names its arguments anywhere (escaped ones aside).
pub fn has_placeholder(content: &str, names: &[String]) -> bool {
    let mut found = false;
    scan(content, names, &mut |piece| {
        if matches!(piece, Piece::Argument(_)) {
            found = true;
        }
    });
    found
}

/// The content with every placeholder filled.
pub fn expand(content: &str, subs: &Substitutions<'_>) -> String {
    let args = split_args(subs.arguments);
    let nth = |n: usize| args.get(n).cloned().unwrap_or_default();
    let mut out = String::with_capacity(content.len() + subs.arguments.len());
    let mut any_argument = false;
    scan(content, subs.names, &mut |piece| match piece {
        Piece::Text(t) => out.push_str(t),
        Piece::Argument(a) => {
            any_argument = true;
            match a {
                Arg::All => out.push_str(subs.arguments.trim()),
                Arg::Index(n) => out.push_str(&nth(n)),
                Arg::Named(i) => out.push_str(&nth(i)),
            }
        }
        Piece::Variable(v) => out.push_str(match v {
            Var::SessionId => subs.session_id,
            Var::SkillDir => subs.skill_dir,
            Var::ProjectDir => subs.project_dir,
        }),
    });
    let arguments = subs.arguments.trim();
    if !any_argument && !arguments.is_empty() {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("\nARGUMENTS: ");
        out.push_str(arguments);
    }
    out
}

enum Arg {
    All,
    Index(usize),
    /// The position of a named argument.
    Named(usize),
}

enum Var {
    SessionId,
    SkillDir,
    ProjectDir,
}

enum Piece<'a> {
    Text(&'a str),
    Argument(Arg),
    Variable(Var),
}

/// Walks the content once, handing out literal text and placeholders.
fn scan<'a>(content: &'a str, names: &[String], emit: &mut dyn FnMut(Piece<'a>)) {
    let bytes = content.as_bytes();
    let mut i = 0;
    let mut literal = 0;
    while i < bytes.len() {
        // `\$` keeps the dollar sign and whatever follows as written.
        if bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'$') {
            emit(Piece::Text(&content[literal..i]));
            emit(Piece::Text("$"));
            i += 2;
            literal = i;
            continue;
        }
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        let rest = &content[i + 1..];
        let Some((piece, len)) = placeholder(rest, names) else {
            i += 1;
            continue;
        };
        emit(Piece::Text(&content[literal..i]));
        emit(piece);
        i += 1 + len;
        literal = i;
    }
    emit(Piece::Text(&content[literal..]));
}

/// The placeholder at the start of `rest` (the text after a `$`) and its length.
fn placeholder<'a>(rest: &str, names: &[String]) -> Option<(Piece<'a>, usize)> {
    for (text, var) in [
        ("{CLAUDE_SESSION_ID}", Var::SessionId),
        ("{CLAUDE_SKILL_DIR}", Var::SkillDir),
        ("{CLAUDE_PROJECT_DIR}", Var::ProjectDir),
    ] {
        if rest.starts_with(text) {
            return Some((Piece::Variable(var), text.len()));
        }
    }
    let word_end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let word = &rest[..word_end];
    if word == "ARGUMENTS" {
        let after = &rest[word_end..];
        if let Some(inner) = after.strip_prefix('[')
            && let Some(close) = inner.find(']')
            && let Ok(n) = inner[..close].trim().parse::<usize>()
        {
            return Some((Piece::Argument(Arg::Index(n)), word_end + close + 2));
        }
        return Some((Piece::Argument(Arg::All), word_end));
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 {
        let n = rest[..digits].parse().ok()?;
        return Some((Piece::Argument(Arg::Index(n)), digits));
    }
    names
        .iter()
        .position(|n| !n.is_empty() && n == word)
        .map(|i| (Piece::Argument(Arg::Named(i)), word_end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subs<'a>(arguments: &'a str, names: &'a [String]) -> Substitutions<'a> {
        Substitutions {
            arguments,
            names,
            session_id: "sess-1",
            skill_dir: "/p/.claude/skills/x",
            project_dir: "/p",
        }
    }

    #[test]
    fn all_indexed_and_positional() {
        let s = subs(r#"fix "login page" urgent"#, &[]);
        assert_eq!(
            expand("Do $ARGUMENTS now", &s),
            r#"Do fix "login page" urgent now"#
        );
        assert_eq!(
            expand("[$ARGUMENTS[1]] [$0] [$2] [$7]", &s),
            "[login page] [fix] [urgent] []"
        );
    }

    #[test]
    fn named_arguments_follow_the_frontmatter_order() {
        let names = vec!["title".to_string(), "project".to_string()];
        let s = subs(r#""Design review" Alpha"#, &names);
        assert_eq!(
            expand("# $title for $project ($other)", &s),
            "# Design review for Alpha ($other)"
        );
    }

    #[test]
    fn variables_and_escapes() {
        let s = subs("a b", &[]);
        assert_eq!(
            expand(
                "${CLAUDE_SESSION_ID} ${CLAUDE_SKILL_DIR} ${CLAUDE_PROJECT_DIR} \\$ARGUMENTS costs \\$5 $ARGUMENTS",
                &s
            ),
            "sess-1 /p/.claude/skills/x /p $ARGUMENTS costs $5 a b"
        );
    }

    #[test]
    fn arguments_are_appended_without_a_placeholder() {
        let s = subs("Design review with Jane Smith", &[]);
        assert_eq!(
            expand("Create a meeting note.\n", &s),
            "Create a meeting note.\n\nARGUMENTS: Design review with Jane Smith"
        );
        // An escaped placeholder is not one; variables are not arguments.
        assert!(
            expand("\\$ARGUMENTS ${CLAUDE_SESSION_ID}", &s)
                .ends_with("ARGUMENTS: Design review with Jane Smith")
        );
        // Nothing to append without arguments.
        assert_eq!(expand("Body\n", &subs("  ", &[])), "Body\n");
        assert!(has_placeholder("x $1", &[]));
        assert!(!has_placeholder("price \\$1 and $HOME", &[]));
    }

    #[test]
    fn unbalanced_quotes_fall_back_to_words() {
        assert_eq!(split_args(r#"it's fine"#), ["it's", "fine"]);
        assert_eq!(split_args(r#"a "b c" d"#), ["a", "b c", "d"]);
    }
}
