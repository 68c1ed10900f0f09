//! `TaskCreate`, `TaskUpdate`, `TaskList`, `TaskGet`: the session's task
//! list, with Claude Code's fields. Each task is a JSON object in
//! `ctx.tasks`:
//!
//! ```json
//! {"id": "1", "subject": "…", "description": "…", "activeForm": "…",
//!  "status": "pending", "owner": null, "blocks": [], "blockedBy": [], "metadata": {}}
//! ```
//!
//! Ids are decimal strings, never reused: a deleted task stays in the list
//! with status `deleted` and is hidden from TaskList and TaskGet.

use futures_util::future::BoxFuture;
use serde_json::{Map, Value, json};

use super::common::{self, Res};
use super::{Tool, ToolCtx, ToolOutput};

pub const STATUSES: &[&str] = &["pending", "in_progress", "completed", "deleted"];

pub struct TaskCreateTool;
pub struct TaskUpdateTool;
pub struct TaskListTool;
pub struct TaskGetTool;

const CREATE_DESCRIPTION: &str = "Creates a task in the session's task list, to plan and track multi-step work and show the user progress.

When to use it:
- Complex work of 3 or more distinct steps, or work the user gave as a list of things to do.
- Right after new instructions, to capture the requirements as tasks.
- Not for a single trivial step, or for purely conversational requests.

Fields:
- `subject`: a brief, imperative title (\"Fix the login redirect\").
- `description`: what needs to be done, with enough detail to do it later, including how to tell it is done.
- `activeForm`: the present-continuous form shown while the task is in progress (\"Fixing the login redirect\").
- `metadata`: optional key/value data to attach.

New tasks start as `pending`. The result gives the task id: use it with TaskUpdate (to mark the task `in_progress` before you start and `completed` once it is fully done) and TaskGet.";

const UPDATE_DESCRIPTION: &str = "Updates a task in the session's task list, by `taskId`.

- `status`: `pending` → `in_progress` → `completed`; `deleted` removes a task that is no longer relevant. Mark a task `in_progress` BEFORE starting it and `completed` as soon as it is fully done: not when tests fail, the work is partial, or you hit an unresolved error (then keep it `in_progress` and create a task for what blocks it). Keep at most one task `in_progress` at a time where possible.
- `subject`, `description`, `activeForm`, `owner`: replace those fields.
- `addBlocks` / `addBlockedBy`: task ids this task blocks / is blocked by.
- `metadata`: keys to merge into the task's metadata; a key set to null is removed.

Read a task with TaskGet before updating it if it may have changed.";

const LIST_DESCRIPTION: &str = "Lists the tasks in the session's task list: id, status, subject, owner, and the open tasks each one is blocked by.

Use it to see what is left to do, to pick the next task (prefer the lowest id among pending tasks that are not blocked), and to check progress after finishing a task.";

const GET_DESCRIPTION: &str = "Gets one task from the session's task list by `taskId`, with its full description, status, dependencies (blocks / blocked by) and metadata. Use it before starting a task to read its requirements.";

fn task_id_schema() -> Value {
    json!({"type": "string", "description": "The ID of the task"})
}

impl Tool for TaskCreateTool {
    fn name(&self) -> &'static str {
        "TaskCreate"
    }
    fn description(&self) -> &'static str {
        CREATE_DESCRIPTION
    }
    fn input_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "subject": {"type": "string", "description": "A brief title for the task"},
                "description": {"type": "string", "description": "A detailed description of what needs to be done"},
                "activeForm": {"type": "string", "description": "Present continuous form shown in the spinner when in progress (e.g. \"Running tests\")"},
                "metadata": {"type": "object", "description": "Arbitrary metadata to attach to the task", "additionalProperties": true}
            },
            "required": ["subject", "description"],
            "additionalProperties": false
        })
    }
    fn read_only(&self) -> bool {
        true
    }
    fn key_arg(&self, input: &Value) -> String {
        common::str_field(input, "subject")
    }
    fn call<'a>(&'a self, input: Value, ctx: &'a ToolCtx) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move { common::flatten(create(&input, ctx)) })
    }
}

