//! `claude config set|get|unset|list|keys`: rendering only.

use claude_config::{Config, ConfigError, LoadOptions, Scope};

use crate::args::{ConfigCommand, ScopeArgs};

fn scope(s: ScopeArgs) -> Scope {
    if s.project {
        Scope::Project
    } else {
        Scope::User
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
                    println!("{}\t{}", r.value, r.origin);
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
                        let v = serde_json::json!({
                            "value": r.value.to_string(),
                            "origin": r.origin.to_string(),
                        });
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
                    println!("{:width$}  {value:<44}  {}", r.key, r.origin);
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
