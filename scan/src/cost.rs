//! What enabling a server costs a client in context: an estimate in tokens.
//!
//! Clients put each tool's name, title, description and input schema into the model's context
//! (the JSON the model API receives as its tool list), and most put the server's instructions
//! into the system prompt. Prompts and resources cost nothing until used, output schemas are not
//! shown to the model, so neither is counted. Tokens are counted with OpenAI's `o200k_base`
//! encoding (GPT-4o and later); other models' tokenizers give numbers within some ten per cent,
//! which is what an estimate needs.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tiktoken_rs::CoreBPE;

use crate::manifest::{Tool, ToolManifest};

/// The encoding used for the estimate.
pub const ENCODING: &str = "o200k_base";

/// The estimated context cost of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextCost {
    /// The tokenizer used ([`ENCODING`]).
    pub encoding: String,
    /// Tool definitions plus instructions.
    pub total_tokens: u64,
    /// All tool definitions.
    pub tools_tokens: u64,
    /// The server's instructions.
    pub instructions_tokens: u64,
    /// Per tool, in manifest order.
    #[serde(default)]
    pub tools: Vec<ToolCost>,
}

/// The estimated context cost of one tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolCost {
    /// The tool's name.
    pub name: String,
    /// Tokens of its definition.
    pub tokens: u64,
}

fn tokenizer() -> &'static CoreBPE {
    tiktoken_rs::o200k_base_singleton()
}

/// Tokens of a text.
pub fn count_tokens(text: &str) -> u64 {
    tokenizer().encode_ordinary(text).len() as u64
}

/// The JSON a client sends the model for a tool.
fn tool_definition(tool: &Tool) -> String {
    let mut def = Map::new();
    def.insert("name".into(), Value::String(tool.name.clone()));
    if let Some(title) = &tool.title {
        def.insert("title".into(), Value::String(title.clone()));
    }
    if let Some(description) = &tool.description {
        def.insert("description".into(), Value::String(description.clone()));
    }
    def.insert("inputSchema".into(), tool.input_schema.clone());
    Value::Object(def).to_string()
}

/// Estimates what enabling the server of this manifest costs in context tokens.
pub fn estimate_context_cost(manifest: &ToolManifest) -> ContextCost {
    let tools: Vec<ToolCost> = manifest
        .tools
        .iter()
        .map(|t| ToolCost {
            name: t.name.clone(),
            tokens: count_tokens(&tool_definition(t)),
        })
        .collect();
    let tools_tokens = tools.iter().map(|t| t.tokens).sum();
    let instructions_tokens = manifest.instructions.as_deref().map_or(0, count_tokens);
    ContextCost {
        encoding: ENCODING.into(),
        total_tokens: tools_tokens + instructions_tokens,
        tools_tokens,
        instructions_tokens,
        tools,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_tokens_with_o200k() {
        // Known o200k_base counts.
        assert_eq!(count_tokens("hello world"), 2);
        assert_eq!(count_tokens(""), 0);
    }
}
