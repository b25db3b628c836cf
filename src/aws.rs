//! Where the AWS region and credentials come from, read once when a client is made (with the
//! rest of its environment, `crate::env`): the environment variables, then the shared config
//! and credentials files, by botocore's rules (the AWS SDK for Python, and the AWS CLI):
//!
//! - The profile: `AWS_DEFAULT_PROFILE`, else `AWS_PROFILE` (botocore looks at them in that
//!   order), else `default`.
//! - The files: `AWS_CONFIG_FILE`, else `~/.aws/config`, with sections `[default]` and
//!   `[profile NAME]`; `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`, with sections
//!   `[NAME]`. A leading `~` is the home directory (`HOME`; `USERPROFILE` on Windows).
//! - The region: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the profile's `region` in the
//!   config file. (botocore itself reads only `AWS_DEFAULT_REGION`; `AWS_REGION` first is the
//!   rule of the AWS CLI v2 and the other SDKs.)
//! - The credentials: `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, with a session token from
//!   `AWS_SECURITY_TOKEN` or `AWS_SESSION_TOKEN`; else the profile's `aws_access_key_id`,
//!   `aws_secret_access_key` and `aws_security_token` or `aws_session_token` in the credentials
//!   file; else the same keys in the config file's profile. A source that names a key id is the
//!   one used: without its secret (botocore's `PartialCredentialsError`) there are no
//!   credentials, later sources are not tried, and [`AwsConfig::credentials_problem`] says why.
//!
//! The files are read as botocore reads them, with Python's `configparser`: `#` and `;`
//! comment lines, `key = value` or `key: value` with blanks around trimmed, key names in any
//! case, indented lines continuing the value before them (an empty value continued is a
//! sub-section, such as `s3 =` followed by indented settings, and is no value here), `[DEFAULT]`
//! keys applying to every section. Where botocore would stop on a malformed file, the lines it
//! cannot read are skipped here (and a leading byte-order mark is ignored). A missing or
//! unreadable file counts as absent. (Parsed by hand: no small INI crate follows configparser's
//! continuation lines and `[DEFAULT]`, and AWS's own Rust SDK has its own profile parser too.)
//!
//! Not read: credential processes, SSO, assume-role and web-identity profiles, instance and
//! container metadata, `$VAR` in file paths (botocore expands them), `~user` paths.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::secret::Secret;
use crate::sigv4::Credentials;

/// Every variable [`AwsConfig::capture`] reads, for the environment capture list.
pub const VARIABLES: &[&str] = &[
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "HOME",
    "USERPROFILE",
];

/// A config or credentials file bigger than this is not read (it is no AWS file; a path such
/// as `/dev/zero` would never end).
const MAX_FILE_BYTES: u64 = 1 << 20;

/// What the AWS environment and shared files say, captured once. `Debug` shows the profile,
/// the region and where credentials came from, never a secret key or a session token (and at
/// most the last 4 characters of the access key id).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AwsConfig {
    profile: Option<String>,
    region: Option<String>,
    credentials: Option<Credentials>,
    credentials_source: Option<String>,
    problem: Option<String>,
}

impl std::fmt::Debug for AwsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsConfig")
            .field("profile", &self.profile())
            .field("region", &self.region)
            .field("credentials", &self.credentials)
            .field("credentials_source", &self.credentials_source)
            .field("problem", &self.problem)
            .finish()
    }
}

