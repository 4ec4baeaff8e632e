//! JSON with comments and trailing commas, as VS Code writes its settings and `mcp.json`.

/// Removes `//` and `/* */` comments and trailing commas outside strings, as VS Code's JSONC
/// allows, keeping every other byte where it was so that parse errors point at the right line and
/// column. Errors: an unterminated block comment (with its line and column).
pub fn strip_jsonc(text: &str) -> Result<String, (usize, usize)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    let mut in_string = false;
    // Where in `out` the last comma is, while only whitespace and comments follow it.
    let mut comma: Option<usize> = None;
    let blank = |out: &mut String, c: char| {
        if c == '\n' {
            out.push('\n');
        } else {
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
        }
    };
    while let Some((at, c)) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some((_, escaped)) = chars.next() {
                    out.push(escaped);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek().map(|&(_, n)| n)) {
            ('/', Some('/')) => {
                out.push(' ');
                while let Some(&(_, n)) = chars.peek() {
                    if n == '\n' {
                        break;
                    }
                    blank(&mut out, n);
                    chars.next();
                }
            }
            ('/', Some('*')) => {
                chars.next();
                out.push_str("  ");
                let mut closed = false;
                while let Some((_, n)) = chars.next() {
                    if n == '*' && chars.peek().map(|&(_, m)| m) == Some('/') {
                        chars.next();
                        out.push_str("  ");
                        closed = true;
                        break;
                    }
                    blank(&mut out, n);
                }
                if !closed {
                    return Err(line_column(text, at));
                }
            }
            (',', _) => {
                comma = Some(out.len());
                out.push(',');
            }
            ('}' | ']', _) => {
                if let Some(p) = comma.take() {
                    out.replace_range(p..p + 1, " ");
                }
                out.push(c);
            }
            (c, _) if c.is_whitespace() => out.push(c),
            (c, _) => {
                comma = None;
                in_string = c == '"';
                out.push(c);
            }
        }
    }
    Ok(out)
}

fn line_column(text: &str, byte: usize) -> (usize, usize) {
    let before = &text[..byte];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn jsonc_comments_and_trailing_commas_are_stripped_outside_strings() {
        let text = "{\n  // a comment\n  \"a\": \"http://x//y\", /* block\n é */ \"b\": [1, 2,],\n  \"c\": \"/* not */\",\n}\n";
        let v: Value = serde_json::from_str(&strip_jsonc(text).unwrap()).unwrap();
        assert_eq!(v["a"], "http://x//y");
        assert_eq!(v["b"], serde_json::json!([1, 2]));
        assert_eq!(v["c"], "/* not */");
        assert_eq!(strip_jsonc(text).unwrap().len(), text.len());
        assert_eq!(strip_jsonc("{\n \"a\": 1 /* open").unwrap_err(), (2, 9));
        // An escaped quote does not end a string.
        let v: Value = serde_json::from_str(&strip_jsonc(r#"{"a": "x\"//y",}"#).unwrap()).unwrap();
        assert_eq!(v["a"], "x\"//y");
    }
}
