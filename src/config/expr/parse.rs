//! Scanning and parsing: a JSON string becomes a [`Template`], each expression an [`Expr`].
//!
//! Every span is a byte range into the text given to [`parse_template`], so an error can be
//! shown with a caret under the offending part of the original JSON string. The parser works
//! directly on that text (no token list) and never panics: every position it slices at is a
//! char boundary, and nesting is bounded by [`MAX_DEPTH`].

use std::ops::Range;

use serde_json::{Number, Value};

use super::functions;
use super::{Accessor, Expr, ExprError, ExprErrorKind, ExprKind, Part, Template};

/// How deeply calls, indexes and property accesses may nest in one expression. Real
/// expressions stay far below; the bound keeps parsing and evaluation off the stack limit.
const MAX_DEPTH: usize = 100;

/// Parses a JSON string as a template (see the module docs of `expr`).
pub(super) fn parse_template(text: &str) -> Result<Template, ExprError> {
    let bytes = text.as_bytes();
    if bytes.len() >= 2 && bytes[0] == b'@' && bytes[1] != b'{' {
        if bytes[1] == b'@' {
            // `@@...`: the literal text without its first `@`.
            return Ok(Template::Literal(text[1..].to_string()));
        }
        let expr = Parser::new(text, 1, text.len()).parse_whole("the expression after '@'")?;
        return Ok(Template::Expression(expr));
    }
    if !text.contains("@{") {
        return Ok(Template::Literal(text.to_string()));
    }
    parse_interpolated(text)
}

/// Text with `@{...}` parts. A part ends at the first `}` outside a single-quoted string;
/// `@@{` stands for a literal `@{`.
fn parse_interpolated(text: &str) -> Result<Template, ExprError> {
    let bytes = text.as_bytes();
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut prev = 0;
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] != b'@' || bytes[i + 1] != b'{' {
            i += 1;
            continue;
        }
        literal.push_str(&text[prev..i]);
        if i > prev && bytes[i - 1] == b'@' {
            // `@@{`: the first `@` (already copied) and the `{` stay, this `@` goes.
            prev = i + 1;
            i += 1;
            continue;
        }
        let start = i + 2;
        let mut in_string = false;
        let mut close = None;
        for (offset, &b) in bytes[start..].iter().enumerate() {
            if b == b'\'' {
                in_string = !in_string;
            } else if b == b'}' && !in_string {
                close = Some(start + offset);
                break;
            }
        }
        let Some(close) = close else {
            let message = if in_string {
                "'@{' is not closed: a string literal inside it is not terminated; close the \
                 string with ' (write '' for a quote inside it) and the part with '}'"
            } else {
                "'@{' is not closed: add '}' after the expression"
            };
            return Err(syntax(i..text.len(), message));
        };
        let expr = Parser::new(text, start, close).parse_whole("the expression inside '@{...}'")?;
        if !literal.is_empty() {
            parts.push(Part::Text(std::mem::take(&mut literal)));
        }
        parts.push(Part::Expr(expr));
        prev = close + 1;
        i = close + 1;
    }
    literal.push_str(&text[prev..]);
    if parts.is_empty() {
        return Ok(Template::Literal(literal));
    }
    if !literal.is_empty() {
        parts.push(Part::Text(literal));
    }
    Ok(Template::Interpolated(parts))
}

fn syntax(span: Range<usize>, message: impl Into<String>) -> ExprError {
    ExprError {
        kind: ExprErrorKind::Syntax {
            message: message.into(),
        },
        span,
    }
}

/// Characters that end a name (LAUX scanner's identifier rule, plus `"` so that a misused
/// double quote gets its own message).
fn is_name_char(c: char) -> bool {
    !c.is_whitespace()
        && !matches!(
            c,
            '.' | ',' | '(' | ')' | '{' | '}' | '@' | '[' | ']' | '?' | '\'' | '"'
        )
}

/// A recursive-descent parser over `src[pos..end]`.
struct Parser<'t> {
    src: &'t str,
    pos: usize,
    end: usize,
}

