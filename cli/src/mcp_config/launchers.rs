//! What a stdio server's command line runs: the package a launcher fetches (`npx`, `bunx`,
//! `pnpm dlx`, `yarn dlx`, `npm exec`; `uvx`, `uv tool run`, `pipx run`), the image a container
//! runtime starts (`docker run`, `podman run`), or a local program.

use std::fmt;

/// A package registry a launcher fetches from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageRegistry {
    /// npm (`npx`, `bunx`, `pnpm dlx`, `yarn dlx`, `npm exec`).
    Npm,
    /// PyPI (`uvx`, `uv tool run`, `pipx run`).
    Pypi,
}

impl PackageRegistry {
    /// The `registryType` of server.json and allowlists.
    pub fn registry_type(self) -> &'static str {
        match self {
            Self::Npm => "npm",
            Self::Pypi => "pypi",
        }
    }

    pub(super) fn same_name(self, a: &str, b: &str) -> bool {
        match self {
            Self::Npm => a == b,
            Self::Pypi => pypi_normalise(a) == pypi_normalise(b),
        }
    }
}

/// An OCI image reference, its repository normalised as Docker resolves it
/// (`mcp/github` → `docker.io/mcp/github`, `ubuntu` → `docker.io/library/ubuntu`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// `registry/path`, the registry host lowercased.
    pub repository: String,
    /// The tag, if any.
    pub tag: Option<String>,
    /// The `@` digest, if any (`sha256:…`).
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses `[registry/]path[:tag][@digest]`.
    pub fn parse(reference: &str) -> Self {
        let (rest, digest) = match reference.split_once('@') {
            Some((r, d)) => (r, Some(d.to_owned())),
            None => (reference, None),
        };
        let slash = rest.rfind('/');
        let (name, tag) = match rest.rfind(':') {
            Some(colon) if slash.is_none_or(|s| colon > s) => {
                (&rest[..colon], Some(rest[colon + 1..].to_owned()))
            }
            _ => (rest, None),
        };
        let (registry, path) = match name.split_once('/') {
            Some((first, path))
                if first.contains(['.', ':']) || first.eq_ignore_ascii_case("localhost") =>
            {
                (first.to_ascii_lowercase(), path.to_owned())
            }
            _ => ("docker.io".to_owned(), name.to_owned()),
        };
        let registry = match registry.as_str() {
            "index.docker.io" | "registry-1.docker.io" => "docker.io".to_owned(),
            _ => registry,
        };
        let path = if registry == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        Self {
            repository: format!("{registry}/{path}"),
            tag,
            digest,
        }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// What a stdio server runs, as far as its command line tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runs {
    /// A package fetched by a launcher (`npx`, `uvx`, …).
    Package {
        /// Where it comes from.
        registry: PackageRegistry,
        /// The package's name.
        identifier: String,
        /// The version or range asked for (`1.2.3`, `latest`, `>=1`), if any.
        version: Option<String>,
        /// Whether that is one exact version.
        pinned: bool,
        /// The launcher (`npx`, `uvx`, …).
        launcher: &'static str,
    },
    /// A container image (`docker run`, `podman run`).
    Image(ImageRef),
    /// Anything else: a local script or binary, or a launcher form this does not recognise.
    Local {
        /// Why it counts as local.
        reason: String,
    },
}

impl fmt::Display for Runs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Package {
                registry,
                identifier,
                version,
                ..
            } => {
                write!(f, "{} {identifier}", registry.registry_type())?;
                match (registry, version) {
                    (_, None) => Ok(()),
                    (PackageRegistry::Pypi, Some(v))
                        if v.starts_with(['=', '<', '>', '!', '~']) =>
                    {
                        write!(f, "{v}")
                    }
                    (_, Some(v)) => write!(f, "@{v}"),
                }
            }
            Self::Image(image) => write!(f, "oci {image}"),
            Self::Local { reason } => write!(f, "local ({reason})"),
        }
    }
}

