//! The loaded configuration: every layer read, merged, and queryable with
//! the origin of each value.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::config_toml::Spanned;
use crate::error::ConfigError;
use crate::layer::{self, Layer};
use crate::options::LoadOptions;
use crate::paths::{CONFIG_FILE, LOCAL_SETTINGS_FILE, Paths, SETTINGS_FILE};
use crate::permissions::{MergedPermissions, Sourced};
use crate::policy::{self, PolicyOverride};
use crate::registry::{self, Raw};
use crate::settings::{SettingsFile, SettingsScope};
use crate::value::{Origin, ProviderKind, Resolved, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    ManagedSettings,
    LocalSettings,
    ProjectConfig,
    ProjectSettings,
    UserConfig,
    UserSettings,
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::ManagedSettings => "managed settings",
            FileKind::LocalSettings => "project local settings",
            FileKind::ProjectConfig => "project config",
            FileKind::ProjectSettings => "project settings",
            FileKind::UserConfig => "user config",
            FileKind::UserSettings => "user settings",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedFile {
    pub path: PathBuf,
    pub kind: FileKind,
}

#[derive(Debug, Clone)]
pub struct Config {
    resolved: Vec<Resolved>,
    env: BTreeMap<String, String>,
    env_origins: BTreeMap<String, Origin>,
    user_dir: PathBuf,
    project_root: PathBuf,
    files: Vec<LoadedFile>,
    settings_files: Vec<SettingsFile>,
    permissions: MergedPermissions,
    available_models: Option<Sourced<Vec<String>>>,
    policy_overrides: Vec<PolicyOverride>,
    managed_settings_path: Option<PathBuf>,
}

/// The variables seen so far, each with where it came from.
type EnvMap = BTreeMap<String, (String, Origin)>;

impl Config {
    /// Reads every layer. Any malformed file or invalid value is an error,
    /// even one a higher layer would shadow, so problems surface where they
    /// are rather than after the shadowing layer goes away.
    pub fn load(opts: &LoadOptions) -> Result<Config, ConfigError> {
        let paths = Paths::resolve(opts)?;
        let managed = match &opts.managed_settings {
            Some(path) => SettingsFile::read(path, SettingsScope::Managed)?,
            None => None,
        };
        let mut files = Vec::new();
        let mut settings = Vec::new();
        let mut layers = Vec::new();
        if let Some((file, text)) = &managed {
            files.push(loaded(&file.path, FileKind::ManagedSettings));
            settings.push(file.clone());
            layers.push(policy::layer(file, text)?);
        }
        let mut file_layers = Vec::new();
        for source in read_sources(&paths)? {
            files.push(source.file);
            settings.extend(source.settings);
            file_layers.push(source.layer);
        }

        let mut env = settings_env(&settings)?;
        env.extend(
            opts.env
                .iter()
                .map(|(k, v)| (k.clone(), (v.clone(), Origin::Env(k.clone())))),
        );
        layers.push(flag_layer(opts)?);
        layers.push(Layer::from_env(|var| env.get(var).cloned())?);
        layers.extend(file_layers);
        // The policy's `env` has already decided keys in the policy layer;
        // it joins the environment last so that tools and hooks see it too.
        if let Some((file, _)) = &managed {
            for (var, value) in file.env()? {
                let origin = Origin::SettingsEnv {
                    var: var.clone(),
                    file: file.path.clone(),
                };
                env.insert(var, (value, origin));
            }
        }

        let (resolved, policy_overrides) = layer::resolve(&layers)?;
        let permissions = MergedPermissions::merge(&settings)?;
        let available_models = policy::available_models(&settings)?;
        let (env, env_origins) = env
            .into_iter()
            .map(|(var, (value, origin))| ((var.clone(), value), (var, origin)))
            .unzip();
        Ok(Config {
            resolved,
            env,
            env_origins,
            user_dir: paths.user_dir,
            project_root: paths.project_root,
            files,
            settings_files: settings,
            permissions,
            available_models,
            policy_overrides,
            managed_settings_path: opts.managed_settings.clone(),
        })
    }

    /// `Ok(None)` for a known key with no value and no default.
    pub fn get(&self, key: &str) -> Result<Option<&Resolved>, ConfigError> {
        let spec = registry::lookup(key)?;
        Ok(self.resolved.iter().find(|r| r.key == spec.name))
    }

    /// Every key that has a value (defaults included), in registry order.
    pub fn entries(&self) -> Vec<&Resolved> {
        self.resolved.iter().collect()
    }

    /// The environment tools and hooks should see: the settings files' `env`
    /// blocks overlaid by the process environment, with the managed policy's
    /// `env` on top.
    pub fn env(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    pub fn env_origin(&self, var: &str) -> Option<Origin> {
        self.env_origins.get(var).cloned()
    }

    pub fn user_dir(&self) -> &Path {
        &self.user_dir
    }

    pub fn project_root(&self) -> &Path {
        &self.project_root
    }

    /// Every file that was read, highest precedence first.
    pub fn files(&self) -> &[LoadedFile] {
        &self.files
    }

    /// The Claude Code settings files that were read, highest precedence
    /// first (managed, local, project, user).
    pub fn settings_files(&self) -> &[SettingsFile] {
        &self.settings_files
    }

    pub fn permissions(&self) -> &MergedPermissions {
        &self.permissions
    }

    /// The models that may be chosen (`availableModels`), with the file
    /// that lists them; `None` when no settings file restricts them.
    pub fn available_models(&self) -> Option<&Sourced<Vec<String>>> {
        self.available_models.as_ref()
    }

    /// The managed policy file, when one was read.
    pub fn managed_policy(&self) -> Option<&Path> {
        self.files
            .iter()
            .find(|f| f.kind == FileKind::ManagedSettings)
            .map(|f| f.path.as_path())
    }

    /// Where the managed policy is looked for, whether or not it exists;
    /// other managed files (`managed-mcp.json`) sit beside it.
    pub fn managed_settings_path(&self) -> Option<&Path> {
        self.managed_settings_path.as_deref()
    }

    /// Values from flags, the environment or files that the managed policy
    /// overrode with a different value.
    pub fn overridden_by_policy(&self) -> &[PolicyOverride] {
        &self.policy_overrides
    }

    pub fn provider(&self) -> ProviderKind {
        self.str("provider")
            .and_then(|p| p.parse().ok())
            .unwrap_or(ProviderKind::Anthropic)
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        match self.value(key)? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn u64(&self, key: &str) -> Option<u64> {
        match self.value(key)? {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// Integers are widened, so callers need not care how a number was typed.
    pub fn f64(&self, key: &str) -> Option<f64> {
        match self.value(key)? {
            Value::Num(n) => Some(*n),
            Value::Int(n) => Some(*n as f64),
            _ => None,
        }
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.value(key)? {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn list_f64(&self, key: &str) -> Option<&[f64]> {
        match self.value(key)? {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn table(&self, key: &str) -> Option<&crate::value::Table> {
        match self.value(key)? {
            Value::Table(rows) => Some(rows),
            _ => None,
        }
    }

    fn value(&self, key: &str) -> Option<&Value> {
        self.resolved
            .iter()
            .find(|r| r.key == key)
            .map(|r| &r.value)
    }
}

fn loaded(path: &Path, kind: FileKind) -> LoadedFile {
    LoadedFile {
        path: path.to_path_buf(),
        kind,
    }
}

/// A user or project file that exists, read and validated.
struct Source {
    file: LoadedFile,
    layer: Layer,
    settings: Option<SettingsFile>,
}

/// The user and project files, highest precedence first.
fn read_sources(paths: &Paths) -> Result<Vec<Source>, ConfigError> {
    let project = paths.project_dir.as_deref();
    let user = Some(paths.user_dir.as_path());
    let candidates = [
        (project, LOCAL_SETTINGS_FILE, FileKind::LocalSettings),
        (project, CONFIG_FILE, FileKind::ProjectConfig),
        (project, SETTINGS_FILE, FileKind::ProjectSettings),
        (user, CONFIG_FILE, FileKind::UserConfig),
        (user, SETTINGS_FILE, FileKind::UserSettings),
    ];
    let mut sources = Vec::new();
    for (dir, name, kind) in candidates {
        let Some(dir) = dir else { continue };
        let path = dir.join(name);
        let source = match settings_scope(kind) {
            Some(scope) => match SettingsFile::read(&path, scope)? {
                Some((settings, _)) => Some((settings.layer()?, Some(settings))),
                None => None,
            },
            None => match Spanned::read(&path)? {
                Some(doc) => Some((doc.layer(&path)?, None)),
                None => None,
            },
        };
        if let Some((layer, settings)) = source {
            sources.push(Source {
                file: loaded(&path, kind),
                layer,
                settings,
            });
        }
    }
    Ok(sources)
}

fn settings_scope(kind: FileKind) -> Option<SettingsScope> {
    match kind {
        FileKind::ManagedSettings => Some(SettingsScope::Managed),
        FileKind::LocalSettings => Some(SettingsScope::Local),
        FileKind::ProjectSettings => Some(SettingsScope::Project),
        FileKind::UserSettings => Some(SettingsScope::User),
        FileKind::ProjectConfig | FileKind::UserConfig => None,
    }
}

/// Later flags win, as with repeated command-line options.
fn flag_layer(opts: &LoadOptions) -> Result<Layer, ConfigError> {
    let mut layer = Layer::new();
    for flag in &opts.flags {
        let origin = Origin::Flag(flag.flag.clone());
        layer.put(&flag.key, Raw::Text(flag.value.clone()), origin)?;
    }
    Ok(layer)
}

/// The non-managed settings files' `env` blocks, user < project < local.
fn settings_env(settings: &[SettingsFile]) -> Result<EnvMap, ConfigError> {
    let mut env = EnvMap::new();
    for file in settings
        .iter()
        .rev()
        .filter(|f| f.scope != SettingsScope::Managed)
    {
        for (var, value) in file.env()? {
            let origin = Origin::SettingsEnv {
                var: var.clone(),
                file: file.path.clone(),
            };
            env.insert(var, (value, origin));
        }
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::FlagValue;
    use std::fs;

    /// A home with a user dir, and a git project two levels below it.
    struct Fixture {
        tmp: tempfile::TempDir,
        opts: LoadOptions,
    }

    impl Fixture {
        fn new() -> Fixture {
            let tmp = tempfile::tempdir().unwrap();
            let project = tmp.path().join("home/work/proj");
            fs::create_dir_all(project.join(".git")).unwrap();
            fs::create_dir_all(project.join("src")).unwrap();
            let opts = LoadOptions {
                home: Some(tmp.path().join("home")),
                cwd: project.join("src"),
                ..LoadOptions::default()
            };
            Fixture { tmp, opts }
        }

        fn path(&self, rel: &str) -> PathBuf {
            self.tmp.path().join(rel)
        }

        fn write(&self, rel: &str, text: &str) -> PathBuf {
            let path = self.path(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, text).unwrap();
            path
        }

        fn env(&mut self, var: &str, value: &str) {
            self.opts.env.insert(var.to_owned(), value.to_owned());
        }

        fn flag(&mut self, key: &str, value: &str, flag: &str) {
            self.opts.flags.push(FlagValue {
                key: key.to_owned(),
                value: value.to_owned(),
                flag: flag.to_owned(),
            });
        }

        fn managed(&mut self, text: &str) -> PathBuf {
            let path = self.write("etc/claude-code/managed-settings.json", text);
            self.opts.managed_settings = Some(path.clone());
            path
        }

        fn load(&self) -> Config {
            Config::load(&self.opts).unwrap_or_else(|e| panic!("{e}"))
        }

        fn load_err(&self) -> ConfigError {
            Config::load(&self.opts).unwrap_err()
        }
    }

    const USER_SETTINGS: &str = "home/.claude/settings.json";
    const USER_CONFIG: &str = "home/.claude/config.toml";
    const PROJECT_SETTINGS: &str = "home/work/proj/.claude/settings.json";
    const PROJECT_CONFIG: &str = "home/work/proj/.claude/config.toml";
    const LOCAL_SETTINGS: &str = "home/work/proj/.claude/settings.local.json";

    #[test]
    fn defaults_only() {
        let fx = Fixture::new();
        let config = fx.load();
        assert_eq!(config.provider(), ProviderKind::Anthropic);
        assert_eq!(config.user_dir(), fx.path("home/.claude"));
        assert_eq!(config.project_root(), fx.path("home/work/proj"));
        assert!(config.files().is_empty() && config.settings_files().is_empty());
        let keys: Vec<_> = config.entries().iter().map(|r| r.key).collect();
        assert_eq!(
            keys,
            [
                "provider",
                "budget.alert_thresholds",
                "budget.action",
                "retry.max_attempts",
                "retry.base_delay_ms",
                "retry.max_delay_ms",
                "prompt_caching",
                "vault.native_q",
                "audit.enabled",
                "audit.include_content",
                "audit.max_bytes",
                "audit.principal_lookup"
            ]
        );
        assert!(config.entries().iter().all(|r| r.origin == Origin::Default));
        assert_eq!(config.get("bedrock.region").unwrap(), None);
        assert!(matches!(
            config.get("bedrock.regoin"),
            Err(ConfigError::UnknownKey { .. })
        ));
        assert!(matches!(
            config.get("anthropic.api_key"),
            Err(ConfigError::SecretKey { .. })
        ));
        assert!(config.overridden_by_policy().is_empty());
        assert_eq!(config.permissions(), &MergedPermissions::default());
        assert_eq!(config.available_models(), None);
        assert_eq!(config.managed_policy(), None);
    }

    #[test]
    fn typed_accessors() {
        let fx = Fixture::new();
        fx.write(USER_CONFIG, "budget.monthly_usd = 300\nmodel = \"opus\"\n");
        let config = fx.load();
        assert_eq!(config.u64("retry.max_attempts"), Some(10));
        assert_eq!(config.f64("retry.max_attempts"), Some(10.0));
        assert_eq!(config.f64("budget.monthly_usd"), Some(300.0));
        assert_eq!(config.bool("prompt_caching"), Some(true));
        assert_eq!(
            config.list_f64("budget.alert_thresholds"),
            Some(&[50.0, 80.0, 100.0][..])
        );
        assert_eq!(config.str("budget.action"), Some("warn"));
        assert_eq!(config.str("model"), Some("opus"));
        assert_eq!(config.str("bedrock.region"), None);
        assert_eq!(config.str("retry.max_attempts"), None);
        assert_eq!(config.u64("model"), None);
        assert_eq!(config.bool("model"), None);
        assert_eq!(config.list_f64("model"), None);
        assert_eq!(config.f64("model"), None);
        assert_eq!(config.str("no.such.key"), None);
    }

    #[test]
    fn full_precedence_chain() {
        let mut fx = Fixture::new();
        let user_settings = fx.write(USER_SETTINGS, r#"{"model": "m-user-settings"}"#);
        let user_config = fx.write(USER_CONFIG, "model = \"m-user-config\"");
        let project_settings = fx.write(PROJECT_SETTINGS, r#"{"model": "m-project-settings"}"#);
        let project_config = fx.write(PROJECT_CONFIG, "model = \"m-project-config\"");
        let local = fx.write(LOCAL_SETTINGS, r#"{"model": "m-local"}"#);
        fx.env("ANTHROPIC_MODEL", "m-env");
        fx.flag("model", "m-flag", "--model");
        let managed = fx.managed(r#"{"model": "m-managed"}"#);

        let model = |fx: &Fixture| {
            let config = fx.load();
            let r = config.get("model").unwrap().unwrap().clone();
            (r.value.to_string(), r.origin)
        };
        assert_eq!(
            model(&fx),
            ("m-managed".into(), Origin::Managed(managed.clone()))
        );
        let files: Vec<_> = fx
            .load()
            .files()
            .iter()
            .map(|f| (f.kind, f.path.clone()))
            .collect();
        assert_eq!(
            files,
            [
                (FileKind::ManagedSettings, managed),
                (FileKind::LocalSettings, local.clone()),
                (FileKind::ProjectConfig, project_config.clone()),
                (FileKind::ProjectSettings, project_settings.clone()),
                (FileKind::UserConfig, user_config.clone()),
                (FileKind::UserSettings, user_settings.clone()),
            ]
        );
        let scopes: Vec<_> = fx.load().settings_files().iter().map(|f| f.scope).collect();
        assert_eq!(
            scopes,
            [
                SettingsScope::Managed,
                SettingsScope::Local,
                SettingsScope::Project,
                SettingsScope::User
            ]
        );

        fx.opts.managed_settings = None;
        assert_eq!(
            model(&fx),
            ("m-flag".into(), Origin::Flag("--model".into()))
        );
        fx.opts.flags.clear();
        assert_eq!(
            model(&fx),
            ("m-env".into(), Origin::Env("ANTHROPIC_MODEL".into()))
        );
        fx.opts.env.clear();
        assert_eq!(model(&fx), ("m-local".into(), Origin::File(local.clone())));
        fs::remove_file(&local).unwrap();
        assert_eq!(
            model(&fx),
            (
                "m-project-config".into(),
                Origin::File(project_config.clone())
            )
        );
        fs::remove_file(&project_config).unwrap();
        assert_eq!(
            model(&fx),
            (
                "m-project-settings".into(),
                Origin::File(project_settings.clone())
            )
        );
        fs::remove_file(&project_settings).unwrap();
        assert_eq!(
            model(&fx),
            ("m-user-config".into(), Origin::File(user_config.clone()))
        );
        fs::remove_file(&user_config).unwrap();
        assert_eq!(
            model(&fx),
            (
                "m-user-settings".into(),
                Origin::File(user_settings.clone())
            )
        );
        fs::remove_file(&user_settings).unwrap();
        assert_eq!(fx.load().get("model").unwrap(), None);
    }

    #[test]
    fn settings_env_blocks_are_environment_defaults() {
        let mut fx = Fixture::new();
        let user = fx.write(
            USER_SETTINGS,
            r#"{"env": {"AWS_PROFILE": "user", "AWS_REGION": "eu-west-1"}}"#,
        );
        let project = fx.write(PROJECT_SETTINGS, r#"{"env": {"AWS_PROFILE": "project"}}"#);
        let local = fx.write(
            LOCAL_SETTINGS,
            r#"{"env": {"CLAUDE_CODE_USE_BEDROCK": "1", "ANTHROPIC_MODEL": "opus"}}"#,
        );
        fx.write(
            PROJECT_CONFIG,
            "model = \"haiku\"\n[bedrock]\nprofile = \"from-config\"\n",
        );

        let config = fx.load();
        assert_eq!(config.provider(), ProviderKind::Bedrock);
        let provider = config.get("provider").unwrap().unwrap();
        let local_origin = |var: &str| Origin::SettingsEnv {
            var: var.into(),
            file: local.clone(),
        };
        assert_eq!(provider.origin, local_origin("CLAUDE_CODE_USE_BEDROCK"));
        assert_eq!(
            provider.origin.to_string(),
            format!("env CLAUDE_CODE_USE_BEDROCK (from {})", local.display())
        );
        // A settings env block outranks config.toml, as the environment does.
        assert_eq!(config.str("model"), Some("opus"));
        assert_eq!(config.str("bedrock.profile"), Some("project"));
        assert_eq!(
            config.get("bedrock.profile").unwrap().unwrap().origin,
            Origin::SettingsEnv {
                var: "AWS_PROFILE".into(),
                file: project
            }
        );
        assert_eq!(config.env()["AWS_REGION"], "eu-west-1");
        assert_eq!(
            config.env_origin("AWS_REGION"),
            Some(Origin::SettingsEnv {
                var: "AWS_REGION".into(),
                file: user
            })
        );
        assert_eq!(
            config.str("bedrock.region"),
            None,
            "AWS_REGION does not feed bedrock.region"
        );

        fx.env("AWS_PROFILE", "process");
        fx.env("PATH", "/bin");
        let config = fx.load();
        assert_eq!(config.str("bedrock.profile"), Some("process"));
        assert_eq!(config.env()["AWS_PROFILE"], "process");
        assert_eq!(config.env()["PATH"], "/bin");
        assert_eq!(
            config.env_origin("AWS_PROFILE"),
            Some(Origin::Env("AWS_PROFILE".into()))
        );
        assert_eq!(config.env_origin("NOPE"), None);
    }

    #[test]
    fn environment_variables_feed_keys() {
        let mut fx = Fixture::new();
        for (var, value) in [
            ("CLAUDE_PROVIDER", "bedrock"),
            ("ANTHROPIC_DEFAULT_OPUS_MODEL", "o"),
            ("ANTHROPIC_DEFAULT_SONNET_MODEL", "s"),
            ("ANTHROPIC_DEFAULT_HAIKU_MODEL", "h"),
            ("ANTHROPIC_BEDROCK_BASE_URL", "https://gw.example.com"),
            ("ANTHROPIC_BEDROCK_REGION_PREFIX", "eu"),
            ("ANTHROPIC_BASE_URL", "http://localhost:9"),
            ("CLAUDE_CODE_MAX_RETRIES", "3"),
            ("DISABLE_PROMPT_CACHING", "true"),
            ("AWS_REGION", "eu-central-1"),
        ] {
            fx.env(var, value);
        }
        let config = fx.load();
        let origin = |key: &str| config.get(key).unwrap().unwrap().origin.to_string();
        assert_eq!(config.provider(), ProviderKind::Bedrock);
        assert_eq!(config.str("bedrock.models.opus"), Some("o"));
        assert_eq!(config.str("bedrock.models.sonnet"), Some("s"));
        assert_eq!(config.str("bedrock.models.haiku"), Some("h"));
        assert_eq!(
            config.str("bedrock.endpoint_url"),
            Some("https://gw.example.com")
        );
        assert_eq!(config.str("bedrock.region_prefix"), Some("eu"));
        assert_eq!(config.str("anthropic.base_url"), Some("http://localhost:9"));
        assert_eq!(config.u64("retry.max_attempts"), Some(3));
        assert_eq!(config.bool("prompt_caching"), Some(false));
        assert_eq!(origin("prompt_caching"), "env DISABLE_PROMPT_CACHING");
        assert_eq!(config.str("bedrock.region"), None);
    }

    #[test]
    fn flags_set_keys() {
        let mut fx = Fixture::new();
        fx.write(USER_CONFIG, "[bedrock]\nregion = \"us-east-1\"\n");
        fx.env("CLAUDE_PROVIDER", "anthropic");
        fx.flag("provider", "bedrock", "--provider");
        fx.flag("bedrock.region", "eu-west-1", "--region");
        fx.flag("bedrock.region", "eu-west-2", "--region");
        let config = fx.load();
        assert_eq!(config.provider(), ProviderKind::Bedrock);
        assert_eq!(
            config.get("provider").unwrap().unwrap().origin.to_string(),
            "flag --provider"
        );
        assert_eq!(config.str("bedrock.region"), Some("eu-west-2"));
    }

    #[test]
    fn bad_flags() {
        let mut fx = Fixture::new();
        fx.flag("bedrock.region", "us east 1", "--region");
        let msg = fx.load_err().to_string();
        assert!(
            msg.contains("(from --region)") && msg.contains("Pass a valid value to --region"),
            "{msg}"
        );
        fx.opts.flags.clear();
        fx.flag("bedrock.regoin", "us-east-1", "--region");
        assert!(matches!(fx.load_err(), ConfigError::UnknownKey { .. }));
        fx.opts.flags.clear();
        fx.flag("provider", "vertex", "--provider");
        assert!(fx.load_err().to_string().starts_with(
            "unknown provider `vertex` (from --provider); valid providers: anthropic, bedrock."
        ));
    }

    #[test]
    fn bad_environment_values_name_the_variable() {
        let mut fx = Fixture::new();
        fx.env("CLAUDE_PROVIDER", "foo");
        fx.env("CLAUDE_CODE_USE_BEDROCK", "1");
        let err = fx.load_err();
        assert!(
            err.to_string().starts_with(
                "unknown provider `foo` (from CLAUDE_PROVIDER); valid providers: anthropic, bedrock."
            ),
            "{err}"
        );

        let mut fx = Fixture::new();
        fx.env("CLAUDE_CODE_MAX_RETRIES", "many");
        let msg = fx.load_err().to_string();
        assert!(
            msg.contains("`retry.max_attempts` (from CLAUDE_CODE_MAX_RETRIES)"),
            "{msg}"
        );

        let mut fx = Fixture::new();
        let settings = fx.write(
            PROJECT_SETTINGS,
            r#"{"env": {"ANTHROPIC_BEDROCK_REGION_PREFIX": "mars"}}"#,
        );
        let msg = fx.load_err().to_string();
        assert!(
            msg.contains(&format!(
                "(from ANTHROPIC_BEDROCK_REGION_PREFIX (env in {}))",
                settings.display()
            )),
            "{msg}"
        );
        // Shadowed by the process environment, the bad default is never in effect.
        fx.env("ANTHROPIC_BEDROCK_REGION_PREFIX", "eu");
        assert_eq!(fx.load().str("bedrock.region_prefix"), Some("eu"));
    }

    #[test]
    fn empty_environment_values_count_as_unset() {
        let mut fx = Fixture::new();
        fx.write(USER_CONFIG, "model = \"opus\"");
        fx.env("ANTHROPIC_MODEL", "");
        fx.env("CLAUDE_PROVIDER", "");
        let config = fx.load();
        assert_eq!(config.str("model"), Some("opus"));
        assert_eq!(config.provider(), ProviderKind::Anthropic);
    }

    #[test]
    fn bad_files_are_errors_naming_the_file() {
        let fx = Fixture::new();
        let path = fx.write(PROJECT_CONFIG, "[retry]\nmax_attempts = 0\n");
        match fx.load_err() {
            ConfigError::InvalidValue {
                key,
                origin: Some(Origin::File(p)),
                ..
            } => {
                assert_eq!((key.as_str(), p), ("retry.max_attempts", path.clone()));
            }
            other => panic!("{other:?}"),
        }
        fx.write(PROJECT_CONFIG, "[retry\n");
        assert!(matches!(fx.load_err(), ConfigError::Parse { path: p, line: 1, .. } if p == path));
        fs::remove_file(&path).unwrap();

        let settings = fx.write(LOCAL_SETTINGS, "{\n  \"model\": \"opus\"\n  \"env\": {}\n}");
        assert!(matches!(
            fx.load_err(),
            ConfigError::Parse { path: p, line: 3, column: 3, .. } if p == settings
        ));
        fx.write(LOCAL_SETTINGS, r#"{"permissions": {"allow": "Bash"}}"#);
        let msg = fx.load_err().to_string();
        assert!(
            msg.contains("permissions.allow") && msg.contains("settings.local.json"),
            "{msg}"
        );
    }

    #[test]
    fn permissions_merge_across_files() {
        let mut fx = Fixture::new();
        let user = fx.write(
            USER_SETTINGS,
            r#"{"permissions": {"allow": ["Bash(ls *)"], "defaultMode": "plan"}}"#,
        );
        let project = fx.write(
            PROJECT_SETTINGS,
            r#"{"permissions": {"allow": ["Bash(npm run *)"], "deny": ["Read(./.env)"]}}"#,
        );
        let managed = fx.managed(
            r#"{"permissions": {"deny": ["WebFetch"], "disableBypassPermissionsMode": "disable"}}"#,
        );
        let config = fx.load();
        let perms = config.permissions();
        let allow: Vec<_> = perms
            .allow
            .iter()
            .map(|r| (r.value.as_str(), r.file.clone()))
            .collect();
        assert_eq!(
            allow,
            [
                ("Bash(npm run *)", project.clone()),
                ("Bash(ls *)", user.clone())
            ]
        );
        let deny: Vec<_> = perms
            .deny
            .iter()
            .map(|r| (r.value.as_str(), r.file.clone()))
            .collect();
        assert_eq!(
            deny,
            [("WebFetch", managed.clone()), ("Read(./.env)", project)]
        );
        assert_eq!(perms.default_mode.as_ref().unwrap().file, user);
        assert_eq!(
            perms.disable_bypass_permissions_mode.as_ref().unwrap().file,
            managed
        );
    }

    #[test]
    fn managed_policy_wins_and_reports_overrides() {
        let mut fx = Fixture::new();
        let user_config = fx.write(
            USER_CONFIG,
            "[bedrock]\nregion = \"us-west-2\"\nprofile = \"mine\"\n",
        );
        fx.env("AWS_PROFILE", "dev");
        fx.env("HTTPS_PROXY", "http://mine:3128");
        fx.flag("bedrock.region", "ap-southeast-2", "--region");
        fx.write(USER_SETTINGS, r#"{"availableModels": ["opus"]}"#);
        let policy = fx.managed(
            r#"{"bedrock.region": "eu-west-1", "provider": "bedrock",
                "availableModels": ["sonnet", "haiku"],
                "env": {"HTTPS_PROXY": "http://proxy.corp:3128", "AWS_PROFILE": "dev"}}"#,
        );
        let config = fx.load();
        let models = config.available_models().unwrap();
        assert_eq!(
            (&models.value[..], &models.file),
            (&["sonnet".to_owned(), "haiku".to_owned()][..], &policy)
        );
        assert_eq!(config.managed_policy(), Some(policy.as_path()));
        let region = config.get("bedrock.region").unwrap().unwrap();
        assert_eq!(region.value.to_string(), "eu-west-1");
        assert_eq!(
            region.origin.to_string(),
            format!("managed {}", policy.display())
        );
        assert_eq!(config.provider(), ProviderKind::Bedrock);
        assert_eq!(
            config.overridden_by_policy(),
            [
                PolicyOverride {
                    key: "bedrock.region",
                    attempted: Origin::Flag("--region".into()),
                    policy: policy.clone(),
                },
                PolicyOverride {
                    key: "bedrock.region",
                    attempted: Origin::File(user_config.clone()),
                    policy: policy.clone(),
                },
                PolicyOverride {
                    key: "bedrock.profile",
                    attempted: Origin::File(user_config),
                    policy: policy.clone(),
                },
            ]
        );
        assert_eq!(config.env()["HTTPS_PROXY"], "http://proxy.corp:3128");
        assert_eq!(
            config.env_origin("HTTPS_PROXY"),
            Some(Origin::SettingsEnv {
                var: "HTTPS_PROXY".into(),
                file: policy
            })
        );
    }

    #[test]
    fn missing_policy_file_is_no_policy() {
        let mut fx = Fixture::new();
        fx.opts.managed_settings = Some(fx.path("etc/claude-code/managed-settings.json"));
        assert!(fx.load().files().is_empty());
        fx.managed("{ nope");
        assert!(matches!(fx.load_err(), ConfigError::Parse { line: 1, .. }));
    }

    #[test]
    fn working_in_home_reads_user_files_once() {
        let mut fx = Fixture::new();
        fx.write(USER_CONFIG, "model = \"opus\"");
        fx.write(USER_SETTINGS, "{}");
        fx.opts.cwd = fx.path("home");
        let config = fx.load();
        let kinds: Vec<_> = config.files().iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [FileKind::UserConfig, FileKind::UserSettings]);
        assert_eq!(config.project_root(), fx.path("home"));
        assert_eq!(FileKind::UserConfig.to_string(), "user config");
        assert_eq!(
            FileKind::LocalSettings.to_string(),
            "project local settings"
        );
    }

    #[test]
    fn claude_config_dir_moves_the_user_files() {
        let mut fx = Fixture::new();
        let settings = fx.write("alt/settings.json", r#"{"model": "sonnet"}"#);
        fx.write(USER_SETTINGS, r#"{"model": "ignored"}"#);
        fx.env("CLAUDE_CONFIG_DIR", fx.path("alt").to_str().unwrap());
        let config = fx.load();
        assert_eq!(config.user_dir(), fx.path("alt"));
        assert_eq!(
            config.get("model").unwrap().unwrap().origin,
            Origin::File(settings)
        );
    }
}
