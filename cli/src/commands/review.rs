//! `mcpreg review list|show|approve|reject|revoke`: the review of versions.

use mcpreg_api::review::{GateResult, ReviewAction, ReviewRequest, ReviewState, VersionReview};
use mcpreg_client::{Client, ReviewQuery};

use super::{Rejected, split_name_version};
use crate::exit;
use crate::output::{self, Output};

/// `review` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ReviewCommand {
    /// The review queue: versions with their state, newest first.
    List {
        /// Only this state: submitted, approved, rejected, revoked.
        #[arg(long)]
        state: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// A version's review: state, approvals, gates, decisions.
    Show {
        /// `NAME@VERSION` (or `NAME` for the latest).
        version: String,
    },
    /// Approve a version. Every gate must hold, or be overridden with `--override GATE=REASON`.
    Approve {
        /// `NAME@VERSION`.
        version: String,
        /// Why (recorded).
        #[arg(long)]
        reason: Option<String>,
        /// Override a failed gate (signature, digests, tools, findings) with a reason; repeatable.
        #[arg(long = "override", value_name = "GATE=REASON")]
        overrides: Vec<String>,
    },
    /// Reject a submitted version (final for the version).
    Reject {
        /// `NAME@VERSION`.
        version: String,
        /// Why (required).
        #[arg(long)]
        reason: String,
    },
    /// Revoke an approval (final for the version).
    Revoke {
        /// `NAME@VERSION`.
        version: String,
        /// Why (required).
        #[arg(long)]
        reason: String,
    },
}

fn exact(target: &str) -> anyhow::Result<(&str, &str)> {
    match split_name_version(target) {
        (name, Some(v)) => Ok((name, v)),
        (_, None) => Err(Rejected(format!("`{target}` names no version: use NAME@VERSION")).into()),
    }
}

/// Runs `review`.
pub async fn run(client: &Client, out: Output, command: ReviewCommand) -> anyhow::Result<u8> {
    let (target, request) = match command {
        ReviewCommand::List { state, limit } => {
            let list = client
                .reviews(&ReviewQuery::default().limit(limit).state(state))
                .await?;
            match out {
                Output::Json => output::json(&list)?,
                Output::Table => output::table(
                    &[
                        "server",
                        "version",
                        "state",
                        "approvals",
                        "published by",
                        "published",
                    ],
                    list.reviews
                        .into_iter()
                        .map(|r| {
                            vec![
                                r.name,
                                r.version,
                                r.state.to_string(),
                                r.approvals.to_string(),
                                r.published_by,
                                r.published_at.format("%Y-%m-%d %H:%M").to_string(),
                            ]
                        })
                        .collect(),
                ),
            }
            return Ok(exit::OK);
        }
        ReviewCommand::Show { version } => {
            let (name, v) = split_name_version(&version);
            let review = client.review(name, v.unwrap_or("latest")).await?;
            print(out, &review)?;
            return Ok(exit::OK);
        }
        ReviewCommand::Approve {
            version,
            reason,
            overrides,
        } => {
            let mut map = std::collections::BTreeMap::new();
            for o in overrides {
                let Some((gate, why)) = o.split_once('=') else {
                    return Err(Rejected(format!(
                        "--override {o}: write GATE=REASON, e.g. --override signature='signed out of band'"
                    ))
                    .into());
                };
                map.insert(gate.trim().to_owned(), why.to_owned());
            }
            (
                version,
                ReviewRequest {
                    action: ReviewAction::Approve,
                    reason,
                    overrides: map,
                },
            )
        }
        ReviewCommand::Reject { version, reason } => (
            version,
            ReviewRequest {
                action: ReviewAction::Reject,
                reason: Some(reason),
                overrides: Default::default(),
            },
        ),
        ReviewCommand::Revoke { version, reason } => (
            version,
            ReviewRequest {
                action: ReviewAction::Revoke,
                reason: Some(reason),
                overrides: Default::default(),
            },
        ),
    };
    let (name, version) = exact(&target)?;
    let review = client.decide_review(name, version, &request).await?;
    print(out, &review)?;
    Ok(exit::OK)
}

fn gate_line(g: &GateResult) -> String {
    format!(
        "  {} {:<9} {}",
        if g.passed { "ok  " } else { "FAIL" },
        g.gate.as_str(),
        g.detail
    )
}

fn print(out: Output, review: &VersionReview) -> anyhow::Result<()> {
    if out == Output::Json {
        return output::json(review);
    }
    println!(
        "{}@{}: {} ({} of {} approvals; published by {})",
        review.name,
        review.version,
        review.state,
        review.approvals,
        review.approvals_required,
        review.published_by
    );
    if let Some(until) = review.approved_until {
        println!("  approved until {until}");
    }
    println!("gates:");
    for g in &review.gates {
        println!("{}", gate_line(g));
    }
    if !review.decisions.is_empty() {
        println!("decisions:");
    }
    for d in &review.decisions {
        println!(
            "  {} {} by {}{}",
            d.at.format("%Y-%m-%d %H:%M"),
            d.action.as_str(),
            d.actor,
            d.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        );
        for (gate, why) in &d.overrides {
            println!("      overrode {gate}: {why}");
        }
    }
    if review.state == ReviewState::Submitted && review.gates.iter().any(|g| !g.passed) {
        eprintln!("mcpreg: gates that do not hold block approval unless overridden with a reason");
    }
    Ok(())
}
