//! `claude config set|get|unset|list|keys`: rendering only.

use claude_config::{Config, ConfigError, LoadOptions, Resolved, Scope};

use crate::args::{ConfigCommand, ScopeArgs};

fn scope(s: ScopeArgs) -> Scope {
    if s.project {
        Scope::Project
    } else {
        Scope::User
    }
}

/// The lower layers whose value for `key` the managed policy overrode.
fn overridden(cfg: &Config, key: &str) -> Vec<String> {
    cfg.overridden_by_policy()
        .iter()
        .filter(|o| o.key == key)
        .map(|o| o.attempted.to_string())
        .collect()
}

/// `origin`, plus what it overrode: `managed /etc/… (overrides flag --region)`.
fn origin_text(cfg: &Config, r: &Resolved) -> String {
    let over = overridden(cfg, r.key);
    if over.is_empty() {
        r.origin.to_string()
    } else {
        format!("{} (overrides {})", r.origin, over.join(", "))
    }
}

fn fail(e: ConfigError) -> i32 {
    eprintln!("claude: {e}");
    2
}

pub fn run(cmd: ConfigCommand, opts: &LoadOptions) -> i32 {
    match cmd {
        ConfigCommand::Set {
            key,
            value,
            scope: s,
        } => match claude_config::set_value(opts, scope(s), &key, &value) {
            Ok(path) => {
                let shown = claude_config::validate(&key, &value)
                    .map(|v| v.to_string())
                    .unwrap_or(value);
                println!("Set {key} = {shown} in {}", path.display());
                0
            }
            Err(e) => fail(e),
        },
        ConfigCommand::Unset { key, scope: s } => {
            match claude_config::unset_value(opts, scope(s), &key) {
                Ok((path, true)) => {
                    println!("Removed {key} from {}", path.display());
                    0
                }
                Ok((path, false)) => {
                    println!("{key} was not set in {}", path.display());
                    0
                }
                Err(e) => fail(e),
            }
        }
        ConfigCommand::Get { key, show_origin } => {
            let cfg = match Config::load(opts) {
                Ok(c) => c,
                Err(e) => return fail(e),
            };
            match cfg.get(&key) {
                Ok(Some(r)) if show_origin => {
                    println!("{}\t{}", r.value, origin_text(&cfg, r));
                    0
                }
                Ok(Some(r)) => {
                    println!("{}", r.value);
                    0
                }
                Ok(None) => {
                    eprintln!(
                        "claude: {key} is not set. Set it with `claude config set {key} <value>`."
                    );
                    1
                }
                Err(e) => fail(e),
            }
        }
        ConfigCommand::List { show_origin, json } => {
            let cfg = match Config::load(opts) {
                Ok(c) => c,
                Err(e) => return fail(e),
            };
            let entries = cfg.entries();
            if json {
                let map: serde_json::Map<String, serde_json::Value> = entries
                    .iter()
                    .map(|r| {
                        let mut v = serde_json::json!({
                            "value": r.value.to_string(),
                            "origin": r.origin.to_string(),
                        });
                        let over = overridden(&cfg, r.key);
                        if !over.is_empty() {
                            v["overrides"] = serde_json::json!(over);
                        }
                        (r.key.to_string(), v)
                    })
                    .collect();
                println!("{}", serde_json::Value::Object(map));
                return 0;
            }
            let width = entries.iter().map(|r| r.key.len()).max().unwrap_or(0);
            for r in entries {
                if show_origin {
                    let value = r.value.to_string();
                    let origin = origin_text(&cfg, r);
                    println!("{:width$}  {value:<44}  {origin}", r.key);
                } else {
                    println!("{:width$}  {}", r.key, r.value);
                }
            }
            0
        }
        ConfigCommand::Keys => {
            let names: Vec<&str> = claude_config::key_names().collect();
            let width = names.iter().map(|k| k.len()).max().unwrap_or(0);
            for k in names {
                println!(
                    "{k:width$}  {}",
                    claude_config::describe(k).unwrap_or_default()
                );
            }
            0
        }
    }
}
