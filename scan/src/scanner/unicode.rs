//! Characters that hide or disguise text.

use unicode_security::MixedScript;
use unicode_security::confusable_detection::skeleton;

use crate::finding::Severity;

/// One problem with the characters of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharIssue {
    /// How bad.
    pub severity: Severity,
    /// `true` for bidirectional controls, `false` for other hidden characters.
    pub bidi: bool,
    /// What, for a person.
    pub message: String,
}

fn is_emoji(c: char) -> bool {
    matches!(c as u32, 0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF)
}

/// Writes a text with invisible and control characters shown as `<U+XXXX>`.
pub fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_hidden(c) || (c.is_control() && !matches!(c, '\n' | '\t')) {
            out.push_str(&format!("<U+{:04X}>", c as u32));
        } else if c == '\n' {
            out.push_str("\\n");
        } else {
            out.push(c);
        }
    }
    out
}

fn is_hidden(c: char) -> bool {
    matches!(c as u32,
        0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x2069 | 0xFEFF
        | 0x00AD | 0x034F | 0x061C | 0x180E | 0xFE00..=0xFE0F | 0xE0000..=0xE007F | 0xE0100..=0xE01EF)
}

/// Every kind of hidden character in a text, one issue per kind.
pub fn hidden_characters(text: &str) -> Vec<CharIssue> {
    let chars: Vec<char> = text.chars().collect();
    let mut tags = String::new();
    let (mut bidi, mut zero_width, mut marks, mut selectors, mut controls, mut escape, mut private) =
        (0usize, 0usize, 0usize, 0usize, 0usize, 0usize, 0usize);
    let mut supplementary_selectors = 0usize;
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        match c as u32 {
            0xE0000..=0xE007F => {
                let ascii = (c as u32 - 0xE0000) as u8;
                if (0x20..0x7F).contains(&ascii) {
                    tags.push(ascii as char);
                }
            }
            0x202A..=0x202E | 0x2066..=0x2069 => bidi += 1,
            // A zero-width joiner between emoji builds one emoji (👩‍💻); anywhere else it hides.
            0x200D if prev.is_some_and(is_emoji) && next.is_some_and(is_emoji) => {}
            0x200B..=0x200D | 0x2060..=0x2064 | 0x00AD | 0x034F | 0x180E => zero_width += 1,
            0xFEFF if i > 0 => zero_width += 1,
            0x200E | 0x200F | 0x061C => marks += 1,
            0xE0100..=0xE01EF => supplementary_selectors += 1,
            // Variation selectors choose emoji or text presentation; after a letter they carry
            // nothing a reader sees.
            0xFE00..=0xFE0F if prev.is_some_and(|p| p.is_alphabetic() && !is_emoji(p)) => {
                selectors += 1
            }
            0x1B => escape += 1,
            0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD => private += 1,
            _ if c.is_control() && !matches!(c, '\n' | '\r' | '\t') => controls += 1,
            _ => {}
        }
    }
    let mut out = Vec::new();
    if !tags.is_empty() || chars.iter().any(|c| matches!(*c as u32, 0xE0000..=0xE007F)) {
        out.push(CharIssue {
            severity: Severity::High,
            bidi: false,
            message: format!(
                "invisible Unicode tag characters (ASCII smuggling) that spell: {:?}",
                tags.chars().take(200).collect::<String>()
            ),
        });
    }
    if supplementary_selectors > 0 {
        out.push(CharIssue {
            severity: Severity::High,
            bidi: false,
            message: format!(
                "{supplementary_selectors} supplementary variation selectors (U+E0100–U+E01EF), a known way to hide bytes in text"
            ),
        });
    }
    if bidi > 0 {
        out.push(CharIssue {
            severity: Severity::High,
            bidi: true,
            message: format!(
                "{bidi} bidirectional override/isolate characters: the text displays in another order than it is read"
            ),
        });
    }
    if escape > 0 {
        out.push(CharIssue {
            severity: Severity::High,
            bidi: false,
            message: format!("{escape} terminal escape characters (ESC), which can hide or rewrite text in a terminal"),
        });
    }
    if zero_width > 0 {
        out.push(CharIssue {
            severity: Severity::Medium,
            bidi: false,
            message: format!("{zero_width} zero-width or invisible formatting characters"),
        });
    }
    if selectors > 0 {
        out.push(CharIssue {
            severity: Severity::Medium,
            bidi: false,
            message: format!(
                "{selectors} variation selectors after letters, which display as nothing"
            ),
        });
    }
    if controls > 0 {
        out.push(CharIssue {
            severity: Severity::Medium,
            bidi: false,
            message: format!("{controls} control characters"),
        });
    }
    if marks > 0 {
        out.push(CharIssue {
            severity: Severity::Low,
            bidi: true,
            message: format!("{marks} directional marks (LRM/RLM/ALM)"),
        });
    }
    if private > 0 {
        out.push(CharIssue {
            severity: Severity::Low,
            bidi: false,
            message: format!(
                "{private} private-use characters, which display differently per font"
            ),
        });
    }
    out
}