impl AwsConfig {
    /// From a variable lookup (an empty value counts as unset) and the files it names. Never
    /// panics, never prints; a missing or unreadable file counts as absent.
    pub fn capture(var: &dyn Fn(&str) -> Option<String>) -> AwsConfig {
        let var = |name: &str| var(name).filter(|value| !value.is_empty());
        let profile = var("AWS_DEFAULT_PROFILE").or_else(|| var("AWS_PROFILE"));
        let profile_name = profile.as_deref().unwrap_or("default");
        let home = if cfg!(windows) { var("USERPROFILE") } else { var("HOME") };
        let path =
            |variable: &str, default: &str| expand_home(var(variable).as_deref().unwrap_or(default), home.as_deref());
        let mut unreadable = Vec::new();
        let config_path = path("AWS_CONFIG_FILE", "~/.aws/config");
        let config = config_path.as_deref().and_then(|p| read_ini(p, &mut unreadable));
        let config_profile = config.as_ref().and_then(|ini| ini.config_profile(profile_name));
        let credentials_path = path("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials");
        let credentials_file = credentials_path.as_deref().and_then(|p| read_ini(p, &mut unreadable));
        let credentials_profile = credentials_file.as_ref().and_then(|ini| ini.section(profile_name));

        let region = var("AWS_REGION")
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .or_else(|| config_profile.and_then(|p| p.get("region")).filter(|r| !r.is_empty()).map(str::to_string));

        let mut found = Found::None;
        if let Some(key_id) = var("AWS_ACCESS_KEY_ID") {
            found = match var("AWS_SECRET_ACCESS_KEY") {
                Some(secret) => Found::Credentials(
                    Credentials {
                        access_key_id: key_id,
                        secret_access_key: Secret::new(secret),
                        session_token: var("AWS_SECURITY_TOKEN").or_else(|| var("AWS_SESSION_TOKEN")).map(Secret::new),
                    },
                    "environment".to_string(),
                ),
                None => Found::Partial("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not".to_string()),
            };
        }
        for (file, section, path) in [
            ("credentials file", credentials_profile, &credentials_path),
            ("config file", config_profile, &config_path),
        ] {
            if !matches!(found, Found::None) {
                break;
            }
            let (Some(section), Some(path)) = (section, path) else { continue };
            let where_ = format!("{file} profile `{profile_name}` ({})", path.display());
            found = profile_credentials(section, where_);
        }

        let (credentials, credentials_source, problem) = match found {
            Found::Credentials(credentials, source) => (Some(credentials), Some(source), None),
            Found::Partial(problem) => (None, None, Some(problem)),
            Found::None => (None, None, unreadable.into_iter().next()),
        };
        AwsConfig { profile, region, credentials, credentials_source, problem }
    }

    /// The profile the files were read for: `AWS_DEFAULT_PROFILE`, else `AWS_PROFILE`, else
    /// `default`.
    pub fn profile(&self) -> &str {
        self.profile.as_deref().unwrap_or("default")
    }

    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the profile's `region` in the config file.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The environment's credentials, else the credentials file profile's, else the config
    /// file profile's (see the module's documentation).
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// Where the credentials came from, for messages (no values): `environment`, or e.g.
    /// ``credentials file profile `dev` (/home/me/.aws/credentials)``.
    pub fn credentials_source(&self) -> Option<&str> {
        self.credentials_source.as_deref()
    }

    /// Why there are no credentials when a source was found but incomplete (a key id without
    /// its secret), or a file could not be read; no values.
    pub fn credentials_problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }
}

/// What one source of credentials gave.
enum Found {
    None,
    Credentials(Credentials, String),
    Partial(String),
}

/// A profile section's credentials, as botocore's shared-credentials and config providers read
/// them: the section counts when it has `aws_access_key_id` (even empty); then both it and
/// `aws_secret_access_key` must have a value.
fn profile_credentials(section: &Section, where_: String) -> Found {
    let Some(key_id) = section.get("aws_access_key_id") else { return Found::None };
    let secret = section.get("aws_secret_access_key").filter(|s| !s.is_empty());
    match (key_id.is_empty(), secret) {
        (false, Some(secret)) => Found::Credentials(
            Credentials {
                access_key_id: key_id.to_string(),
                secret_access_key: Secret::new(secret),
                session_token: ["aws_security_token", "aws_session_token"]
                    .into_iter()
                    .find_map(|key| section.get(key).filter(|t| !t.is_empty()))
                    .map(Secret::new),
            },
            where_,
        ),
        (true, _) => Found::Partial(format!("the {where_} has an empty aws_access_key_id")),
        (false, None) => Found::Partial(format!("the {where_} has aws_access_key_id but no aws_secret_access_key")),
    }
}

/// `path` with a leading `~` (alone, or before a separator) replaced by `home`; `None` when it
/// needs a home and there is none.
fn expand_home(path: &str, home: Option<&str>) -> Option<PathBuf> {
    let Some(rest) = path.strip_prefix('~') else { return Some(PathBuf::from(path)) };
    let separator = |c: char| c == '/' || (cfg!(windows) && c == '\\');
    if !(rest.is_empty() || rest.starts_with(separator)) {
        return Some(PathBuf::from(path)); // `~user/...`: not expanded
    }
    Some(Path::new(home?).join(rest.trim_start_matches(separator)))
}