/// The program's name without its directory and Windows extension (`C:\…\npx.cmd` → `npx`).
fn program_name(command: &str) -> String {
    let base = command.rsplit(['/', '\\']).next().unwrap_or(command);
    let lower = base.to_ascii_lowercase();
    for ext in [".cmd", ".exe", ".bat", ".ps1"] {
        if let Some(stem) = lower.strip_suffix(ext) {
            return stem.to_owned();
        }
    }
    lower
}

/// What a stdio server's command line runs.
pub fn identify(command: &str, args: &[String]) -> Runs {
    let program = program_name(command);
    let sub = |n: usize| args.get(n).map(String::as_str);
    match (program.as_str(), sub(0)) {
        ("cmd", Some(c)) if c.eq_ignore_ascii_case("/c") && args.len() > 1 => {
            identify(&args[1], &args[2..])
        }
        ("npx", _) => npm_exec(args, "npx"),
        ("npm", Some("exec" | "x")) => npm_exec(&args[1..], "npm exec"),
        ("bunx", _) => npm_exec(args, "bunx"),
        ("bun", Some("x")) => npm_exec(&args[1..], "bunx"),
        ("pnpm", Some("dlx")) => npm_exec(&args[1..], "pnpm dlx"),
        ("pnpx", _) => npm_exec(args, "pnpm dlx"),
        ("yarn", Some("dlx")) => npm_exec(&args[1..], "yarn dlx"),
        ("uvx", _) => python_run(args, "uvx"),
        ("uv", Some("tool")) if sub(1) == Some("run") => python_run(&args[2..], "uvx"),
        ("pipx", Some("run")) => python_run(&args[1..], "pipx run"),
        ("docker" | "podman", _) => container_run(args, &program),
        _ => Runs::Local {
            reason: format!("runs `{program}`"),
        },
    }
}

fn local(reason: impl Into<String>) -> Runs {
    Runs::Local {
        reason: reason.into(),
    }
}

/// `npx [-y|--yes] [--package=X|-p X]… spec [args]` and its cousins.
fn npm_exec(args: &[String], launcher: &'static str) -> Runs {
    const VALUE_OPTIONS: &[&str] = &[
        "--registry",
        "--cache",
        "--userconfig",
        "--prefix",
        "--loglevel",
        "-w",
        "--workspace",
    ];
    let mut packages = Vec::new();
    let mut positional = None;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a == "--" {
            positional = args.get(i + 1);
            break;
        } else if let Some(p) = a.strip_prefix("--package=") {
            packages.push(p.to_owned());
        } else if a == "-p" || a == "--package" {
            match args.get(i + 1) {
                Some(p) => packages.push(p.clone()),
                None => return local(format!("`{launcher} {a}` without a package")),
            }
            i += 1;
        } else if a == "-c" || a == "--call" || a.starts_with("--call=") {
            return local(format!("`{launcher} {a}` runs a shell command"));
        } else if VALUE_OPTIONS.contains(&a.as_str()) {
            i += 1;
        } else if !a.starts_with('-') {
            positional = Some(a);
            break;
        }
        i += 1;
    }
    let spec = match (packages.as_slice(), positional) {
        ([one], _) => one.clone(),
        ([], Some(p)) => p.clone(),
        ([], None) => return local(format!("`{launcher}` without a package")),
        (_, _) => return local(format!("`{launcher}` with several --package")),
    };
    match npm_spec(&spec) {
        Some((identifier, version)) => {
            let pinned = version.as_deref().is_some_and(|v| {
                mcpreg_api::Version::parse(v)
                    .ok()
                    .and_then(|v| v.semver())
                    .is_some()
            });
            Runs::Package {
                registry: PackageRegistry::Npm,
                identifier,
                version,
                pinned,
                launcher,
            }
        }
        None => local(format!(
            "`{launcher}` of a path, URL, git or alias spec, not a registry package"
        )),
    }
}