impl Tool for TaskUpdateTool {
    fn name(&self) -> &'static str {
        "TaskUpdate"
    }
    fn description(&self) -> &'static str {
        UPDATE_DESCRIPTION
    }
    fn input_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "taskId": task_id_schema(),
                "subject": {"type": "string", "description": "New subject for the task"},
                "description": {"type": "string", "description": "New description for the task"},
                "activeForm": {"type": "string", "description": "Present continuous form shown in the spinner when in progress"},
                "status": {"type": "string", "enum": STATUSES, "description": "New status for the task"},
                "owner": {"type": "string", "description": "New owner for the task"},
                "addBlocks": {"type": "array", "items": {"type": "string"}, "description": "Task IDs that this task blocks"},
                "addBlockedBy": {"type": "array", "items": {"type": "string"}, "description": "Task IDs that block this task"},
                "metadata": {"type": "object", "description": "Metadata keys to merge into the task; set a key to null to delete it", "additionalProperties": true}
            },
            "required": ["taskId"],
            "additionalProperties": false
        })
    }
    fn read_only(&self) -> bool {
        true
    }
    fn key_arg(&self, input: &Value) -> String {
        id_of(input.get("taskId"))
            .map(|i| format!("#{i}"))
            .unwrap_or_default()
    }
    fn call<'a>(&'a self, input: Value, ctx: &'a ToolCtx) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move { common::flatten(update(&input, ctx)) })
    }
}

impl Tool for TaskListTool {
    fn name(&self) -> &'static str {
        "TaskList"
    }
    fn description(&self) -> &'static str {
        LIST_DESCRIPTION
    }
    fn input_schema(&self) -> Value {
        json!({"type": "object", "properties": {}, "additionalProperties": false})
    }
    fn read_only(&self) -> bool {
        true
    }
    fn key_arg(&self, _input: &Value) -> String {
        String::new()
    }
    fn call<'a>(&'a self, _input: Value, ctx: &'a ToolCtx) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move { common::flatten(list(ctx)) })
    }
}

impl Tool for TaskGetTool {
    fn name(&self) -> &'static str {
        "TaskGet"
    }
    fn description(&self) -> &'static str {
        GET_DESCRIPTION
    }
    fn input_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"taskId": task_id_schema()},
            "required": ["taskId"],
            "additionalProperties": false
        })
    }
    fn read_only(&self) -> bool {
        true
    }
    fn key_arg(&self, input: &Value) -> String {
        id_of(input.get("taskId"))
            .map(|i| format!("#{i}"))
            .unwrap_or_default()
    }
    fn call<'a>(&'a self, input: Value, ctx: &'a ToolCtx) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move { common::flatten(get(&input, ctx)) })
    }
}

/// A task id as the model may send it: "3", 3 or "#3".
fn id_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => {
            let s = s.trim().trim_start_matches('#');
            (!s.is_empty()).then(|| s.to_string())
        }
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn locked<T>(ctx: &ToolCtx, f: impl FnOnce(&mut Vec<Value>) -> Res<T>) -> Res<T> {
    let mut tasks = ctx
        .tasks
        .lock()
        .map_err(|_| ToolOutput::error("The task list is unavailable after an earlier failure."))?;
    f(&mut tasks)
}

fn field<'a>(task: &'a Value, key: &str) -> &'a str {
    task.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn find(tasks: &[Value], id: &str) -> Option<usize> {
    tasks.iter().position(|t| field(t, "id") == id)
}

fn not_found(id: &str) -> ToolOutput {
    ToolOutput::error(format!(
        "Task #{id} not found. Use TaskList to see the task ids."
    ))
}

fn req_nonempty<'a>(input: &'a Value, tool: &str, key: &str) -> Res<&'a str> {
    let s = common::req_str(input, tool, key)?;
    if s.trim().is_empty() {
        return Err(ToolOutput::error(format!("{tool}: `{key}` is empty.")));
    }
    Ok(s)
}

fn metadata_arg(input: &Value, tool: &str) -> Res<Option<Map<String, Value>>> {
    match input.get("metadata") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(_) => Err(ToolOutput::error(format!(
            "{tool}: `metadata` must be an object."
        ))),
    }
}

fn create(input: &Value, ctx: &ToolCtx) -> Res<ToolOutput> {
    const T: &str = "TaskCreate";
    let subject = req_nonempty(input, T, "subject")?.trim().to_string();
    let description = common::req_str(input, T, "description")?.to_string();
    let active_form = common::opt_str(input, T, "activeForm")?.map(str::to_string);
    let mut metadata = metadata_arg(input, T)?.unwrap_or_default();
    metadata.retain(|_, v| !v.is_null());
    locked(ctx, |tasks| {
        let id = tasks
            .iter()
            .filter_map(|t| field(t, "id").parse::<u64>().ok())
            .max()
            .unwrap_or(0)
            + 1;
        tasks.push(json!({
            "id": id.to_string(),
            "subject": subject,
            "description": description,
            "activeForm": active_form,
            "status": "pending",
            "owner": null,
            "blocks": [],
            "blockedBy": [],
            "metadata": metadata,
        }));
        Ok(ToolOutput::ok(
            format!("Task #{id} created successfully: {subject}"),
            format!("Created task #{id}"),
        ))
    })
}