/// The file at `path` parsed, or `None` when it is missing or can't be read (then, for a
/// reason other than its absence, a note in `unreadable`).
fn read_ini(path: &Path, unreadable: &mut Vec<String>) -> Option<Ini> {
    let mut note = |why: String| unreadable.push(format!("{} could not be read: {why}", path.display()));
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            note(e.to_string());
            return None;
        }
    };
    let mut bytes = Vec::new();
    if let Err(e) = file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes) {
        note(e.to_string());
        return None;
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        note(format!("it is over {MAX_FILE_BYTES} bytes"));
        return None;
    }
    match String::from_utf8(bytes) {
        Ok(text) => Some(Ini::parse(&text)),
        Err(_) => {
            note("it is not UTF-8".to_string());
            None
        }
    }
}

/// One section's keys (lowercased) and values.
#[derive(Debug, Default)]
struct Section(HashMap<String, String>);

impl Section {
    /// The value of `key` (lower case); a sub-section (`s3 =` and indented lines) is no value.
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str).filter(|value| !value.starts_with('\n'))
    }
}

/// A section's options while it is parsed: each key with its value's lines.
type Options = Vec<(String, Vec<String>)>;

/// An INI file as Python's `configparser.RawConfigParser` reads it (see the module's
/// documentation): its sections in the order they first appear.
#[derive(Debug, Default)]
struct Ini {
    sections: Vec<(String, Section)>,
}

impl Ini {
    fn parse(text: &str) -> Ini {
        // Values are kept as lines until the end: a value continues on more-indented lines,
        // and blank lines inside it are kept (then trailing ones dropped).
        let mut sections: Vec<(String, Options)> = Vec::new();
        let mut defaults: Options = Vec::new();
        let mut current: Option<Option<usize>> = None; // Some(None): [DEFAULT]
        let mut option: Option<usize> = None; // the option a continuation line adds to
        let mut indent_level = 0;
        for line in text.strip_prefix('\u{feff}').unwrap_or(text).lines() {
            let stripped = line.trim();
            if stripped.starts_with('#') || stripped.starts_with(';') {
                continue;
            }
            let options = match current {
                Some(Some(at)) => Some(&mut sections[at].1),
                Some(None) => Some(&mut defaults),
                None => None,
            };
            if stripped.is_empty() {
                if let (Some(options), Some(at)) = (options, option) {
                    options[at].1.push(String::new());
                }
                continue;
            }
            let indent = line.len() - line.trim_start().len();
            if let (Some(options), Some(at)) = (options, option)
                && indent > indent_level
            {
                options[at].1.push(stripped.to_string());
                continue;
            }
            indent_level = indent;
            if let Some(end) = stripped.rfind(']')
                && stripped.starts_with('[')
                && end > 1
            {
                let name = &stripped[1..end];
                current = Some(if name == "DEFAULT" {
                    None
                } else {
                    Some(sections.iter().position(|(n, _)| n == name).unwrap_or_else(|| {
                        sections.push((name.to_string(), Vec::new()));
                        sections.len() - 1
                    }))
                });
                option = None;
                continue;
            }
            let options = match current {
                Some(Some(at)) => &mut sections[at].1,
                Some(None) => &mut defaults,
                None => continue, // a line before any section: configparser's error
            };
            let Some(at) = stripped.find(['=', ':']) else {
                option = None; // a line with no `=` or `:`: configparser's error
                continue;
            };
            let key = stripped[..at].trim_end().to_lowercase();
            if key.is_empty() {
                option = None;
                continue;
            }
            let value = stripped[at + 1..].trim().to_string();
            match options.iter().position(|(k, _)| *k == key) {
                Some(existing) => {
                    options[existing].1 = vec![value];
                    option = Some(existing);
                }
                None => {
                    options.push((key, vec![value]));
                    option = Some(options.len() - 1);
                }
            }
        }
        let join = |options: Options| -> HashMap<String, String> {
            options.into_iter().map(|(key, lines)| (key, lines.join("\n").trim_end().to_string())).collect()
        };
        let defaults = join(defaults);
        let sections = sections
            .into_iter()
            .map(|(name, options)| {
                let mut section = join(options);
                for (key, value) in &defaults {
                    section.entry(key.clone()).or_insert_with(|| value.clone());
                }
                (name, Section(section))
            })
            .collect();
        Ini { sections }
    }