/// `name`, `name@version`, `@scope/name`, `@scope/name@version`; `None` for what is not a registry
/// package (a path, URL, git repository, GitHub shorthand, `npm:` alias).
fn npm_spec(spec: &str) -> Option<(String, Option<String>)> {
    if spec.is_empty() || spec.starts_with(['.', '/', '~', '\\']) || spec.contains(':') {
        return None;
    }
    let (name, version) = match spec.strip_prefix('@') {
        Some(scoped) => {
            let (n, v) = match scoped.split_once('@') {
                Some((n, v)) => (n, Some(v)),
                None => (scoped, None),
            };
            let (scope, pkg) = n.split_once('/')?;
            if scope.is_empty() || pkg.is_empty() || pkg.contains('/') {
                return None;
            }
            (format!("@{n}"), v)
        }
        None => {
            let (n, v) = match spec.split_once('@') {
                Some((n, v)) => (n, Some(v)),
                None => (spec, None),
            };
            // `user/repo` is GitHub shorthand.
            if n.contains('/') {
                return None;
            }
            (n.to_owned(), v)
        }
    };
    let version = version.filter(|v| !v.is_empty()).map(str::to_owned);
    Some((name, version))
}

/// `uvx [--from SPEC] spec [args]` and `pipx run [--spec SPEC] app [args]`.
fn python_run(args: &[String], launcher: &'static str) -> Runs {
    const VALUE_OPTIONS: &[&str] = &[
        "--with",
        "--with-editable",
        "--with-requirements",
        "--python",
        "-p",
        "--index",
        "--index-url",
        "-i",
        "--extra-index-url",
        "--default-index",
        "--find-links",
        "-f",
        "--constraints",
        "-c",
        "--overrides",
        "--build-constraints",
        "--cache-dir",
        "--directory",
        "--project",
        "--config-file",
        "--env-file",
        "--python-platform",
        "--exclude-newer",
        "--color",
        "--allow-insecure-host",
        "--keyring-provider",
        "--index-strategy",
        "--resolution",
        "--prerelease",
        "--link-mode",
        "--pip-args",
        "--upgrade-package",
        "--reinstall-package",
        "--refresh-package",
        "-P",
    ];
    let mut from = None;
    let mut positional = None;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a == "--" {
            positional = args.get(i + 1);
            break;
        } else if a == "--from" || a == "--spec" {
            match args.get(i + 1) {
                Some(f) => from = Some(f.clone()),
                None => return local(format!("`{launcher} {a}` without a package")),
            }
            i += 1;
        } else if let Some(f) = a
            .strip_prefix("--from=")
            .or_else(|| a.strip_prefix("--spec="))
        {
            from = Some(f.to_owned());
        } else if VALUE_OPTIONS.contains(&a.as_str()) {
            i += 1;
        } else if !a.starts_with('-') {
            positional = Some(a);
            break;
        }
        i += 1;
    }
    let Some(spec) = from.as_deref().or(positional.map(String::as_str)) else {
        return local(format!("`{launcher}` without a package"));
    };
    match pypi_spec(spec) {
        Some((identifier, version, pinned)) => Runs::Package {
            registry: PackageRegistry::Pypi,
            identifier,
            version,
            pinned,
            launcher,
        },
        None => local(format!(
            "`{launcher}` of a path, URL or git spec, not a PyPI package"
        )),
    }
}

