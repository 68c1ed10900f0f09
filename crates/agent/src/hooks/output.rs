//! What a handler's exit code and output mean, and how the results of all
//! the handlers of one event add up.
//!
//! Exit 0: stdout is JSON when it starts with `{`, else plain text that is
//! added to the context for UserPromptSubmit and SessionStart. Exit 2:
//! blocks, with stderr as the reason. Anything else: a visible,
//! non-blocking error. Both the documented JSON and the older shapes the
//! ArchitectKB vault prints (top-level `decision: approve|block`, top-level
//! `additionalContext`) are understood.

use serde_json::Value;

use super::HookEvent;
use super::run::{Run, Status};

/// A hook's answer about a tool call. Ordered so that the strongest wins
/// when handlers disagree: deny > ask > allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PermissionDecision {
    Allow,
    Ask,
    Deny,
}

/// One line for the user: a `systemMessage`, or a hook that failed, timed
/// out or printed something unreadable (never blocking).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookMessage {
    pub event: HookEvent,
    pub text: String,
    pub is_error: bool,
}

/// Everything the matching handlers of one event said, merged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HookOutcome {
    /// How many handlers ran.
    pub ran: usize,
    /// Exit 2 or `decision: "block"`: the reasons, one per line. What it
    /// means depends on the event (drop the prompt, keep the model going,
    /// feedback after a tool). PreToolUse and PermissionRequest report a
    /// block as `permission` instead.
    pub block: Option<String>,
    /// PreToolUse and PermissionRequest: the strongest decision and its reason.
    pub permission: Option<(PermissionDecision, String)>,
    /// A replacement tool input (`updatedInput`), the first one given.
    pub updated_input: Option<Value>,
    /// `additionalContext`, and plain stdout for UserPromptSubmit and SessionStart.
    pub additional_context: Vec<String>,
    /// For the user: system messages and non-blocking errors.
    pub messages: Vec<HookMessage>,
    /// `continue: false`: stop the turn, with this `stopReason` for the user.
    pub stop: Option<String>,
}

impl HookOutcome {
    /// The additional context as one block of text, `None` when there is none.
    pub fn context(&self) -> Option<String> {
        (!self.additional_context.is_empty()).then(|| self.additional_context.join("\n\n"))
    }

    fn push_block(&mut self, reason: String) {
        match &mut self.block {
            Some(b) => {
                b.push('\n');
                b.push_str(&reason);
            }
            None => self.block = Some(reason),
        }
    }

    fn decide(&mut self, decision: PermissionDecision, reason: String) {
        match &mut self.permission {
            Some((d, r)) if *d == decision => {
                if !reason.is_empty() {
                    if !r.is_empty() {
                        r.push_str("; ");
                    }
                    r.push_str(&reason);
                }
            }
            Some((d, _)) if *d > decision => {}
            _ => self.permission = Some((decision, reason)),
        }
    }

    /// Adds what one handler (`command`, for messages) said.
    pub(crate) fn absorb(&mut self, event: HookEvent, command: &str, run: Run) {
        self.ran += 1;
        let name = event.as_str();
        let fail = |what: String, stderr: &str| {
            let detail = stderr.trim();
            let text = if detail.is_empty() {
                format!("{name} hook `{command}` {what}")
            } else {
                format!("{name} hook `{command}` {what}: {detail}")
            };
            HookMessage {
                event,
                text,
                is_error: true,
            }
        };
        match run.status {
            Status::Exited(0) => self.success(event, command, &run.stdout),
            Status::Exited(2) => {
                let reason = match run.stderr.trim() {
                    "" => format!("blocked by the {name} hook `{command}`"),
                    r => r.to_string(),
                };
                match event {
                    HookEvent::PreToolUse | HookEvent::PermissionRequest => {
                        self.decide(PermissionDecision::Deny, reason);
                    }
                    HookEvent::UserPromptSubmit
                    | HookEvent::Stop
                    | HookEvent::SubagentStop
                    | HookEvent::PostToolUse
                    | HookEvent::PostToolUseFailure => self.push_block(reason),
                    // Nothing to block: the user sees stderr.
                    HookEvent::SessionStart
                    | HookEvent::SessionEnd
                    | HookEvent::Notification
                    | HookEvent::PreCompact => self.messages.push(fail("exited 2".into(), &reason)),
                }
            }
            Status::Exited(code) => {
                self.messages
                    .push(fail(format!("failed (exit {code})"), &run.stderr));
            }
            Status::Killed => self
                .messages
                .push(fail("was killed by a signal".into(), &run.stderr)),
            Status::TimedOut(secs) => self
                .messages
                .push(fail(format!("timed out after {secs}s and was stopped"), "")),
            Status::NotStarted(e) => self.messages.push(fail("could not be started".into(), &e)),
        }
    }

