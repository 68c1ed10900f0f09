//! Turning a Bash command line into what `Bash(…)` rules are matched
//! against: one entry per simple command that would run, each in the forms
//! an allow rule may match and the (wider) forms a deny or ask rule may match.

use super::shell::{self, SimpleCommand, Word};

/// One simple command that would run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    /// Forms an allow rule must match (one of): the command as written
    /// (whitespace normalised, harmless redirections dropped) and the same
    /// without wrappers that run their argument unchanged (`timeout 5`,
    /// `nice`, `nohup`, `time`) or shell keywords (`then`, `do`, …).
    pub allow_forms: Vec<String>,
    /// Forms deny and ask rules are matched against (any): the allow forms,
    /// plus the command with quotes removed, with leading `VAR=value`
    /// assignments, `env`, `sudo`, `command`, `exec` and `builtin` removed,
    /// and with the program's directory removed (`/bin/rm` → `rm`).
    pub deny_forms: Vec<String>,
    /// Files written by `>`/`>>` redirections (as written, unexpanded).
    pub writes: Vec<String>,
    /// The words after wrappers, quotes removed: for acceptEdits' file
    /// commands (`mkdir`, `touch`, `cp`, `mv`).
    pub argv: Vec<String>,
}

/// The parts of a command line, and whether it was read with certainty.
pub(crate) fn analyse(command: &str) -> (Vec<Part>, bool) {
    let mut parts = Vec::new();
    let mut complete = true;
    collect(command, 0, &mut parts, &mut complete);
    (parts, complete)
}

/// `sh -c '…'` and friends nest; deeper than this is refused.
const MAX_NESTING: usize = 4;

fn collect(command: &str, depth: usize, parts: &mut Vec<Part>, complete: &mut bool) {
    if depth > MAX_NESTING {
        *complete = false;
        return;
    }
    let script = shell::parse(command);
    *complete &= script.complete;
    for simple in &script.commands {
        let Some(part) = part(simple) else { continue };
        // Commands that run other commands: check those too.
        for inner in inner_commands(&part.argv) {
            collect(&inner, depth + 1, parts, complete);
        }
        parts.push(part);
    }
}

fn part(simple: &SimpleCommand) -> Option<Part> {
    let kept: Vec<String> = simple
        .redirects
        .iter()
        .filter(|r| !r.harmless())
        .map(|r| format!("{} {}", r.op, r.target.raw))
        .collect();
    let writes = simple
        .redirects
        .iter()
        .filter(|r| r.writes_file())
        .map(|r| r.target.value.clone())
        .collect();
    let words = drop_closers(&simple.words);
    let exact = strip(words, false);
    let loose = strip(words, true);
    if exact.is_empty() && kept.is_empty() {
        return None;
    }

    let text = |words: &[Word], raw: bool| {
        let mut parts: Vec<&str> = words
            .iter()
            .map(|w| {
                if raw {
                    w.raw.as_str()
                } else {
                    w.value.as_str()
                }
            })
            .collect();
        parts.extend(kept.iter().map(String::as_str));
        parts.join(" ")
    };
    let mut allow_forms = Vec::new();
    push_unique(&mut allow_forms, text(exact, true));
    push_unique(&mut allow_forms, text(words, true));

    let mut deny_forms = allow_forms.clone();
    for w in [words, exact, loose] {
        push_unique(&mut deny_forms, text(w, false));
        push_unique(&mut deny_forms, text(w, true));
    }
    if let Some((program, rest)) = loose.split_first()
        && let Some(base) = program
            .value
            .rsplit('/')
            .next()
            .filter(|b| *b != program.value)
    {
        let mut words = vec![Word {
            raw: base.to_string(),
            value: base.to_string(),
        }];
        words.extend(rest.iter().cloned());
        push_unique(&mut deny_forms, text(&words, false));
        push_unique(&mut deny_forms, text(&words, true));
    }
    Some(Part {
        allow_forms,
        deny_forms,
        writes,
        argv: loose.iter().map(|w| w.value.clone()).collect(),
    })
}

fn push_unique(list: &mut Vec<String>, text: String) {
    let text = super::pattern::collapse_whitespace(&text);
    if !text.is_empty() && !list.contains(&text) {
        list.push(text);
    }
}