impl<'t> Parser<'t> {
    fn new(src: &'t str, start: usize, end: usize) -> Self {
        Parser {
            src,
            pos: start,
            end,
        }
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..self.end].chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        let mut chars = self.src[self.pos..self.end].chars();
        chars.next();
        chars.next()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += c.len_utf8();
        }
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if !c.is_whitespace() {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    /// The span of the next character (empty at the end).
    fn char_span(&self) -> Range<usize> {
        let len = self.peek().map_or(0, char::len_utf8);
        self.pos..self.pos + len
    }

    /// Parses the whole range as one expression, surrounded by optional whitespace.
    fn parse_whole(mut self, what: &str) -> Result<Expr, ExprError> {
        self.skip_ws();
        if self.pos >= self.end {
            return Err(syntax(
                self.pos..self.pos,
                format!("{what} is empty: write a function call such as concat('a', 'b')"),
            ));
        }
        let expr = self.parse_expr(0)?;
        self.skip_ws();
        if let Some(c) = self.peek() {
            let message = match c {
                ')' => "unexpected ')': there is no open call for it to close".to_string(),
                '.' | '[' | '?' => format!(
                    "unexpected '{c}': properties and indexes can only follow a function call, \
                     such as pipeline().parameters or createArray(1, 2)[0]"
                ),
                _ => format!(
                    "unexpected '{c}' after the end of the expression; the language has no \
                     operators, so combine values with functions such as concat() or add()"
                ),
            };
            return Err(syntax(self.char_span(), message));
        }
        Ok(expr)
    }

    fn parse_expr(&mut self, depth: usize) -> Result<Expr, ExprError> {
        self.skip_ws();
        if depth > MAX_DEPTH {
            return Err(syntax(
                self.char_span(),
                format!("the expression nests more than {MAX_DEPTH} levels deep; split it up"),
            ));
        }
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(syntax(
                start..start,
                "expected a value (a function call, a string in single quotes, a number, true, \
                 false or null), but the expression ends here",
            ));
        };
        match c {
            '\'' => self.parse_string(),
            '0'..='9' | '+' | '-' => self.parse_number(),
            '.' if self.peek_second().is_some_and(|d| d.is_ascii_digit()) => Err(syntax(
                self.char_span(),
                "a number must start with a digit: write 0.5, not .5",
            )),
            '"' => Err(syntax(
                self.char_span(),
                "double quotes do not delimit strings: use single quotes ('text'), and write '' \
                 for a quote inside a string",
            )),
            c if is_name_char(c) => self.parse_name_or_call(depth),
            _ => Err(syntax(
                self.char_span(),
                format!(
                    "unexpected '{c}': expected a value (a function call, a string in single \
                     quotes, a number, true, false or null)"
                ),
            )),
        }
    }

    fn parse_string(&mut self) -> Result<Expr, ExprError> {
        let start = self.pos;
        self.bump();
        let mut value = String::new();
        loop {
            let rest = &self.src[self.pos..self.end];
            let Some(quote) = rest.find('\'') else {
                return Err(syntax(
                    start..self.end,
                    "the string is not terminated: close it with ' (and write '' for a quote \
                     inside it)",
                ));
            };
            value.push_str(&rest[..quote]);
            self.pos += quote + 1;
            if self.peek() == Some('\'') {
                value.push('\'');
                self.pos += 1;
            } else {
                break;
            }
        }
        Ok(Expr {
            kind: ExprKind::Literal(Value::String(value)),
            span: start..self.pos,
        })
    }

    fn skip_digits(&mut self) -> usize {
        let from = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - from
    }

    fn parse_number(&mut self) -> Result<Expr, ExprError> {
        let start = self.pos;
        let mut is_float = false;
        if matches!(self.peek(), Some('+' | '-')) {
            self.pos += 1;
        }
        if self.skip_digits() == 0 {
            return Err(syntax(
                start..self.pos,
                "a sign must be followed by digits; for arithmetic use add() or sub()",
            ));
        }
        if self.peek() == Some('.') {
            is_float = true;
            self.pos += 1;
            if self.skip_digits() == 0 {
                return Err(syntax(
                    start..self.pos,
                    "a decimal point must be followed by digits, as in 1.0",
                ));
            }
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            is_float = true;
            self.pos += 1;
            if matches!(self.peek(), Some('+' | '-')) {
                self.pos += 1;
            }
            if self.skip_digits() == 0 {
                return Err(syntax(
                    start..self.pos,
                    "an exponent must have digits, as in 1e5",
                ));
            }
        }
        if let Some(c) = self.peek().filter(|&c| is_name_char(c)) {
            return Err(syntax(
                self.char_span(),
                format!("unexpected '{c}' right after a number; names cannot start with a digit"),
            ));
        }
        let span = start..self.pos;
        let text = &self.src[span.clone()];
        let value = if is_float {
            None
        } else {
            text.parse::<i64>().ok().map(Value::from)
        };
        let value = match value {
            Some(v) => v,
            None => match text.parse::<f64>().ok().and_then(Number::from_f64) {
                Some(n) => Value::Number(n),
                None => return Err(syntax(span, "the number is out of range")),
            },
        };
        Ok(Expr {
            kind: ExprKind::Literal(value),
            span,
        })
    }

    fn scan_name(&mut self) -> Range<usize> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if !is_name_char(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        start..self.pos
    }

    fn parse_name_or_call(&mut self, depth: usize) -> Result<Expr, ExprError> {
        let name_span = self.scan_name();
        let name = &self.src[name_span.clone()];
        let after_name = self.pos;
        self.skip_ws();
        if self.peek() != Some('(') {
            self.pos = after_name;
            let literal = if name.eq_ignore_ascii_case("true") {
                Some(Value::Bool(true))
            } else if name.eq_ignore_ascii_case("false") {
                Some(Value::Bool(false))
            } else if name.eq_ignore_ascii_case("null") {
                Some(Value::Null)
            } else {
                None
            };
            return match literal {
                Some(value) => Ok(Expr {
                    kind: ExprKind::Literal(value),
                    span: name_span,
                }),
                None => Err(syntax(
                    name_span,
                    format!(
                        "'{name}' is neither a function call nor a literal: call a function with \
                         parentheses, as in {name}(), or quote text as '{name}'"
                    ),
                )),
            };
        }
        let Some(function) = functions::lookup(name) else {
            return Err(ExprError {
                kind: ExprErrorKind::UnknownFunction {
                    name: name.to_string(),
                    suggestion: functions::suggest(name),
                },
                span: name_span,
            });
        };
        let open = self.pos;
        self.bump();
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some(')') {
            self.bump();
        } else {
            loop {
                args.push(self.parse_expr(depth + 1)?);
                self.skip_ws();
                match self.peek() {
                    Some(',') => self.bump(),
                    Some(')') => {
                        self.bump();
                        break;
                    }
                    None => {
                        return Err(syntax(
                            open..self.pos,
                            format!("the call of {name}( is not closed: add ')'"),
                        ));
                    }
                    Some(c) => {
                        return Err(syntax(
                            self.char_span(),
                            format!(
                                "unexpected '{c}' in the arguments of {name}(): separate \
                                 arguments with ',' and close the call with ')'"
                            ),
                        ));
                    }
                }
            }
        }
        if args.len() < function.min || args.len() > function.max {
            return Err(ExprError {
                kind: ExprErrorKind::Arity {
                    function: function.name,
                    expected: functions::arity_text(function.min, function.max),
                    found: args.len(),
                },
                span: name_span,
            });
        }
        let call = Expr {
            kind: ExprKind::Call {
                name: name.to_string(),
                args,
            },
            span: name_span.start..self.pos,
        };
        self.parse_derefs(call, depth)
    }

    /// `.name`, `['name']`, `[expr]`, each optionally preceded by `?`, after a call.
    fn parse_derefs(&mut self, mut target: Expr, mut depth: usize) -> Result<Expr, ExprError> {
        loop {
            let before = self.pos;
            self.skip_ws();
            let mut null_safe = false;
            if self.peek() == Some('?') {
                let question = self.char_span();
                self.bump();
                self.skip_ws();
                if !matches!(self.peek(), Some('.' | '[')) {
                    return Err(syntax(
                        question,
                        "'?' must be followed by '.' or '[', as in pipeline()?.TriggeredByPipelineName",
                    ));
                }
                null_safe = true;
            }
            let key = match self.peek() {
                Some('.') => {
                    self.bump();
                    self.skip_ws();
                    let name_span = self.scan_name();
                    if name_span.is_empty() {
                        return Err(syntax(
                            self.char_span(),
                            "expected a property name after '.'; use ['...'] for names with \
                             spaces or dots",
                        ));
                    }
                    Expr {
                        kind: ExprKind::Literal(Value::String(
                            self.src[name_span.clone()].to_string(),
                        )),
                        span: name_span,
                    }
                }
                Some('[') => {
                    let open = self.pos;
                    self.bump();
                    let key = self.parse_expr(depth + 1)?;
                    self.skip_ws();
                    if self.peek() != Some(']') {
                        let span = if self.pos >= self.end {
                            open..self.pos
                        } else {
                            self.char_span()
                        };
                        return Err(syntax(span, "expected ']' to close the index"));
                    }
                    self.bump();
                    key
                }
                _ => {
                    self.pos = before;
                    return Ok(target);
                }
            };
            depth += 1;
            if depth > MAX_DEPTH {
                return Err(syntax(
                    target.span.start..self.pos,
                    format!("the expression nests more than {MAX_DEPTH} levels deep; split it up"),
                ));
            }
            target = Expr {
                span: target.span.start..self.pos,
                kind: ExprKind::Index {
                    target: Box::new(target),
                    key: Box::new(key),
                    null_safe,
                },
            };
        }
    }
}