/// `name`, `name[extra]`, `name==1.2`, `name@1.2` (uvx), `name>=1` (a range); `None` for a path,
/// URL or git spec. Returns (name, version or specifier, whether it is one exact version).
fn pypi_spec(spec: &str) -> Option<(String, Option<String>, bool)> {
    let spec = spec.trim();
    if spec.is_empty() || spec.starts_with(['.', '/', '~', '\\']) || spec.contains("://") {
        return None;
    }
    let end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(spec.len());
    let name = &spec[..end];
    if name.is_empty() {
        return None;
    }
    let mut rest = spec[end..].trim_start();
    if let Some(after) = rest.strip_prefix('[') {
        rest = after.split_once(']').map_or("", |(_, r)| r).trim_start();
    }
    if rest.is_empty() {
        return Some((name.to_owned(), None, false));
    }
    if let Some(v) = rest.strip_prefix('@') {
        let v = v.trim();
        if v.contains(['/', ':']) {
            // `name @ git+https://…`, a direct reference.
            return None;
        }
        let pinned = !v.is_empty() && !v.eq_ignore_ascii_case("latest") && !v.contains('*');
        return Some((name.to_owned(), Some(v.to_owned()), pinned));
    }
    let exact = rest
        .strip_prefix("===")
        .or_else(|| rest.strip_prefix("=="))
        .map(str::trim)
        .filter(|v| !v.is_empty() && !v.contains(['*', ',', ';', '<', '>', '!', '=', '~']));
    match exact {
        Some(v) => Some((name.to_owned(), Some(v.to_owned()), true)),
        None => Some((name.to_owned(), Some(rest.to_owned()), false)),
    }
}