fn string_list(input: &Value, tool: &str, key: &str) -> Res<Vec<String>> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                id_of(Some(v)).ok_or_else(|| {
                    ToolOutput::error(format!("{tool}: `{key}` must be a list of task ids."))
                })
            })
            .collect(),
        Some(v) => id_of(Some(v)).map(|id| vec![id]).ok_or_else(|| {
            ToolOutput::error(format!("{tool}: `{key}` must be a list of task ids."))
        }),
    }
}

fn push_unique(task: &mut Value, key: &str, id: &str) {
    if let Some(list) = task.get_mut(key) {
        if !list.is_array() {
            *list = json!([]);
        }
        if let Some(arr) = list.as_array_mut()
            && !arr.iter().any(|v| v.as_str() == Some(id))
        {
            arr.push(Value::String(id.to_string()));
        }
    } else if let Some(obj) = task.as_object_mut() {
        obj.insert(key.to_string(), json!([id]));
    }
}

fn update(input: &Value, ctx: &ToolCtx) -> Res<ToolOutput> {
    const T: &str = "TaskUpdate";
    let id = id_of(input.get("taskId")).ok_or_else(|| {
        ToolOutput::error("TaskUpdate: the required parameter `taskId` is missing.")
    })?;
    let status = common::opt_str(input, T, "status")?;
    if let Some(s) = status
        && !STATUSES.contains(&s)
    {
        return Err(ToolOutput::error(format!(
            "TaskUpdate: unknown status \"{s}\"; use pending, in_progress, completed or deleted."
        )));
    }
    let mut text_fields = Vec::new();
    for key in ["subject", "description", "activeForm", "owner"] {
        if let Some(v) = common::opt_str(input, T, key)? {
            text_fields.push((key, v.to_string()));
        }
    }
    let blocks = string_list(input, T, "addBlocks")?;
    let blocked_by = string_list(input, T, "addBlockedBy")?;
    let metadata = metadata_arg(input, T)?;

    locked(ctx, |tasks| {
        let idx = match find(tasks, &id) {
            Some(i) if field(&tasks[i], "status") != "deleted" => i,
            _ => return Err(not_found(&id)),
        };
        for other in blocks.iter().chain(&blocked_by) {
            if other == &id {
                return Err(ToolOutput::error("TaskUpdate: a task cannot block itself."));
            }
            match find(tasks, other) {
                Some(i) if field(&tasks[i], "status") != "deleted" => {}
                _ => return Err(not_found(other)),
            }
        }
        let mut changed: Vec<&str> = Vec::new();
        for (key, value) in &text_fields {
            tasks[idx][*key] = Value::String(value.clone());
            changed.push(key);
        }
        if let Some(s) = status {
            tasks[idx]["status"] = Value::String(s.to_string());
            changed.push("status");
        }
        for other in &blocks {
            push_unique(&mut tasks[idx], "blocks", other);
            let j = find(tasks, other).unwrap_or(idx);
            push_unique(&mut tasks[j], "blockedBy", &id);
        }
        for other in &blocked_by {
            push_unique(&mut tasks[idx], "blockedBy", other);
            let j = find(tasks, other).unwrap_or(idx);
            push_unique(&mut tasks[j], "blocks", &id);
        }
        if !blocks.is_empty() || !blocked_by.is_empty() {
            changed.push("dependencies");
        }
        if let Some(meta) = &metadata {
            if !tasks[idx]["metadata"].is_object() {
                tasks[idx]["metadata"] = json!({});
            }
            if let Some(m) = tasks[idx]["metadata"].as_object_mut() {
                for (k, v) in meta {
                    if v.is_null() {
                        m.remove(k);
                    } else {
                        m.insert(k.clone(), v.clone());
                    }
                }
            }
            changed.push("metadata");
        }
        if changed.is_empty() {
            return Err(ToolOutput::error(
                "TaskUpdate: nothing to update; give at least one of status, subject, description, activeForm, owner, addBlocks, addBlockedBy or metadata.",
            ));
        }
        let subject = field(&tasks[idx], "subject").to_string();
        let text = match status {
            Some("deleted") => format!("Task #{id} deleted."),
            Some("completed") => {
                let unblocked: Vec<String> = tasks
                    .iter()
                    .filter(|t| {
                        field(t, "status") == "pending"
                            && ids(t, "blockedBy").contains(&id.as_str())
                            && open_blockers(tasks, t).is_empty()
                    })
                    .map(|t| format!("#{}", field(t, "id")))
                    .collect();
                let mut s = format!("Updated task #{id} {}", changed.join(", "));
                if !unblocked.is_empty() {
                    s.push_str(&format!("\nNo longer blocked: {}", unblocked.join(", ")));
                }
                s.push_str("\nCall TaskList to find the next task to work on.");
                s
            }
            _ => format!("Updated task #{id} {}", changed.join(", ")),
        };
        Ok(ToolOutput::ok(
            text,
            format!("Task #{id} ({subject}): {}", changed.join(", ")),
        ))
    })
}

