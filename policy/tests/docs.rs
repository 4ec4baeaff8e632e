//! The worked example of `docs/policies.md` gives exactly the answer the page shows.

use crate::util::{facts, policy};
use mcpreg_api::scans::FindingSeverity;
use mcpreg_policy::{Subject, evaluate};

const PAGE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/policies.md"));

/// The body of the first fenced block of `lang` on the page.
fn first_block(lang: &str) -> &'static str {
    let fence = format!("```{lang}\n");
    let start = PAGE.find(&fence).expect("the page has the block") + fence.len();
    let len = PAGE[start..].find("```").expect("the block is closed");
    &PAGE[start..start + len]
}

#[test]
fn the_worked_example_decides_as_documented() {
    let p = policy(first_block("yaml"));
    let mut f = facts("com.acme/github");
    f.highest_severity = Some(FindingSeverity::High);
    f.tools_pin =
        Some("sha256:b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c".to_owned());
    let alice = Subject::user("alice@acme.com", ["platform"]);
    let decision = serde_json::to_value(evaluate(&p, &alice, &f)).expect("serialises");
    let documented: serde_json::Value =
        serde_json::from_str(first_block("json")).expect("the page's JSON is valid");
    assert_eq!(decision, documented);
}
