//! `mcpreg policy apply|show|diff|test`: the registry's access policy (`docs/policies.md`).

use std::path::{Path, PathBuf};

use mcpreg_api::policy::{
    ApplyPolicyRequest, DecisionAnswer, DecisionRequest, DiffAnswer, DiffRequest, Effect,
    RequestSubject, RuleOutcome,
};
use mcpreg_client::Client;
use mcpreg_policy::Policy;

use super::{Rejected, split_name_version};
use crate::exit;
use crate::output::{self, Output};

/// `policy` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Apply a policy document (YAML or JSON) as the registry's new current policy (admins).
    Apply {
        /// The document; `-` reads standard input.
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: PathBuf,
    },
    /// Show the current policy: version, digest, who applied it, and the document as sent.
    Show,
    /// Which decisions (allowlist × server@version) applying a document would change. Exits 0
    /// whether or not something changes.
    Diff {
        /// The proposed document; `-` reads standard input.
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: PathBuf,
    },
    /// Ask the registry whether the current policy allows a subject to use a version: prints
    /// every applicable rule and condition and why. Exits 0 when allowed, 7 when denied.
    Test {
        /// `NAME@VERSION` (or `NAME` for the latest).
        version: String,
        /// As this named audience.
        #[arg(long)]
        allowlist: Option<String>,
        /// As this user (an email address or the identity provider's subject).
        #[arg(long)]
        user: Option<String>,
        /// In this group; repeatable.
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
        /// Through this OAuth client or agent.
        #[arg(long)]
        client: Option<String>,
    },
}

/// Reads a document and checks it here first, so that every problem is listed without a round
/// trip (the registry checks it again).
fn read_document(file: &Path) -> anyhow::Result<String> {
    let bytes = if file == Path::new("-") {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)?;
        buf
    } else {
        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?
    };
    if let Err(e) = Policy::parse(&bytes) {
        return Err(Rejected(format!("{}: {e}", file.display())).into());
    }
    // `Policy::parse` accepts only UTF-8 (after an optional byte order mark).
    String::from_utf8(bytes).map_err(|e| anyhow::anyhow!("{}: not UTF-8: {e}", file.display()))
}

/// Runs `policy`.
pub async fn run(client: &Client, out: Output, command: PolicyCommand) -> anyhow::Result<u8> {
    match command {
        PolicyCommand::Apply { file } => {
            let source = read_document(&file)?;
            let applied = client.apply_policy(&ApplyPolicyRequest { source }).await?;
            match out {
                Output::Json => output::json(&applied)?,
                Output::Table if applied.changed => println!(
                    "applied policy version {} ({}, {} rule(s))",
                    applied.version, applied.digest, applied.rules
                ),
                Output::Table => println!(
                    "unchanged: policy version {} is this document already ({})",
                    applied.version, applied.digest
                ),
            }
            Ok(exit::OK)
        }
        PolicyCommand::Show => {
            let current = client.policy().await?;
            match out {
                Output::Json => output::json(&current)?,
                Output::Table => {
                    println!(
                        "# policy version {} ({}), applied by {} at {} ({})",
                        current.version,
                        current.digest,
                        current.applied_by,
                        current.applied_at.format("%Y-%m-%d %H:%M:%S UTC"),
                        current.format
                    );
                    println!("{}", current.source.trim_end());
                }
            }
            Ok(exit::OK)
        }
        PolicyCommand::Diff { file } => {
            let source = read_document(&file)?;
            let answer = client
                .policy_diff(&DiffRequest {
                    source,
                    subjects: Vec::new(),
                })
                .await?;
            print_diff(out, &answer)?;
            Ok(exit::OK)
        }
        PolicyCommand::Test {
            version,
            allowlist,
            user,
            groups,
            client: oauth_client,
        } => {
            let (name, v) = split_name_version(&version);
            let subject = RequestSubject {
                user,
                groups,
                client: oauth_client,
                allowlist,
            };
            let answer = client
                .decide(&DecisionRequest {
                    subject,
                    server: name.to_owned(),
                    version: v.unwrap_or("latest").to_owned(),
                })
                .await?;
            print_decision(out, &answer)?;
            Ok(if answer.decision.is_allowed() {
                exit::OK
            } else {
                exit::DENIED
            })
        }
    }
}

fn print_diff(out: Output, answer: &DiffAnswer) -> anyhow::Result<()> {
    if out == Output::Json {
        return output::json(answer);
    }
    let diff = &answer.diff;
    let from = match (answer.current_version, &answer.current_digest) {
        (Some(v), Some(d)) => format!("policy version {v} ({d})"),
        _ => "no policy (everything denied)".to_owned(),
    };
    if answer.current_digest.as_deref() == Some(answer.proposed_digest.as_str()) {
        println!("the document is the current policy: {from}");
    }
    if !diff.changes.is_empty() {
        output::table(
            &["subject", "server@version", "change", "deciding rules"],
            diff.changes
                .iter()
                .map(|c| {
                    vec![
                        c.subject.to_string(),
                        format!("{}@{}", c.server, c.version.as_str()),
                        format!(
                            "{} → {} ({})",
                            c.from.as_str(),
                            c.to.as_str(),
                            c.to_reason.as_str()
                        ),
                        if c.deciding_rules.is_empty() {
                            "-".to_owned()
                        } else {
                            c.deciding_rules.join(", ")
                        },
                    ]
                })
                .collect(),
        );
    }
    println!(
        "{} of {} decision(s) would change from {from} to {}: {} newly allowed, {} newly denied",
        diff.changes.len(),
        diff.evaluated,
        answer.proposed_digest,
        diff.newly_allowed(),
        diff.newly_denied()
    );
    Ok(())
}

fn print_decision(out: Output, answer: &DecisionAnswer) -> anyhow::Result<()> {
    if out == Output::Json {
        return output::json(answer);
    }
    let d = &answer.decision;
    let policy = match answer.policy_version {
        Some(v) => format!("policy version {v}"),
        None => "no policy applied".to_owned(),
    };
    println!(
        "{} for {} on {}@{} ({policy}): {}",
        match d.effect {
            Effect::Allow => "ALLOW",
            Effect::Deny => "DENY",
        },
        answer.subject,
        answer.server,
        answer.version.as_str(),
        d.summary
    );
    println!("reason: {}", d.reason.as_str());
    if !d.deciding_rules.is_empty() {
        println!("deciding rules: {}", d.deciding_rules.join(", "));
    }
    for rule in &d.rules {
        println!(
            "rule {} ({}; subject {}, resource {}): {}",
            rule.rule,
            rule.effect.as_str(),
            rule.matched_subject,
            rule.matched_resource,
            rule_outcome(rule.outcome)
        );
        for c in &rule.conditions {
            println!(
                "  {} {}: {}",
                if c.held { "held    " } else { "not held" },
                c.condition,
                c.detail
            );
        }
    }
    if d.rules.is_empty() {
        println!("no rule applies to this subject and server");
    }
    Ok(())
}

fn rule_outcome(outcome: RuleOutcome) -> &'static str {
    match outcome {
        RuleOutcome::Allows => "allows",
        RuleOutcome::RequirementsNotMet => "requirements not met",
        RuleOutcome::Denies => "denies",
        RuleOutcome::ConditionsNotMatched => "conditions not matched",
    }
}
