//! `AskUserQuestion`: multiple-choice questions for the user, through the
//! front end's `ctx.ask_user`; in print mode there is nobody to ask.

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::common::{self, Res};
use super::{Tool, ToolCtx, ToolOutput};

pub const MAX_QUESTIONS: usize = 4;
pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 4;
pub const MAX_HEADER_CHARS: usize = 12;

pub struct AskUserQuestionTool;

const DESCRIPTION: &str = "Use this tool when you need to ask the user questions during execution. This allows you to:
1. Gather user preferences or requirements
2. Clarify ambiguous instructions
3. Get decisions on implementation choices as you work
4. Offer choices to the user about what direction to take.

Usage notes:
- Ask 1 to 4 questions at once; each has 2 to 4 options with a short `label` (1-5 words) and a `description` of what choosing it means.
- Users can always choose \"Other\" and type their own answer: do not add an \"Other\" option yourself.
- Set `multiSelect: true` when several options can be chosen together.
- `header` is a very short label shown as a chip (at most 12 characters), e.g. \"Auth method\".
- If you recommend an option, make it the first one and add \"(Recommended)\" to its label.
- Do not use this tool to ask whether a plan is ready or to get approval for one.
- In non-interactive (print) mode no user can answer: the tool then returns an error, and you should proceed on reasonable, stated assumptions.";