    /// The section named `name` exactly (the credentials file's profiles).
    fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|(n, _)| n == name).map(|(_, section)| section)
    }

    /// The profile `name` of a config file, as botocore's `build_profile_map` finds it: a
    /// section whose name starts with `profile` and splits (as a shell would) into two words,
    /// the second `name`; or `[default]` for `default`. The last such section in the file wins.
    fn config_profile(&self, name: &str) -> Option<&Section> {
        self.sections
            .iter()
            .filter(|(section, _)| {
                if section.starts_with("profile") {
                    shell_words(section).is_some_and(|words| words.len() == 2 && words[1] == name)
                } else {
                    section == "default" && name == "default"
                }
            })
            .map(|(_, section)| section)
            .next_back()
    }
}

/// `s` split into words as Python's `shlex.split` does (POSIX rules: blanks separate words,
/// quotes group, a backslash escapes); `None` for an unclosed quote or a trailing backslash.
fn shell_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' => {
                let word = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                let word = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\') => word.push(c),
                            c => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        c => word.push(c),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).push(chars.next()?),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A directory of its own under the system's temp directory, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!("aichat-aws-test-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        /// Writes `text` to `name` (under this directory) and returns its path.
        fn file(&self, name: &str, text: &str) -> String {
            let path = self.0.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path.to_str().unwrap().to_string()
        }

        fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn capture(vars: &[(&str, &str)]) -> AwsConfig {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        AwsConfig::capture(&|name| vars.get(name).cloned())
    }

    fn key_id(config: &AwsConfig) -> Option<&str> {
        config.credentials().map(|c| c.access_key_id.as_str())
    }

    fn secret(config: &AwsConfig) -> Option<&str> {
        config.credentials().map(|c| c.secret_access_key.expose())
    }

    fn token(config: &AwsConfig) -> Option<&str> {
        config.credentials().and_then(|c| c.session_token.as_ref()).map(Secret::expose)
    }

    const CREDENTIALS: &str = "\
[default]
aws_access_key_id = AKIDFILEDEFAULT
aws_secret_access_key = file-default-secret

[dev]
aws_access_key_id = AKIDFILEDEV
aws_secret_access_key = file-dev-secret
aws_session_token = file-dev-token

[profile dev]
aws_access_key_id = AKIDNOTAPROFILE
aws_secret_access_key = not-a-profile
";

    const CONFIG: &str = "\
[default]
region = eu-west-1

[profile dev]
region = ap-south-1

[dev]
region = not-a-profile