fn ids<'a>(task: &'a Value, key: &str) -> Vec<&'a str> {
    task.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The blockers of a task that are neither completed nor deleted.
fn open_blockers<'a>(tasks: &[Value], task: &'a Value) -> Vec<&'a str> {
    ids(task, "blockedBy")
        .into_iter()
        .filter(|b| {
            find(tasks, b).is_some_and(|i| {
                let s = field(&tasks[i], "status");
                s != "completed" && s != "deleted"
            })
        })
        .collect()
}

fn list(ctx: &ToolCtx) -> Res<ToolOutput> {
    locked(ctx, |tasks| {
        let live: Vec<&Value> = tasks
            .iter()
            .filter(|t| field(t, "status") != "deleted")
            .collect();
        if live.is_empty() {
            return Ok(ToolOutput::ok("No tasks found", "0 tasks"));
        }
        let mut lines = Vec::new();
        for t in &live {
            let mut line = format!(
                "#{} [{}] {}",
                field(t, "id"),
                field(t, "status"),
                field(t, "subject")
            );
            let owner = field(t, "owner");
            if !owner.is_empty() {
                line.push_str(&format!(" (owner: {owner})"));
            }
            let blockers = open_blockers(tasks, t);
            if !blockers.is_empty() {
                let b: Vec<String> = blockers.iter().map(|b| format!("#{b}")).collect();
                line.push_str(&format!(" [blocked by {}]", b.join(", ")));
            }
            lines.push(line);
        }
        let done = live
            .iter()
            .filter(|t| field(t, "status") == "completed")
            .count();
        Ok(ToolOutput::ok(
            lines.join("\n"),
            format!(
                "{done} of {} done",
                common::plural(live.len(), "task", "tasks")
            ),
        ))
    })
}