/// Trailing `}`, `fi`, `done`, `esac` belong to the construct, not the command.
fn drop_closers(words: &[Word]) -> &[Word] {
    let mut end = words.len();
    while end > 0 && matches!(words[end - 1].raw.as_str(), "}" | "fi" | "done" | "esac") {
        end -= 1;
    }
    &words[..end]
}

const KEYWORDS: [&str; 9] = [
    "if", "then", "elif", "else", "do", "while", "until", "!", "{",
];

/// The words after the prefixes that do not change what runs. With `loose`,
/// also prefixes that do change how it runs (environment, privileges),
/// which deny rules must see through but allow rules must not.
fn strip(words: &[Word], loose: bool) -> &[Word] {
    let mut rest = words;
    loop {
        let Some((first, tail)) = rest.split_first() else {
            return rest;
        };
        let name = first.value.as_str();
        let next = if first.raw != first.value {
            // A quoted word is never a keyword or wrapper.
            None
        } else if KEYWORDS.contains(&name) || name == "nohup" {
            Some(tail)
        } else if name == "time" {
            Some(skip_options(tail, &[]))
        } else if name == "nice" {
            Some(skip_options(tail, &["-n", "--adjustment"]))
        } else if name == "timeout" {
            let after = skip_options(tail, &["-s", "--signal", "-k", "--kill-after"]);
            after
                .split_first()
                .map(|(_, after_duration)| after_duration)
        } else if loose && is_assignment(name) {
            Some(tail)
        } else if loose && name == "env" {
            let mut after = skip_options(
                tail,
                &["-u", "--unset", "-C", "--chdir", "-S", "--split-string"],
            );
            while after.first().is_some_and(|w| is_assignment(&w.value)) {
                after = &after[1..];
            }
            Some(after)
        } else if loose && name == "sudo" {
            Some(skip_options(
                tail,
                &["-u", "-g", "-h", "-p", "-C", "-U", "-r", "-t", "-D", "-R"],
            ))
        } else if loose && matches!(name, "command" | "exec" | "builtin") {
            Some(skip_options(tail, &["-a"]))
        } else {
            None
        };
        match next {
            Some(next) => rest = next,
            None => return rest,
        }
    }
}

/// Skips `-x`/`--long` options; those listed take the next word as value
/// (unless written `--opt=value`).
fn skip_options<'w>(words: &'w [Word], with_value: &[&str]) -> &'w [Word] {
    let mut rest = words;
    while let Some((first, tail)) = rest.split_first() {
        let w = first.value.as_str();
        if w == "--" {
            return tail;
        }
        if !w.starts_with('-') || w == "-" {
            break;
        }
        rest = if with_value.contains(&w) && !tail.is_empty() {
            &tail[1..]
        } else {
            tail
        };
    }
    rest
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            let mut chars = name.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