/// The ASCII look-alike of a name, when the name is not ASCII but looks like ASCII.
pub fn ascii_lookalike(name: &str) -> Option<String> {
    if name.is_ascii() {
        return None;
    }
    // Only the non-ASCII characters are replaced by their prototype: the full skeleton also maps
    // ASCII to ASCII (`m` to `rn`), which would not read as what the name looks like.
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let proto: String = skeleton(c.encode_utf8(&mut [0; 4])).collect();
            if !proto.is_ascii() {
                return None;
            }
            out.push_str(&proto);
        }
    }
    (out != name).then_some(out)
}

/// Two names a person could take for each other (equal UTS #39 skeletons).
pub fn confusable(a: &str, b: &str) -> bool {
    skeleton(&a.to_lowercase()).eq(skeleton(&b.to_lowercase()))
}

/// A problem with an identifier (tool, parameter, prompt or server name).
pub fn identifier_issue(name: &str) -> Option<(Severity, String)> {
    if name.is_ascii() {
        return None;
    }
    if !name.is_single_script() {
        let looks = ascii_lookalike(name)
            .map(|s| format!(", looks like `{s}`"))
            .unwrap_or_default();
        return Some((
            Severity::High,
            format!("name `{name}` mixes scripts{looks}"),
        ));
    }
    if let Some(s) = ascii_lookalike(name) {
        return Some((
            Severity::High,
            format!("name `{name}` is not ASCII but looks like `{s}`"),
        ));
    }
    Some((
        Severity::Low,
        format!("name `{name}` is not ASCII; clients and people may not tell it apart from others"),
    ))
}

/// Words of a text that mix scripts (Latin letters with Cyrillic or Greek ones in one word).
pub fn mixed_script_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_ascii() && w.chars().any(|c| c.is_ascii_alphabetic()))
        .filter(|w| !w.is_single_script())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_hidden_characters() {
        assert!(hidden_characters("plain text – with an en dash 🎉 and 👩\u{200D}💻").is_empty());
        let issues = hidden_characters("read\u{200B}me");
        assert_eq!(issues[0].severity, Severity::Medium);
        let tags: String = "ignore"
            .chars()
            .map(|c| char::from_u32(0xE0000 + c as u32).unwrap())
            .collect();
        let issues = hidden_characters(&format!("hello{tags}"));
        assert_eq!(issues[0].severity, Severity::High);
        assert!(
            issues[0].message.contains("\"ignore\""),
            "{}",
            issues[0].message
        );
        assert!(hidden_characters("abc\u{202E}cba")[0].bidi);
        assert_eq!(visible("a\u{200B}b"), "a<U+200B>b");
    }

    #[test]
    fn finds_look_alike_names() {
        assert_eq!(identifier_issue("send_email"), None);
        // Cyrillic а and е in a Latin word.
        let (sev, msg) = identifier_issue("s\u{0435}nd_em\u{0430}il").unwrap();
        assert_eq!(sev, Severity::High);
        assert!(msg.contains("looks like `send_email`"), "{msg}");
        assert_eq!(identifier_issue("天气").unwrap().0, Severity::Low);
        assert_eq!(
            mixed_script_words("please r\u{0435}ad this"),
            vec!["r\u{0435}ad"]
        );
        assert!(mixed_script_words("naïve café Привет").is_empty());
    }
}