fn get(input: &Value, ctx: &ToolCtx) -> Res<ToolOutput> {
    let id = id_of(input.get("taskId"))
        .ok_or_else(|| ToolOutput::error("TaskGet: the required parameter `taskId` is missing."))?;
    locked(ctx, |tasks| {
        let t = match find(tasks, &id) {
            Some(i) if field(&tasks[i], "status") != "deleted" => &tasks[i],
            _ => return Err(not_found(&id)),
        };
        let mut text = format!(
            "Task #{id}: {}\nStatus: {}\nDescription: {}",
            field(t, "subject"),
            field(t, "status"),
            field(t, "description")
        );
        let active = field(t, "activeForm");
        if !active.is_empty() {
            text.push_str(&format!("\nActive form: {active}"));
        }
        let owner = field(t, "owner");
        if !owner.is_empty() {
            text.push_str(&format!("\nOwner: {owner}"));
        }
        let fmt = |v: Vec<&str>| {
            v.iter()
                .map(|i| format!("#{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let blocked_by = ids(t, "blockedBy");
        if !blocked_by.is_empty() {
            text.push_str(&format!("\nBlocked by: {}", fmt(blocked_by)));
        }
        let blocks = ids(t, "blocks");
        if !blocks.is_empty() {
            text.push_str(&format!("\nBlocks: {}", fmt(blocks)));
        }
        if let Some(m) = t.get("metadata").and_then(Value::as_object)
            && !m.is_empty()
        {
            text.push_str(&format!("\nMetadata: {}", Value::Object(m.clone())));
        }
        Ok(ToolOutput::ok(text, format!("Task #{id}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ToolCtx {
        ToolCtx::new("/".into(), "/".into(), "test".into())
    }

    fn text(o: &ToolOutput) -> &str {
        o.content.as_str().unwrap_or_default()
    }

    #[tokio::test]
    async fn create_update_list_get() {
        let c = ctx();
        let out = TaskCreateTool
            .call(json!({"subject": "Write tests", "description": "Cover every tool", "activeForm": "Writing tests"}), &c)
            .await;
        assert_eq!(text(&out), "Task #1 created successfully: Write tests");
        let out = TaskCreateTool
            .call(
                json!({"subject": "Ship", "description": "Release it", "metadata": {"prio": 1}}),
                &c,
            )
            .await;
        assert!(text(&out).starts_with("Task #2 created"));
        assert_eq!(c.tasks.lock().unwrap()[0]["activeForm"], "Writing tests");

        let out = TaskUpdateTool
            .call(json!({"taskId": "2", "addBlockedBy": ["1"]}), &c)
            .await;
        assert!(!out.is_error, "{out:?}");
        let out = TaskListTool.call(json!({}), &c).await;
        assert_eq!(
            text(&out),
            "#1 [pending] Write tests\n#2 [pending] Ship [blocked by #1]"
        );
        assert_eq!(out.summary, "0 of 2 tasks done");

        let out = TaskUpdateTool
            .call(
                json!({"taskId": 1, "status": "in_progress", "owner": "me"}),
                &c,
            )
            .await;
        assert!(!out.is_error, "{out:?}");
        let out = TaskUpdateTool
            .call(json!({"taskId": "#1", "status": "completed"}), &c)
            .await;
        assert!(text(&out).contains("No longer blocked: #2"), "{out:?}");
        let out = TaskListTool.call(json!({}), &c).await;
        assert_eq!(
            text(&out),
            "#1 [completed] Write tests (owner: me)\n#2 [pending] Ship"
        );

        let out = TaskGetTool.call(json!({"taskId": "2"}), &c).await;
        let t = text(&out);
        assert!(
            t.starts_with("Task #2: Ship\nStatus: pending\nDescription: Release it"),
            "{t}"
        );
        assert!(t.contains("Blocked by: #1"));
        assert!(t.contains("Metadata: {\"prio\":1}"));

        let out = TaskUpdateTool
            .call(
                json!({"taskId": "2", "metadata": {"prio": null, "k": "v"}}),
                &c,
            )
            .await;
        assert!(!out.is_error);
        assert_eq!(c.tasks.lock().unwrap()[1]["metadata"], json!({"k": "v"}));

        // Deleted tasks disappear, and their id is not reused.
        TaskUpdateTool
            .call(json!({"taskId": "2", "status": "deleted"}), &c)
            .await;
        assert!(TaskGetTool.call(json!({"taskId": "2"}), &c).await.is_error);
        let out = TaskCreateTool
            .call(json!({"subject": "Next", "description": ""}), &c)
            .await;
        assert!(text(&out).starts_with("Task #3 created"));
    }

    #[tokio::test]
    async fn errors() {
        let c = ctx();
        let out = TaskListTool.call(json!({}), &c).await;
        assert_eq!(text(&out), "No tasks found");
        let out = TaskCreateTool.call(json!({"description": "x"}), &c).await;
        assert!(out.is_error && text(&out).contains("`subject`"));
        TaskCreateTool
            .call(json!({"subject": "a", "description": "b"}), &c)
            .await;
        let out = TaskUpdateTool
            .call(json!({"taskId": "9", "status": "completed"}), &c)
            .await;
        assert!(out.is_error && text(&out).contains("Task #9 not found"));
        let out = TaskUpdateTool
            .call(json!({"taskId": "1", "status": "done"}), &c)
            .await;
        assert!(out.is_error && text(&out).contains("unknown status"));
        let out = TaskUpdateTool.call(json!({"taskId": "1"}), &c).await;
        assert!(out.is_error && text(&out).contains("nothing to update"));
        let out = TaskUpdateTool
            .call(json!({"taskId": "1", "addBlocks": ["1"]}), &c)
            .await;
        assert!(out.is_error);
        let out = TaskUpdateTool
            .call(json!({"status": "completed"}), &c)
            .await;
        assert!(out.is_error && text(&out).contains("`taskId`"));
        let out = TaskGetTool.call(json!({}), &c).await;
        assert!(out.is_error);
    }
}