/// Command lines that a command runs itself: `sh -c '…'`, `eval …`,
/// `xargs CMD`, `find … -exec CMD … ;`, `watch CMD`.
fn inner_commands(argv: &[String]) -> Vec<String> {
    let Some((program, args)) = argv.split_first() else {
        return Vec::new();
    };
    let program = program.rsplit('/').next().unwrap_or(program);
    match program {
        "sh" | "bash" | "zsh" | "dash" | "ksh" | "fish" => {
            // The first argument after `-c` (options may be bundled: `-lc`).
            let mut iter = args.iter();
            while let Some(arg) = iter.next() {
                if arg.starts_with('-') && !arg.starts_with("--") && arg.contains('c') {
                    return iter.next().cloned().into_iter().collect();
                }
                if !arg.starts_with('-') {
                    break;
                }
            }
            Vec::new()
        }
        "eval" => vec![args.join(" ")],
        "xargs" => {
            let mut i = 0;
            while i < args.len() && args[i].starts_with('-') {
                let takes_value = matches!(
                    args[i].as_str(),
                    "-n" | "-L"
                        | "-P"
                        | "-s"
                        | "-I"
                        | "-d"
                        | "-a"
                        | "-E"
                        | "--max-args"
                        | "--max-lines"
                        | "--max-procs"
                        | "--delimiter"
                        | "--arg-file"
                );
                i += if takes_value { 2 } else { 1 };
            }
            if i < args.len() {
                vec![quote_all(&args[i..])]
            } else {
                Vec::new()
            }
        }
        "find" | "fd" => {
            let mut out = Vec::new();
            let mut i = 0;
            while i < args.len() {
                if matches!(
                    args[i].as_str(),
                    "-exec"
                        | "-execdir"
                        | "-ok"
                        | "-okdir"
                        | "-x"
                        | "--exec"
                        | "-X"
                        | "--exec-batch"
                ) {
                    let start = i + 1;
                    let mut end = start;
                    while end < args.len() && !matches!(args[end].as_str(), ";" | "+") {
                        end += 1;
                    }
                    if start < end {
                        out.push(quote_all(&args[start..end]));
                    }
                    i = end;
                }
                i += 1;
            }
            out
        }
        "watch" | "stdbuf" | "chroot" | "flock" | "ionice" | "taskset" | "nice" | "timeout" => {
            // Wrappers: the command after their options (and, for some, one
            // positional argument such as chroot's directory).
            let (with_value, positional): (&[&str], usize) = match program {
                "watch" => (&["-n", "--interval"], 0),
                "stdbuf" => (&["-i", "-o", "-e"], 0),
                "ionice" => (&["-c", "-n", "-p", "-t"], 0),
                "nice" => (&["-n", "--adjustment"], 0),
                "timeout" => (&["-s", "--signal", "-k", "--kill-after"], 1),
                _ => (&[], 1),
            };
            let mut i = 0;
            while i < args.len() && args[i].starts_with('-') {
                i += if with_value.contains(&args[i].as_str()) {
                    2
                } else {
                    1
                };
            }
            i += positional;
            if i < args.len() {
                vec![quote_all(&args[i..])]
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}

/// Words back into a command line, each single-quoted when it needs it.
fn quote_all(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            if !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow_forms(command: &str) -> Vec<Vec<String>> {
        analyse(command)
            .0
            .into_iter()
            .map(|p| p.allow_forms)
            .collect()
    }

    #[test]
    fn forms() {
        assert_eq!(allow_forms("ls   -la"), [vec!["ls -la"]]);
        assert_eq!(allow_forms("git status 2>&1"), [vec!["git status"]]);
        assert_eq!(
            allow_forms("git log > out.txt"),
            [vec!["git log > out.txt"]]
        );
        assert_eq!(
            allow_forms("timeout 30 npm run test"),
            [vec!["npm run test", "timeout 30 npm run test"]]
        );
        assert_eq!(
            allow_forms("if true; then ls; fi"),
            [vec!["true", "if true"], vec!["ls", "then ls"]]
        );
        let (parts, _) = analyse("FOO=1 sudo -u root /bin/rm -rf \"Daily\"");
        let deny = &parts[0].deny_forms;
        assert!(deny.contains(&"rm -rf Daily".to_string()), "{deny:?}");
        assert!(!parts[0].allow_forms.iter().any(|f| f.starts_with("rm")));
    }

    #[test]
    fn nested_commands() {
        let cases: &[(&str, &str)] = &[
            ("bash -c 'rm -rf Daily'", "rm -rf Daily"),
            ("sh -lc \"rm -rf Daily\"", "rm -rf Daily"),
            ("eval rm -rf Daily", "rm -rf Daily"),
            ("echo Daily | xargs rm -rf", "rm -rf"),
            ("find . -name x -exec rm -rf {} \\;", "rm -rf {}"),
            ("echo $(rm -rf Daily)", "rm -rf Daily"),
            ("watch -n 1 rm -rf Daily", "rm -rf Daily"),
        ];
        for (command, inner) in cases {
            let (parts, complete) = analyse(command);
            assert!(complete, "{command}");
            assert!(
                parts
                    .iter()
                    .any(|p| p.deny_forms.iter().any(|f| f == inner)),
                "{command}: {parts:?}"
            );
        }
    }

    #[test]
    fn writes_are_reported() {
        let (parts, _) = analyse("echo hi > a.txt 2>/dev/null >> b.txt");
        assert_eq!(parts[0].writes, ["a.txt", "b.txt"]);
    }
}