/// PEP 503: lowercase, runs of `-`, `_`, `.` as one `-`.
fn pypi_normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// `docker|podman [global options] [container] run [options] image [command]`.
fn container_run(args: &[String], program: &str) -> Runs {
    const GLOBAL_VALUE_OPTIONS: &[&str] = &[
        "--context",
        "-c",
        "-H",
        "--host",
        "--config",
        "-l",
        "--log-level",
        "--connection",
        "--url",
        "--root",
        "--runroot",
    ];
    // Short options of `run` that take a value (`-e X`, `-eX`).
    const SHORT_VALUE: &[char] = &['a', 'c', 'e', 'h', 'l', 'm', 'p', 'u', 'v', 'w'];
    const LONG_VALUE: &[&str] = &[
        "--add-host",
        "--annotation",
        "--attach",
        "--blkio-weight",
        "--cap-add",
        "--cap-drop",
        "--cgroup-parent",
        "--cgroupns",
        "--cidfile",
        "--cpu-period",
        "--cpu-quota",
        "--cpu-shares",
        "--cpus",
        "--cpuset-cpus",
        "--cpuset-mems",
        "--device",
        "--dns",
        "--dns-option",
        "--dns-search",
        "--domainname",
        "--entrypoint",
        "--env",
        "--env-file",
        "--expose",
        "--gpus",
        "--group-add",
        "--health-cmd",
        "--health-interval",
        "--health-retries",
        "--health-start-period",
        "--health-timeout",
        "--hostname",
        "--ip",
        "--ip6",
        "--ipc",
        "--isolation",
        "--label",
        "--label-file",
        "--link",
        "--log-driver",
        "--log-opt",
        "--mac-address",
        "--memory",
        "--memory-reservation",
        "--memory-swap",
        "--mount",
        "--name",
        "--network",
        "--net",
        "--network-alias",
        "--oom-score-adj",
        "--pid",
        "--platform",
        "--publish",
        "--pull",
        "--restart",
        "--runtime",
        "--security-opt",
        "--shm-size",
        "--stop-signal",
        "--stop-timeout",
        "--storage-opt",
        "--sysctl",
        "--tmpfs",
        "--ulimit",
        "--user",
        "--userns",
        "--uts",
        "--volume",
        "--volumes-from",
        "--workdir",
        "--arch",
        "--os",
        "--pod",
        "--secret",
    ];
    let mut i = 0;
    // Global options, then `run` or `container run`.
    loop {
        match args.get(i).map(String::as_str) {
            Some(a) if GLOBAL_VALUE_OPTIONS.contains(&a) => i += 2,
            Some(a) if a.starts_with('-') => i += 1,
            Some("run") => {
                i += 1;
                break;
            }
            Some("container") if args.get(i + 1).map(String::as_str) == Some("run") => {
                i += 2;
                break;
            }
            _ => return local(format!("`{program}` without `run`")),
        }
    }
    while let Some(a) = args.get(i) {
        if a == "--" {
            i += 1;
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            if !long.contains('=') && LONG_VALUE.contains(&a.as_str()) {
                i += 1;
            }
        } else if let Some(short) = a.strip_prefix('-') {
            // pflag: boolean letters, up to one that takes a value (the rest, or the next arg).
            for (at, c) in short.char_indices() {
                if SHORT_VALUE.contains(&c) {
                    if at + c.len_utf8() == short.len() {
                        i += 1;
                    }
                    break;
                }
            }
        } else {
            break;
        }
        i += 1;
    }
    match args.get(i) {
        Some(image) if !image.is_empty() => Runs::Image(ImageRef::parse(image)),
        _ => local(format!("`{program} run` without an image")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &str) -> Runs {
        let mut words = line.split_whitespace().map(str::to_owned);
        let command = words.next().unwrap();
        identify(&command, &words.collect::<Vec<_>>())
    }

    fn npm(identifier: &str, version: Option<&str>, pinned: bool) -> Runs {
        Runs::Package {
            registry: PackageRegistry::Npm,
            identifier: identifier.into(),
            version: version.map(Into::into),
            pinned,
            launcher: "npx",
        }
    }

    fn pypi(identifier: &str, version: Option<&str>, pinned: bool, launcher: &'static str) -> Runs {
        Runs::Package {
            registry: PackageRegistry::Pypi,
            identifier: identifier.into(),
            version: version.map(Into::into),
            pinned,
            launcher,
        }
    }

    #[test]
    fn npx_forms() {
        assert_eq!(
            run("npx -y @acme/gh@1.4.2"),
            npm("@acme/gh", Some("1.4.2"), true)
        );
        assert_eq!(
            run("npx --yes server-x@2.0.0 --port 3"),
            npm("server-x", Some("2.0.0"), true)
        );
        assert_eq!(run("npx @acme/gh"), npm("@acme/gh", None, false));
        assert_eq!(
            run("npx -y @acme/gh@latest"),
            npm("@acme/gh", Some("latest"), false)
        );
        assert_eq!(run("npx -y x@^1.2.0"), npm("x", Some("^1.2.0"), false));
        assert_eq!(run("npx -y x@1.2"), npm("x", Some("1.2"), false));
        assert_eq!(
            run("npx -y --package=@acme/tools@3.1.0 acme-gh --stdio"),
            npm("@acme/tools", Some("3.1.0"), true)
        );
        assert_eq!(
            run("npx -p @acme/tools@3.1.0 acme-gh"),
            npm("@acme/tools", Some("3.1.0"), true)
        );
        assert_eq!(
            run("/usr/local/bin/npx -y a@1.0.0"),
            npm("a", Some("1.0.0"), true)
        );
        assert_eq!(
            run("C:\\nodejs\\npx.cmd -y a@1.0.0"),
            npm("a", Some("1.0.0"), true)
        );
        assert_eq!(run("cmd /c npx -y a@1.0.0"), npm("a", Some("1.0.0"), true));
        for local in [
            "npx ./server.js",
            "npx github:acme/gh",
            "npx acme/gh",
            "npx -c 'echo hi'",
            "npx",
            "npx -p a@1.0.0 -p b@1.0.0 x",
        ] {
            assert!(matches!(run(local), Runs::Local { .. }), "{local}");
        }
    }

    #[test]
    fn other_npm_launchers() {
        let pinned = |launcher| Runs::Package {
            registry: PackageRegistry::Npm,
            identifier: "@acme/gh".into(),
            version: Some("1.0.0".into()),
            pinned: true,
            launcher,
        };
        assert_eq!(run("bunx @acme/gh@1.0.0"), pinned("bunx"));
        assert_eq!(run("pnpm dlx @acme/gh@1.0.0"), pinned("pnpm dlx"));
        assert_eq!(run("yarn dlx -p @acme/gh@1.0.0 gh"), pinned("yarn dlx"));
        assert_eq!(run("npm exec --yes -- @acme/gh@1.0.0"), pinned("npm exec"));
        assert!(matches!(run("pnpm install"), Runs::Local { .. }));
    }

    #[test]
    fn uvx_and_pipx_forms() {
        assert_eq!(
            run("uvx mcp-server-time==2025.9.25"),
            pypi("mcp-server-time", Some("2025.9.25"), true, "uvx")
        );
        assert_eq!(
            run("uvx mcp-server-time@2025.9.25 --local-timezone UTC"),
            pypi("mcp-server-time", Some("2025.9.25"), true, "uvx")
        );
        assert_eq!(
            run("uvx mcp-server-time"),
            pypi("mcp-server-time", None, false, "uvx")
        );
        assert_eq!(
            run("uvx mcp-server-time@latest"),
            pypi("mcp-server-time", Some("latest"), false, "uvx")
        );
        assert_eq!(
            run("uvx mcp-server-fetch>=1.0"),
            pypi("mcp-server-fetch", Some(">=1.0"), false, "uvx")
        );
        assert_eq!(
            run("uvx --python 3.12 --from mcp-server-git==0.6.2 mcp-server-git --repository ."),
            pypi("mcp-server-git", Some("0.6.2"), true, "uvx")
        );
        assert_eq!(
            run("uvx --from=pkg[cli]==1.0 tool"),
            pypi("pkg", Some("1.0"), true, "uvx")
        );
        assert_eq!(
            run("uv tool run pkg==1.0"),
            pypi("pkg", Some("1.0"), true, "uvx")
        );
        assert_eq!(
            run("pipx run --spec pkg==1.0 app"),
            pypi("pkg", Some("1.0"), true, "pipx run")
        );
        assert_eq!(run("pipx run pkg"), pypi("pkg", None, false, "pipx run"));
        assert_eq!(
            run("uvx pkg==1.*"),
            pypi("pkg", Some("==1.*"), false, "uvx")
        );
        assert!(matches!(
            run("uvx --from git+https://github.com/a/b tool"),
            Runs::Local { .. }
        ));
        assert!(matches!(run("uvx --from ./local tool"), Runs::Local { .. }));
        assert!(matches!(
            run("python -m mcp_server_time"),
            Runs::Local { .. }
        ));
        assert_eq!(pypi_normalise("MCP_Server.Time"), "mcp-server-time");
    }

    #[test]
    fn docker_forms() {
        let image = |s: &str| Runs::Image(ImageRef::parse(s));
        assert_eq!(
            run(
                "docker run -i --rm -e GITHUB_PERSONAL_ACCESS_TOKEN ghcr.io/github/github-mcp-server:0.5.0"
            ),
            image("ghcr.io/github/github-mcp-server:0.5.0")
        );
        assert_eq!(
            run("docker run -it --rm -eTOKEN=x -v /a:/b --name=x --network host mcp/time stdio"),
            image("mcp/time")
        );
        assert_eq!(
            run("podman container run -i --rm mcp/fetch@sha256:abc"),
            image("mcp/fetch@sha256:abc")
        );
        assert_eq!(
            run("docker --context prod run --rm -- mcp/fetch"),
            image("mcp/fetch")
        );
        assert!(matches!(run("docker compose up"), Runs::Local { .. }));
        assert!(matches!(run("docker run --rm"), Runs::Local { .. }));

        let r = ImageRef::parse("mcp/time:1.0@sha256:00");
        assert_eq!(r.repository, "docker.io/mcp/time");
        assert_eq!(r.tag.as_deref(), Some("1.0"));
        assert_eq!(r.digest.as_deref(), Some("sha256:00"));
        assert_eq!(
            ImageRef::parse("ubuntu").repository,
            "docker.io/library/ubuntu"
        );
        assert_eq!(
            ImageRef::parse("index.docker.io/mcp/time").repository,
            "docker.io/mcp/time"
        );
        let local = ImageRef::parse("localhost:5000/x/y");
        assert_eq!(
            (local.repository.as_str(), local.tag),
            ("localhost:5000/x/y", None)
        );
        assert_eq!(ImageRef::parse("GHCR.io/a/b:2").repository, "ghcr.io/a/b");
    }
}
