//! The built-in scanner's rules: ids, categories and what each looks for.

/// One rule of the built-in scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The stable id findings carry (`hidden-instructions`).
    pub id: &'static str,
    /// The category findings carry (`prompt-injection`).
    pub category: &'static str,
    /// One line: what the rule looks for.
    pub summary: &'static str,
}

macro_rules! rules {
    ($($name:ident = $id:literal, $category:literal, $summary:literal;)*) => {
        $(
            #[doc = $summary]
            pub const $name: Rule = Rule { id: $id, category: $category, summary: $summary };
        )*
        /// Every rule, in the order of this file.
        pub const ALL: &[Rule] = &[$($name),*];
    };
}

rules! {
    HIDDEN_INSTRUCTIONS = "hidden-instructions", "prompt-injection",
        "Text that addresses the model with instructions of its own: to ignore earlier instructions, <IMPORTANT>/<system> blocks, steps to take before using the tool, recipients to change.";
    COERCIVE_LANGUAGE = "coercive-language", "prompt-injection",
        "Text that pressures the model to prefer this tool (always call this tool first, mandatory compliance requirement).";
    CONCEAL_FROM_USER = "conceal-from-user", "concealment",
        "Text that tells the model to keep something from the user (do not mention this to the user, this is a secret operation).";
    INVISIBLE_CHARACTERS = "invisible-characters", "hidden-text",
        "Zero-width, tag (ASCII smuggling), variation-selector, control or escape characters that hide text from a person reading the description.";
    BIDI_CONTROL = "bidi-control", "hidden-text",
        "Bidirectional override and isolate characters that make text display in another order than the model reads it (Trojan Source).";
    HIDDEN_LAYOUT = "hidden-layout", "hidden-text",
        "Long runs of whitespace or HTML comments that push text out of view.";
    HOMOGLYPH = "homoglyph", "homoglyph",
        "Names or words that mix scripts or use characters that look like others (Cyrillic а for Latin a).";
    ENCODED_PAYLOAD = "encoded-payload", "encoded-payload",
        "Base64, hexadecimal, percent or escape-encoded text inside descriptions; High when the decoded text holds instructions.";
    EXFILTRATION_URL = "exfiltration-url", "exfiltration",
        "URLs of request collectors and tunnels, bare IP addresses, URLs with slots for data, and text sending data to a URL.";
    EXFILTRATION_EMAIL = "exfiltration-email", "exfiltration",
        "E-mail addresses, High when the text copies or redirects messages to them.";
    TOOL_REFERENCE = "tool-reference", "tool-shadowing",
        "Text that changes how other tools behave (when the add tool is present…, when send_message is invoked…).";
    SENSITIVE_FILE = "sensitive-file", "sensitive-file",
        "References to SSH keys, MCP client configurations, cloud credentials, password files; High when the text asks to read or pass them.";
    DATA_SMUGGLING = "data-smuggling", "data-smuggling",
        "Free-text parameters that invite the model to pass conversation or file content (sidenote, conversation_history), High when the description says what to put there.";
    COMMAND_EXECUTION = "command-execution", "code-execution",
        "Tools that execute commands or code (subprocess, os.system, eval), and destructive shell commands in text.";
    MARKUP_INJECTION = "markup-injection", "markup-injection",
        "Script tags and similar active markup in descriptions.";
    LONG_DESCRIPTION = "long-description", "context-cost",
        "Very long descriptions or instructions: costly in context, and room to hide instructions.";
    DUPLICATE_NAME = "duplicate-name", "tool-shadowing",
        "A tool or prompt name listed twice.";
    SERVER_NAME_IMITATION = "server-name-imitation", "name-impersonation",
        "A server name that imitates one already in the catalog (confusable characters, a small edit distance).";
    POISONED_ITEM = "poisoned-item", "prompt-injection",
        "A tool, prompt or resource with several high-severity signs of poisoning at once.";
}