/// The literal string of a key expression, if it is one.
fn literal_str(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Literal(Value::String(s)) => Some(s),
        _ => None,
    }
}

/// Whether `e` is a call of `name` (case-insensitive) without arguments.
fn is_bare_call(e: &Expr, name: &str) -> bool {
    matches!(&e.kind, ExprKind::Call { name: n, args } if args.is_empty() && n.eq_ignore_ascii_case(name))
}

/// Collects the accessors `e` uses, in source order.
pub(super) fn collect_accessors(e: &Expr, out: &mut Vec<(Accessor, Range<usize>)>) {
    match &e.kind {
        ExprKind::Literal(_) => {}
        ExprKind::Index { target, key, .. } => {
            if let Some(name) = literal_str(key) {
                if let ExprKind::Index {
                    target: inner,
                    key: inner_key,
                    ..
                } = &target.kind
                    && is_bare_call(inner, "pipeline")
                    && literal_str(inner_key).is_some_and(|k| k.eq_ignore_ascii_case("parameters"))
                {
                    out.push((
                        Accessor::PipelineParameter(name.to_string()),
                        e.span.clone(),
                    ));
                    return;
                }
                if is_bare_call(target, "dataset") {
                    out.push((Accessor::DatasetParameter(name.to_string()), e.span.clone()));
                    return;
                }
                if is_bare_call(target, "linkedService") {
                    out.push((
                        Accessor::LinkedServiceParameter(name.to_string()),
                        e.span.clone(),
                    ));
                    return;
                }
            }
            collect_accessors(target, out);
            collect_accessors(key, out);
        }
        ExprKind::Call { name, args } => {
            let literal_arg = args.first().and_then(literal_str).map(str::to_string);
            let accessor = match name.to_ascii_lowercase().as_str() {
                "pipeline" => Some(Accessor::Pipeline),
                "dataset" => Some(Accessor::Dataset),
                "linkedservice" => Some(Accessor::LinkedService),
                "item" => Some(Accessor::Item),
                "variables" => literal_arg.map(Accessor::Variable),
                "activity" => literal_arg.map(Accessor::Activity),
                _ => None,
            };
            if let Some(accessor) = accessor {
                out.push((accessor, e.span.clone()));
            }
            for arg in args {
                collect_accessors(arg, out);
            }
        }
    }
}
