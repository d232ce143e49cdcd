//! A parser for the CQL the test server understands: `USE ks` and
//!
//! ```text
//! SELECT * | sel [AS alias], … FROM [ks.]table
//!     [WHERE cond [AND cond]…] [LIMIT n|?] [ALLOW FILTERING] [;]
//! sel  := column | token(col, …)
//! cond := token(col, …) (=|<|<=|>|>=) term | column (=|<|<=|>|>=) term | column IN (? | (term, …))
//! term := ? | :name | integer | 'string'
//! ```
//!
//! Keywords are case-insensitive; unquoted identifiers are lowercased and `"quoted"` ones kept.

/// A parsed statement.
#[derive(Debug, Clone)]
pub enum Statement {
    Use(String),
    Select(Select),
}

/// A SELECT.
#[derive(Debug, Clone)]
pub struct Select {
    pub keyspace: Option<String>,
    pub table: String,
    /// `None` for `*`.
    pub selectors: Option<Vec<Selector>>,
    pub conds: Vec<Cond>,
    pub limit: Option<Term>,
    /// Bind markers, numbered in order of appearance.
    pub markers: usize,
}

#[derive(Debug, Clone)]
pub struct Selector {
    pub expr: SelExpr,
    pub alias: Option<String>,
}

#[derive(Debug, Clone)]
pub enum SelExpr {
    Column(String),
    Token(Vec<String>),
}