[profile config-only]
region = us-west-2
aws_access_key_id = AKIDCONFIGONLY
aws_secret_access_key = config-only-secret
";

    /// A home with both files in `~/.aws`.
    fn home() -> TempDir {
        let dir = TempDir::new();
        dir.file(".aws/credentials", CREDENTIALS);
        dir.file(".aws/config", CONFIG);
        dir
    }

    #[test]
    fn nothing_set_means_nothing_found() {
        let config = capture(&[]);
        assert_eq!(config, AwsConfig::default());
        assert_eq!((config.profile(), config.region(), config.credentials()), ("default", None, None));
        assert_eq!((config.credentials_source(), config.credentials_problem()), (None, None));
    }

    #[test]
    fn the_default_profile_of_the_files_in_home() {
        let home = home();
        let config = capture(&[("HOME", home.path())]);
        assert_eq!(config.region(), Some("eu-west-1"));
        assert_eq!(
            (key_id(&config), secret(&config), token(&config)),
            (Some("AKIDFILEDEFAULT"), Some("file-default-secret"), None)
        );
        let source = format!("credentials file profile `default` ({}/.aws/credentials)", home.path());
        assert_eq!(config.credentials_source(), Some(source.as_str()));
    }

    #[test]
    fn environment_credentials_come_before_the_files() {
        let home = home();
        let config = capture(&[
            ("HOME", home.path()),
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "env-secret"),
            ("AWS_SESSION_TOKEN", "env-token"),
        ]);
        assert_eq!(
            (key_id(&config), secret(&config), token(&config)),
            (Some("AKIDENV"), Some("env-secret"), Some("env-token"))
        );
        assert_eq!(config.credentials_source(), Some("environment"));
        assert_eq!(config.region(), Some("eu-west-1"), "the region still comes from the config file");
        let no_token = capture(&[("AWS_ACCESS_KEY_ID", "AKIDENV"), ("AWS_SECRET_ACCESS_KEY", "env-secret")]);
        assert_eq!(token(&no_token), None);
        let legacy = capture(&[
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "env-secret"),
            ("AWS_SECURITY_TOKEN", "legacy-token"),
            ("AWS_SESSION_TOKEN", "env-token"),
        ]);
        assert_eq!(token(&legacy), Some("legacy-token"), "botocore looks at AWS_SECURITY_TOKEN first");
    }

    #[test]
    fn region_variables_come_before_the_config_file() {
        let home = home();
        let both = capture(&[("HOME", home.path()), ("AWS_REGION", "us-east-2"), ("AWS_DEFAULT_REGION", "us-west-1")]);
        assert_eq!(both.region(), Some("us-east-2"));
        let default_only = capture(&[("HOME", home.path()), ("AWS_DEFAULT_REGION", "us-west-1")]);
        assert_eq!(default_only.region(), Some("us-west-1"));
        let empty = capture(&[("HOME", home.path()), ("AWS_REGION", ""), ("AWS_DEFAULT_REGION", "")]);
        assert_eq!(empty.region(), Some("eu-west-1"), "empty counts as unset");
        assert_eq!(capture(&[("AWS_REGION", "us-east-2")]).region(), Some("us-east-2"));
    }

    #[test]
    fn the_named_profile() {
        let home = home();
        let dev = capture(&[("HOME", home.path()), ("AWS_PROFILE", "dev")]);
        assert_eq!(dev.profile(), "dev");
        assert_eq!(dev.region(), Some("ap-south-1"), "[profile dev] in the config file, not [dev]");
        assert_eq!(
            (key_id(&dev), token(&dev)),
            (Some("AKIDFILEDEV"), Some("file-dev-token")),
            "[dev] in the credentials file"
        );
        let source = format!("credentials file profile `dev` ({}/.aws/credentials)", home.path());
        assert_eq!(dev.credentials_source(), Some(source.as_str()));

        // botocore looks at AWS_DEFAULT_PROFILE before AWS_PROFILE.
        let both = capture(&[("HOME", home.path()), ("AWS_DEFAULT_PROFILE", "dev"), ("AWS_PROFILE", "default")]);
        assert_eq!((both.profile(), both.region()), ("dev", Some("ap-south-1")));
        let empty = capture(&[("HOME", home.path()), ("AWS_DEFAULT_PROFILE", ""), ("AWS_PROFILE", "dev")]);
        assert_eq!(empty.profile(), "dev");

        let missing = capture(&[("HOME", home.path()), ("AWS_PROFILE", "nowhere")]);
        assert_eq!((missing.region(), missing.credentials(), missing.credentials_problem()), (None, None, None));
    }

    #[test]
    fn credentials_from_the_config_file_when_the_credentials_file_has_none() {
        let home = home();
        let config = capture(&[("HOME", home.path()), ("AWS_PROFILE", "config-only")]);
        assert_eq!((key_id(&config), secret(&config)), (Some("AKIDCONFIGONLY"), Some("config-only-secret")));
        assert_eq!(config.region(), Some("us-west-2"));
        let source = format!("config file profile `config-only` ({}/.aws/config)", home.path());
        assert_eq!(config.credentials_source(), Some(source.as_str()));
    }

    #[test]
    fn file_variables_name_the_files_and_tilde_is_home() {
        let home = home();
        let elsewhere = TempDir::new();
        let credentials =
            elsewhere.file("creds.ini", "[default]\naws_access_key_id=AKIDELSEWHERE\naws_secret_access_key=s\n");
        let config = capture(&[
            ("HOME", home.path()),
            ("AWS_SHARED_CREDENTIALS_FILE", &credentials),
            ("AWS_CONFIG_FILE", "~/.aws/credentials"),
        ]);
        assert_eq!(key_id(&config), Some("AKIDELSEWHERE"));
        assert_eq!(config.region(), None, "the config file named is the credentials file, with no region");
        assert_eq!(expand_home("~", Some("/h")), Some(PathBuf::from("/h")));
        assert_eq!(expand_home("~/a/b", Some("/h")), Some(PathBuf::from("/h/a/b")));
        assert_eq!(expand_home("~user/a", Some("/h")), Some(PathBuf::from("~user/a")));
        assert_eq!(expand_home("/abs/a", None), Some(PathBuf::from("/abs/a")));
        assert_eq!(expand_home("~/a", None), None);
    }

    #[test]
    fn missing_and_unreadable_files_count_as_absent() {
        let home = TempDir::new();
        let config = capture(&[("HOME", home.path())]);
        assert_eq!(config, AwsConfig::default(), "no ~/.aws at all");
        let missing = capture(&[
            ("AWS_CONFIG_FILE", "/nonexistent/aichat/config"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/c"),
        ]);
        assert_eq!((missing.region(), missing.credentials(), missing.credentials_problem()), (None, None, None));
        // A directory where the file should be can't be read: absent, and the problem says so.
        let dir = capture(&[("AWS_SHARED_CREDENTIALS_FILE", home.path()), ("AWS_REGION", "us-east-1")]);
        assert_eq!((dir.region(), dir.credentials()), (Some("us-east-1"), None));
        assert!(
            dir.credentials_problem().unwrap().starts_with(&format!("{} could not be read", home.path())),
            "{dir:?}"
        );
        let binary = home.0.join("binary");
        std::fs::write(&binary, b"[default]\nregion = \xff\n").unwrap();
        let binary = capture(&[("AWS_CONFIG_FILE", binary.to_str().unwrap())]);
        assert_eq!(binary.region(), None);
        assert!(binary.credentials_problem().unwrap().ends_with("it is not UTF-8"));
    }

    #[test]
    fn a_key_id_without_its_secret_is_a_problem_not_credentials() {
        let home = home();
        let env = capture(&[("HOME", home.path()), ("AWS_ACCESS_KEY_ID", "AKIDENV")]);
        assert_eq!(env.credentials(), None, "the files are not tried either (botocore's PartialCredentialsError)");
        assert_eq!(env.credentials_problem(), Some("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"));
        let empty_secret = capture(&[("AWS_ACCESS_KEY_ID", "AKIDENV"), ("AWS_SECRET_ACCESS_KEY", "")]);
        assert_eq!(empty_secret.credentials(), None);
        assert!(empty_secret.credentials_problem().is_some());

        // A secret alone in the environment names no key: the files are used.
        let secret_only = capture(&[("HOME", home.path()), ("AWS_SECRET_ACCESS_KEY", "env-secret")]);
        assert_eq!(key_id(&secret_only), Some("AKIDFILEDEFAULT"));

        let partial = TempDir::new();
        let credentials = partial.file("credentials", "[default]\naws_access_key_id = AKIDHALF\n");
        let config = partial.file("config", "[default]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = s\n");
        let half = capture(&[("AWS_SHARED_CREDENTIALS_FILE", &credentials), ("AWS_CONFIG_FILE", &config)]);
        assert_eq!(half.credentials(), None, "the config file is not tried after a half-set profile");
        let problem = format!(
            "the credentials file profile `default` ({credentials}) has aws_access_key_id but no aws_secret_access_key"
        );
        assert_eq!(half.credentials_problem(), Some(problem.as_str()));
        assert!(!half.credentials_problem().unwrap().contains("AKIDHALF"));

        // A profile with a secret but no key id is not a source: the next one is used.
        let credentials = partial.file("credentials2", "[default]\naws_secret_access_key = s\n");
        let next = capture(&[("AWS_SHARED_CREDENTIALS_FILE", &credentials), ("AWS_CONFIG_FILE", &config)]);
        assert_eq!(key_id(&next), Some("AKIDCONFIG"));
    }

    #[test]
    fn ini_files_parse_as_configparser_reads_them() {
        let dir = TempDir::new();
        let credentials = dir.file(
            "credentials",
            "\u{feff}# a comment\n\
             ; another\n\
             [default]\n\
             \x20   # an indented comment\n\
             AWS_Access_Key_ID=AKIDSPACES   \n\
             aws_secret_access_key   :   sec=ret:with delimiters  \n\
             s3 =\n\
             \x20   max_concurrent_requests = 10\n\
             \x20   aws_session_token = not-a-token\n\
             \n\
             aws_session_token =\n\
             \taws_security_token = tab\n\
             [other]\n\
             aws_access_key_id = AKIDOTHER\n",
        );
        let config = capture(&[("AWS_SHARED_CREDENTIALS_FILE", &credentials)]);
        assert_eq!(key_id(&config), Some("AKIDSPACES"));
        assert_eq!(secret(&config), Some("sec=ret:with delimiters"));
        assert_eq!(token(&config), None, "a sub-section's keys are not the profile's, nor is a sub-section a value");

        let ini = Ini::parse("[a]\nkey = one\n  two\n\n  three\n\n[b]\nk=v\n[a]\nmore = yes\n");
        let a = ini.section("a").unwrap();
        assert_eq!(a.get("key"), Some("one\ntwo\n\nthree"), "continuation lines, a blank one kept inside");
        assert_eq!(a.get("more"), Some("yes"), "a section named again goes on");
        assert_eq!(ini.sections.len(), 2);

        let ini =
            Ini::parse("orphan = 1\n[DEFAULT]\nregion = d\n[x]\nno delimiter\n = empty key\nk = v\n[y]\nregion = y\n");
        assert_eq!(ini.section("x").unwrap().get("region"), Some("d"), "[DEFAULT] applies to every section");
        assert_eq!(ini.section("y").unwrap().get("region"), Some("y"));
        assert_eq!(ini.section("x").unwrap().get("k"), Some("v"), "lines configparser rejects are skipped");
        assert_eq!(ini.section("DEFAULT").map(|_| ()), None);
        assert_eq!(ini.section("x").unwrap().get("orphan"), None);

        let ini = Ini::parse("[ spaced ]\nk = 1\n[tail] ; c\nk = 2\n[]\nk = 3\n");
        assert_eq!(ini.section(" spaced ").unwrap().get("k"), Some("1"), "section names are taken as written");
        assert_eq!(ini.section("tail").unwrap().get("k"), Some("3"), "`[]` is no header; its line is skipped");
    }

    #[test]
    fn config_file_profile_sections() {
        let ini = Ini::parse(
            "[profile a]\nregion = a\n[b]\nregion = not-b\n[profile   \"c d\"]\nregion = c\n\
             [profilex e]\nregion = e\n[profile f g]\nregion = no\n[default]\nregion = plain\n\
             [profile default]\nregion = profile-default\n[profile 'q]\nregion = unclosed\n",
        );
        let region = |name: &str| ini.config_profile(name).and_then(|s| s.get("region"));
        assert_eq!(region("a"), Some("a"));
        assert_eq!(region("b"), None, "a config file's [b] is not a profile");
        assert_eq!(region("c d"), Some("c"), "quoted as a shell would");
        assert_eq!(region("e"), Some("e"), "botocore checks only that the name starts with `profile`");
        assert_eq!(region("f"), None);
        assert_eq!(region("g"), None);
        assert_eq!(region("default"), Some("profile-default"), "the later of [default] and [profile default]");
        assert_eq!(region("'q"), None);
        assert_eq!(shell_words(r#"profile "a \" b" c\ d 'e f'"#).unwrap(), ["profile", "a \" b", "c d", "e f"]);
        assert_eq!(shell_words("profile 'x"), None);
    }

    #[test]
    fn debug_shows_no_secret() {
        let home = home();
        let config = capture(&[("HOME", home.path()), ("AWS_PROFILE", "dev")]);
        let shown = format!("{config:?}");
        for value in ["file-dev-secret", "file-dev-token", "AKIDFILEDEV"] {
            assert!(!shown.contains(value), "{shown}");
        }
        assert!(shown.contains("ap-south-1") && shown.contains("\"dev\""), "{shown}");
    }
}