impl Tool for AskUserQuestionTool {
    fn name(&self) -> &'static str {
        "AskUserQuestion"
    }

    fn description(&self) -> &'static str {
        DESCRIPTION
    }

    fn input_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "questions": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_QUESTIONS,
                    "description": "Questions to ask the user (1-4 questions)",
                    "items": {
                        "type": "object",
                        "properties": {
                            "question": {"type": "string", "description": "The complete question to ask the user. Should be clear, specific, and end with a question mark."},
                            "header": {"type": "string", "description": "Very short label displayed as a chip/tag (max 12 chars). Examples: \"Auth method\", \"Library\", \"Approach\"."},
                            "options": {
                                "type": "array",
                                "minItems": MIN_OPTIONS,
                                "maxItems": MAX_OPTIONS,
                                "description": "The available choices for this question. Must have 2-4 options. There should be no 'Other' option, that will be provided automatically.",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "label": {"type": "string", "description": "The display text for this option that the user will see and select. Should be concise (1-5 words)."},
                                        "description": {"type": "string", "description": "Explanation of what this option means or what will happen if chosen."}
                                    },
                                    "required": ["label", "description"],
                                    "additionalProperties": false
                                }
                            },
                            "multiSelect": {"type": "boolean", "default": false, "description": "Set to true to allow the user to select multiple options instead of just one."}
                        },
                        "required": ["question", "header", "options", "multiSelect"],
                        "additionalProperties": false
                    }
                }
            },
            "required": ["questions"],
            "additionalProperties": false
        })
    }

    fn read_only(&self) -> bool {
        true
    }

    fn key_arg(&self, input: &Value) -> String {
        input
            .get("questions")
            .and_then(|q| q.get(0))
            .and_then(|q| q.get("question"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    fn call<'a>(&'a self, input: Value, ctx: &'a ToolCtx) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move { common::flatten(run(input, ctx).await) })
    }
}

/// Checks the questions and returns how many there are.
fn validate(input: &Value) -> Res<usize> {
    let bad = |msg: String| Err(ToolOutput::error(format!("AskUserQuestion: {msg}")));
    let Some(questions) = input.get("questions").and_then(Value::as_array) else {
        return bad("`questions` must be a list of 1 to 4 questions.".into());
    };
    if questions.is_empty() || questions.len() > MAX_QUESTIONS {
        return bad(format!(
            "ask 1 to {MAX_QUESTIONS} questions at once, not {}.",
            questions.len()
        ));
    }
    let mut seen = Vec::new();
    for (i, q) in questions.iter().enumerate() {
        let n = i + 1;
        let text = q
            .get("question")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim();
        if text.is_empty() {
            return bad(format!("question {n} has no `question` text."));
        }
        if seen.contains(&text) {
            return bad(format!(
                "question {n} repeats an earlier question; questions must be unique."
            ));
        }
        seen.push(text);
        let header = q.get("header").and_then(Value::as_str).unwrap_or_default();
        if header.trim().is_empty() {
            return bad(format!(
                "question {n} needs a `header` (a label of at most {MAX_HEADER_CHARS} characters)."
            ));
        }
        if header.chars().count() > MAX_HEADER_CHARS {
            return bad(format!(
                "the header \"{header}\" of question {n} is longer than {MAX_HEADER_CHARS} characters."
            ));
        }
        if let Some(m) = q.get("multiSelect")
            && !m.is_boolean()
        {
            return bad(format!(
                "`multiSelect` of question {n} must be true or false."
            ));
        }
        let Some(options) = q.get("options").and_then(Value::as_array) else {
            return bad(format!("question {n} needs `options`: 2 to 4 choices."));
        };
        if options.len() < MIN_OPTIONS || options.len() > MAX_OPTIONS {
            return bad(format!(
                "question {n} has {} options; give {MIN_OPTIONS} to {MAX_OPTIONS} (\"Other\" is added automatically).",
                options.len()
            ));
        }
        let mut labels = Vec::new();
        for (j, o) in options.iter().enumerate() {
            let label = o
                .get("label")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim();
            if label.is_empty() {
                return bad(format!("option {} of question {n} has no `label`.", j + 1));
            }
            if o.get("description").and_then(Value::as_str).is_none() {
                return bad(format!(
                    "option \"{label}\" of question {n} has no `description`."
                ));
            }
            if labels.contains(&label) {
                return bad(format!(
                    "question {n} has two options labelled \"{label}\"."
                ));
            }
            labels.push(label);
        }
    }
    Ok(questions.len())
}

async fn run(input: Value, ctx: &ToolCtx) -> Res<ToolOutput> {
    let count = validate(&input)?;
    let Some(ask) = ctx.ask_user.clone() else {
        return Err(ToolOutput::error(
            "No user is available to answer questions: this session is non-interactive (print mode). Do not ask again. Proceed with the most reasonable choice, state the assumption you made in your reply, or end your turn with the question written in your reply.",
        ));
    };
    match ask(&input).await {
        Ok(answer) => Ok(ToolOutput::ok(
            format!(
                "User has answered your questions: {answer}. You can now continue with the user's answers in mind."
            ),
            format!(
                "User answered {}",
                common::plural(count, "question", "questions")
            ),
        )),
        Err(reason) if reason.trim().is_empty() => Err(ToolOutput::error(
            "The user declined to answer these questions. Continue without the answers, or ask differently if they are essential.",
        )),
        Err(reason) => Err(ToolOutput::error(format!(
            "The user declined to answer these questions: {reason}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn questions() -> Value {
        json!({"questions": [{
            "question": "Which database?",
            "header": "Database",
            "multiSelect": false,
            "options": [
                {"label": "Postgres (Recommended)", "description": "Relational"},
                {"label": "SQLite", "description": "Embedded"}
            ]
        }]})
    }

    #[tokio::test]
    async fn print_mode_has_no_user() {
        let c = ToolCtx::new("/".into(), "/".into(), "t".into());
        let out = AskUserQuestionTool.call(questions(), &c).await;
        assert!(out.is_error);
        assert!(
            out.content
                .as_str()
                .unwrap()
                .starts_with("No user is available")
        );
    }

    #[tokio::test]
    async fn the_front_end_answers() {
        let mut c = ToolCtx::new("/".into(), "/".into(), "t".into());
        c.ask_user = Some(Arc::new(|input: &Value| {
            let q = input["questions"][0]["question"]
                .as_str()
                .unwrap()
                .to_string();
            Box::pin(async move { Ok(format!("\"{q}\"=\"SQLite\"")) })
        }));
        let out = AskUserQuestionTool.call(questions(), &c).await;
        assert!(!out.is_error, "{out:?}");
        assert!(
            out.content
                .as_str()
                .unwrap()
                .contains("\"Which database?\"=\"SQLite\"")
        );
        assert_eq!(out.summary, "User answered 1 question");

        c.ask_user = Some(Arc::new(|_: &Value| {
            Box::pin(async { Err("Esc".to_string()) })
        }));
        let out = AskUserQuestionTool.call(questions(), &c).await;
        assert!(out.is_error && out.content.as_str().unwrap().contains("declined"));
    }

    #[tokio::test]
    async fn invalid_questions_are_explained() {
        let c = ToolCtx::new("/".into(), "/".into(), "t".into());
        let mut q = questions();
        q["questions"][0]["options"] = json!([{"label": "Only", "description": "one"}]);
        let out = AskUserQuestionTool.call(q, &c).await;
        assert!(
            out.content.as_str().unwrap().contains("has 1 options"),
            "{out:?}"
        );
        let mut q = questions();
        q["questions"][0]["header"] = json!("A very long header");
        let out = AskUserQuestionTool.call(q, &c).await;
        assert!(out.content.as_str().unwrap().contains("longer than 12"));
        let out = AskUserQuestionTool.call(json!({"questions": []}), &c).await;
        assert!(out.is_error && out.content.as_str().unwrap().contains("1 to 4"));
        let out = AskUserQuestionTool.call(json!({}), &c).await;
        assert!(out.is_error);
    }
}