/// A value in a condition.
#[derive(Debug, Clone)]
pub enum Term {
    /// The n-th bind marker (0-based).
    Marker(usize),
    Int(i128),
    Str(String),
    /// `(a, b, …)` after IN.
    List(Vec<Term>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
pub enum Cond {
    Token {
        cols: Vec<String>,
        op: Op,
        term: Term,
    },
    Column {
        col: String,
        op: Op,
        term: Term,
    },
    In {
        col: String,
        term: Term,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// Unquoted (lowercased) identifier or keyword.
    Word(String),
    /// A double-quoted identifier.
    Quoted(String),
    Str(String),
    Int(i128),
    Sym(&'static str),
    Marker,
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let w: String = chars[start..i].iter().collect();
            out.push(Tok::Word(w.to_ascii_lowercase()));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let w: String = chars[start..i].iter().collect();
            let n = w.parse().map_err(|_| format!("number out of range: {w}"))?;
            out.push(Tok::Int(n));
        } else if c == '\'' || c == '"' {
            let mut v = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("unterminated quote".into()),
                    Some(&q) if q == c => {
                        if chars.get(i + 1) == Some(&c) {
                            v.push(c);
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    Some(&x) => {
                        v.push(x);
                        i += 1;
                    }
                }
            }
            out.push(if c == '\'' {
                Tok::Str(v)
            } else {
                Tok::Quoted(v)
            });
        } else if c == ':' {
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Marker);
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let sym = match two.as_str() {
                "<=" => Some("<="),
                ">=" => Some(">="),
                _ => None,
            };
            if let Some(sym) = sym {
                out.push(Tok::Sym(sym));
                i += 2;
                continue;
            }
            let sym = match c {
                '*' => "*",
                ',' => ",",
                '(' => "(",
                ')' => ")",
                '.' => ".",
                '=' => "=",
                '<' => "<",
                '>' => ">",
                ';' => ";",
                '-' => "-",
                '?' => {
                    i += 1;
                    out.push(Tok::Marker);
                    continue;
                }
                _ => return Err(format!("line 1:{i} unexpected character '{c}'")),
            };
            out.push(Tok::Sym(sym));
            i += 1;
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    markers: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(x)) if *x == s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_word(&mut self, w: &str) -> Result<(), String> {
        if self.eat_word(w) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("expecting {}", w.to_uppercase())))
        }
    }

    fn expect_sym(&mut self, s: &str) -> Result<(), String> {
        if self.eat_sym(s) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("expecting '{s}'")))
        }
    }

    fn unexpected(&self, what: &str) -> String {
        match self.peek() {
            None => format!("line 1:0 mismatched input '<EOF>' {what}"),
            Some(t) => format!("line 1:0 no viable alternative at input {t:?} ({what})"),
        }
    }

    fn ident(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Tok::Word(w)) => Ok(w),
            Some(Tok::Quoted(q)) => Ok(q),
            _ => {
                self.pos -= 1;
                Err(self.unexpected("expecting an identifier"))
            }
        }
    }

    fn ident_list(&mut self) -> Result<Vec<String>, String> {
        self.expect_sym("(")?;
        let mut cols = vec![self.ident()?];
        while self.eat_sym(",") {
            cols.push(self.ident()?);
        }
        self.expect_sym(")")?;
        Ok(cols)
    }

    fn term(&mut self) -> Result<Term, String> {
        match self.next() {
            Some(Tok::Marker) => {
                self.markers += 1;
                Ok(Term::Marker(self.markers - 1))
            }
            Some(Tok::Int(n)) => Ok(Term::Int(n)),
            Some(Tok::Sym("-")) => match self.next() {
                Some(Tok::Int(n)) => Ok(Term::Int(-n)),
                _ => Err("line 1:0 expecting a number after '-'".into()),
            },
            Some(Tok::Str(s)) => Ok(Term::Str(s)),
            _ => {
                self.pos -= 1;
                Err(self.unexpected("expecting a value"))
            }
        }
    }

    fn op(&mut self) -> Result<Op, String> {
        let op = match self.peek() {
            Some(Tok::Sym("=")) => Op::Eq,
            Some(Tok::Sym("<")) => Op::Lt,
            Some(Tok::Sym("<=")) => Op::Le,
            Some(Tok::Sym(">")) => Op::Gt,
            Some(Tok::Sym(">=")) => Op::Ge,
            _ => return Err(self.unexpected("expecting a comparison")),
        };
        self.pos += 1;
        Ok(op)
    }

    fn cond(&mut self) -> Result<Cond, String> {
        if self.is_word("token") && self.toks.get(self.pos + 1) == Some(&Tok::Sym("(")) {
            self.pos += 1;
            let cols = self.ident_list()?;
            let op = self.op()?;
            let term = self.term()?;
            return Ok(Cond::Token { cols, op, term });
        }
        let col = self.ident()?;
        if self.eat_word("in") {
            if self.eat_sym("(") {
                let mut items = vec![self.term()?];
                while self.eat_sym(",") {
                    items.push(self.term()?);
                }
                self.expect_sym(")")?;
                return Ok(Cond::In {
                    col,
                    term: Term::List(items),
                });
            }
            let term = self.term()?;
            return Ok(Cond::In { col, term });
        }
        let op = self.op()?;
        let term = self.term()?;
        Ok(Cond::Column { col, op, term })
    }

    fn selector(&mut self) -> Result<Selector, String> {
        let expr = if self.is_word("token") && self.toks.get(self.pos + 1) == Some(&Tok::Sym("(")) {
            self.pos += 1;
            SelExpr::Token(self.ident_list()?)
        } else {
            let name = self.ident()?;
            if matches!(self.peek(), Some(Tok::Sym("("))) {
                return Err(format!("unsupported function in selection: {name}"));
            }
            SelExpr::Column(name)
        };
        let alias = if self.eat_word("as") {
            Some(self.ident()?)
        } else {
            None
        };
        Ok(Selector { expr, alias })
    }

    fn select(&mut self) -> Result<Select, String> {
        if self.is_word("json") || self.is_word("distinct") {
            return Err(self.unexpected("JSON and DISTINCT are not supported"));
        }
        let selectors = if self.eat_sym("*") {
            None
        } else {
            let mut sels = vec![self.selector()?];
            while self.eat_sym(",") {
                sels.push(self.selector()?);
            }
            Some(sels)
        };
        self.expect_word("from")?;
        let first = self.ident()?;
        let (keyspace, table) = if self.eat_sym(".") {
            (Some(first), self.ident()?)
        } else {
            (None, first)
        };
        let mut conds = Vec::new();
        if self.eat_word("where") {
            conds.push(self.cond()?);
            while self.eat_word("and") {
                conds.push(self.cond()?);
            }
        }
        let limit = if self.eat_word("limit") {
            Some(self.term()?)
        } else {
            None
        };
        if self.eat_word("allow") {
            self.expect_word("filtering")?;
        }
        Ok(Select {
            keyspace,
            table,
            selectors,
            conds,
            limit,
            markers: self.markers,
        })
    }
}

/// Parses one statement; `Err` is a syntax error message.
pub fn parse(cql: &str) -> Result<Statement, String> {
    let toks = lex(cql)?;
    let mut p = Parser {
        toks,
        pos: 0,
        markers: 0,
    };
    let stmt = if p.eat_word("use") {
        Statement::Use(p.ident()?)
    } else if p.eat_word("select") {
        Statement::Select(p.select()?)
    } else {
        return Err(p.unexpected("only SELECT and USE are supported by this test server"));
    };
    p.eat_sym(";");
    if p.peek().is_some() {
        return Err(p.unexpected("expecting the end of the statement"));
    }
    Ok(stmt)
}