    fn success(&mut self, event: HookEvent, command: &str, stdout: &str) {
        let text = stdout.trim();
        if text.starts_with('{') {
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(json)) => return self.json(event, &json),
                Ok(_) | Err(_) => self.messages.push(HookMessage {
                    event,
                    text: format!(
                        "{} hook `{command}` printed output that starts with `{{` but is not a JSON object; it was taken as text",
                        event.as_str()
                    ),
                    is_error: true,
                }),
            }
        }
        if !text.is_empty()
            && matches!(event, HookEvent::UserPromptSubmit | HookEvent::SessionStart)
        {
            self.additional_context.push(text.to_string());
        }
    }

    fn json(&mut self, event: HookEvent, json: &serde_json::Map<String, Value>) {
        let str_of = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
        if json.get("continue") == Some(&Value::Bool(false)) && self.stop.is_none() {
            let reason = str_of(json.get("stopReason"));
            self.stop = Some(if reason.trim().is_empty() {
                format!("a {} hook answered `continue: false`", event.as_str())
            } else {
                reason
            });
        }
        if let Some(m) = json.get("systemMessage").and_then(Value::as_str)
            && !m.trim().is_empty()
        {
            self.messages.push(HookMessage {
                event,
                text: m.to_string(),
                is_error: false,
            });
        }
        let tool_event = matches!(event, HookEvent::PreToolUse | HookEvent::PermissionRequest);
        let reason = str_of(json.get("reason"));
        // The top-level decision: current for UserPromptSubmit, Stop and
        // PostToolUse; deprecated (approve|block) for PreToolUse.
        match json.get("decision").and_then(Value::as_str) {
            Some("block") if tool_event => self.decide(PermissionDecision::Deny, reason),
            Some("block") => self.push_block(if reason.is_empty() {
                format!("blocked by a {} hook", event.as_str())
            } else {
                reason
            }),
            Some("approve") if tool_event => self.decide(PermissionDecision::Allow, reason),
            _ => {}
        }
        // The vault's older shape: additionalContext at the top level.
        if let Some(c) = json.get("additionalContext").and_then(Value::as_str) {
            self.add_context(c);
        }
        let Some(specific) = json.get("hookSpecificOutput").and_then(Value::as_object) else {
            return;
        };
        if let Some(c) = specific.get("additionalContext").and_then(Value::as_str) {
            self.add_context(c);
        }
        let decision = match specific.get("permissionDecision").and_then(Value::as_str) {
            Some("allow") => Some(PermissionDecision::Allow),
            Some("ask") => Some(PermissionDecision::Ask),
            Some("deny") => Some(PermissionDecision::Deny),
            _ => None,
        };
        if let Some(d) = decision {
            self.decide(d, str_of(specific.get("permissionDecisionReason")));
        }
        let mut updated = specific.get("updatedInput");
        // PermissionRequest: decision {behavior: allow|deny, message, updatedInput}.
        if let Some(d) = specific.get("decision").and_then(Value::as_object) {
            match d.get("behavior").and_then(Value::as_str) {
                Some("allow") => self.decide(PermissionDecision::Allow, String::new()),
                Some("deny") => self.decide(PermissionDecision::Deny, str_of(d.get("message"))),
                _ => {}
            }
            updated = updated.or(d.get("updatedInput"));
        }
        if let Some(u) = updated.filter(|u| u.is_object())
            && self.updated_input.is_none()
        {
            self.updated_input = Some(u.clone());
        }
    }

    fn add_context(&mut self, text: &str) {
        if !text.trim().is_empty() {
            self.additional_context.push(text.trim().to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn exited(code: i32, stdout: &str, stderr: &str) -> Run {
        Run {
            status: Status::Exited(code),
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    fn one(event: HookEvent, run: Run) -> HookOutcome {
        let mut o = HookOutcome::default();
        o.absorb(event, "hook.sh", run);
        o
    }

    #[test]
    fn exit_0_plain_stdout_is_context_only_for_prompts_and_session_start() {
        let o = one(
            HookEvent::UserPromptSubmit,
            exited(0, "Today is Tuesday.\n", ""),
        );
        assert_eq!(o.context().as_deref(), Some("Today is Tuesday."));
        assert!(o.block.is_none() && o.messages.is_empty());
        let o = one(HookEvent::SessionStart, exited(0, "branch: main", ""));
        assert_eq!(o.additional_context, ["branch: main"]);
        let o = one(HookEvent::PreToolUse, exited(0, "just logging", ""));
        assert_eq!(
            o,
            HookOutcome {
                ran: 1,
                ..HookOutcome::default()
            }
        );
    }

    #[test]
    fn exit_2_blocks_with_stderr_as_the_reason() {
        let o = one(HookEvent::PreToolUse, exited(2, "", "no writes to ADRs\n"));
        assert_eq!(
            o.permission,
            Some((PermissionDecision::Deny, "no writes to ADRs".into()))
        );
        let o = one(
            HookEvent::UserPromptSubmit,
            exited(2, "ignored", "secret found"),
        );
        assert_eq!(o.block.as_deref(), Some("secret found"));
        assert!(
            o.additional_context.is_empty(),
            "stdout is ignored on exit 2"
        );
        let o = one(HookEvent::Stop, exited(2, "", ""));
        assert_eq!(
            o.block.as_deref(),
            Some("blocked by the Stop hook `hook.sh`")
        );
        let o = one(HookEvent::SessionStart, exited(2, "", "nope"));
        assert!(o.block.is_none());
        assert!(o.messages[0].is_error && o.messages[0].text.contains("nope"));
    }

    #[test]
    fn other_exit_codes_timeouts_and_spawn_failures_are_visible_but_never_block() {
        let o = one(HookEvent::PreToolUse, exited(1, "", "Traceback: boom"));
        assert!(o.permission.is_none() && o.block.is_none());
        assert_eq!(
            o.messages,
            [HookMessage {
                event: HookEvent::PreToolUse,
                text: "PreToolUse hook `hook.sh` failed (exit 1): Traceback: boom".into(),
                is_error: true
            }]
        );
        let timed_out = Run {
            status: Status::TimedOut(1),
            stdout: String::new(),
            stderr: String::new(),
        };
        let o = one(HookEvent::UserPromptSubmit, timed_out);
        assert!(o.block.is_none());
        assert!(o.messages[0].text.contains("timed out after 1s"), "{o:?}");
        let missing = Run {
            status: Status::NotStarted("No such file or directory".into()),
            stdout: String::new(),
            stderr: String::new(),
        };
        assert!(
            one(HookEvent::Stop, missing).messages[0]
                .text
                .contains("could not be started")
        );
    }

    #[test]
    fn documented_json_decisions() {
        let out = json!({"hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "allow",
            "permissionDecisionReason": "safe path",
            "updatedInput": {"file_path": "b.md", "content": "x"},
            "additionalContext": "note the naming convention"
        }, "systemMessage": "rewrote the path"});
        let o = one(HookEvent::PreToolUse, exited(0, &out.to_string(), ""));
        assert_eq!(
            o.permission,
            Some((PermissionDecision::Allow, "safe path".into()))
        );
        assert_eq!(
            o.updated_input,
            Some(json!({"file_path": "b.md", "content": "x"}))
        );
        assert_eq!(o.additional_context, ["note the naming convention"]);
        assert_eq!(o.messages[0].text, "rewrote the path");
        assert!(!o.messages[0].is_error);

        let out = json!({"continue": false, "stopReason": "build is red"});
        let o = one(HookEvent::PostToolUse, exited(0, &out.to_string(), ""));
        assert_eq!(o.stop.as_deref(), Some("build is red"));

        let out = json!({"decision": "block", "reason": "tests fail"});
        let o = one(HookEvent::Stop, exited(0, &out.to_string(), ""));
        assert_eq!(o.block.as_deref(), Some("tests fail"));

        let out = json!({"hookSpecificOutput": {"hookEventName": "PermissionRequest",
            "decision": {"behavior": "allow", "updatedInput": {"command": "ls"}}}});
        let o = one(
            HookEvent::PermissionRequest,
            exited(0, &out.to_string(), ""),
        );
        assert_eq!(
            o.permission,
            Some((PermissionDecision::Allow, String::new()))
        );
        assert_eq!(o.updated_input, Some(json!({"command": "ls"})));
        let out =
            json!({"hookSpecificOutput": {"decision": {"behavior": "deny", "message": "not now"}}});
        let o = one(
            HookEvent::PermissionRequest,
            exited(0, &out.to_string(), ""),
        );
        assert_eq!(
            o.permission,
            Some((PermissionDecision::Deny, "not now".into()))
        );
    }

    #[test]
    fn the_vaults_older_shapes() {
        // file-protection.py
        let out = json!({"decision": "block", "reason": "ADRs are append-only"});
        let o = one(HookEvent::PreToolUse, exited(0, &out.to_string(), ""));
        assert_eq!(
            o.permission,
            Some((PermissionDecision::Deny, "ADRs are append-only".into()))
        );
        let o = one(
            HookEvent::PreToolUse,
            exited(0, r#"{"decision": "approve"}"#, ""),
        );
        assert_eq!(
            o.permission,
            Some((PermissionDecision::Allow, String::new()))
        );
        // frontmatter-validator.py and friends
        let out = json!({"additionalContext": "missing `created` in frontmatter"});
        let o = one(HookEvent::PostToolUse, exited(0, &out.to_string(), ""));
        assert_eq!(o.additional_context, ["missing `created` in frontmatter"]);
        // skill-context-loader.sh prints `{}` when it has nothing to say.
        assert_eq!(
            one(HookEvent::UserPromptSubmit, exited(0, "{}\n", "")),
            HookOutcome {
                ran: 1,
                ..HookOutcome::default()
            }
        );
        // graph-search-hint.sh: an undocumented field, ignored.
        let out = json!({"hookSpecificOutput": {"message": "try the graph"}});
        let o = one(HookEvent::PreToolUse, exited(0, &out.to_string(), ""));
        assert!(o.permission.is_none() && o.additional_context.is_empty());
    }

    #[test]
    fn broken_json_is_reported_and_taken_as_text() {
        let o = one(HookEvent::UserPromptSubmit, exited(0, "{not json", ""));
        assert!(o.messages[0].is_error);
        assert_eq!(o.additional_context, ["{not json"]);
    }

    #[test]
    fn handlers_merge_deny_over_ask_over_allow() {
        let allow = json!({"hookSpecificOutput": {"permissionDecision": "allow", "updatedInput": {"a": 1}}});
        let ask = json!({"hookSpecificOutput": {"permissionDecision": "ask", "permissionDecisionReason": "check"}});
        let mut o = HookOutcome::default();
        o.absorb(
            HookEvent::PreToolUse,
            "a",
            exited(0, &allow.to_string(), ""),
        );
        o.absorb(HookEvent::PreToolUse, "b", exited(0, &ask.to_string(), ""));
        assert_eq!(
            o.permission,
            Some((PermissionDecision::Ask, "check".into()))
        );
        o.absorb(HookEvent::PreToolUse, "c", exited(2, "", "no"));
        o.absorb(HookEvent::PreToolUse, "d", exited(0, &ask.to_string(), ""));
        assert_eq!(o.permission, Some((PermissionDecision::Deny, "no".into())));
        o.absorb(HookEvent::PreToolUse, "e", exited(2, "", "never"));
        assert_eq!(
            o.permission,
            Some((PermissionDecision::Deny, "no; never".into()))
        );
        assert_eq!(o.ran, 5);

        let mut o = HookOutcome::default();
        o.absorb(HookEvent::Stop, "a", exited(2, "", "first"));
        o.absorb(
            HookEvent::Stop,
            "b",
            exited(0, r#"{"decision":"block","reason":"second"}"#, ""),
        );
        assert_eq!(o.block.as_deref(), Some("first\nsecond"));
    }
}
