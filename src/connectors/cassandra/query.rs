//! CQL text: quoting identifiers, building range scans, and recognising a user's query as a
//! plain table scan (`SELECT cols FROM ks.t`, nothing else) so it can be split by token range.

/// An identifier, double-quoted (case kept, `"` doubled).
pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Identifiers, quoted, comma-separated.
fn list(idents: &[String], separator: &str, each: impl Fn(String) -> String) -> String {
    idents
        .iter()
        .map(|c| each(quote(c)))
        .collect::<Vec<_>>()
        .join(separator)
}

/// `SELECT cols FROM ks.t WHERE <condition>`; no columns selects the partition key (a read
/// that only counts rows).
fn select(
    keyspace: &str,
    table: &str,
    columns: &[String],
    partition_key: &[String],
    condition: &str,
) -> String {
    let columns = if columns.is_empty() {
        partition_key
    } else {
        columns
    };
    format!(
        "SELECT {} FROM {}.{} WHERE {condition}",
        list(columns, ", ", |c| c),
        quote(keyspace),
        quote(table)
    )
}

/// `SELECT cols FROM ks.t WHERE token(pk) > ? AND token(pk) <= ?`.
pub fn range_select(
    keyspace: &str,
    table: &str,
    columns: &[String],
    partition_key: &[String],
) -> String {
    let pk = list(partition_key, ", ", |c| c);
    let condition = format!("token({pk}) > ? AND token({pk}) <= ?");
    select(keyspace, table, columns, partition_key, &condition)
}

/// `SELECT cols FROM ks.t WHERE pk1 = ? AND pk2 = ?`: one partition.
pub fn key_select(
    keyspace: &str,
    table: &str,
    columns: &[String],
    partition_key: &[String],
) -> String {
    let condition = list(partition_key, " AND ", |c| format!("{c} = ?"));
    select(keyspace, table, columns, partition_key, &condition)
}

/// A query that reads a whole table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainScan {
    /// The keyspace, when the query names one.
    pub keyspace: Option<String>,
    /// The table.
    pub table: String,
    /// The columns, or `None` for `*`.
    pub columns: Option<Vec<String>>,
}

#[derive(Debug, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Punct(char),
}

fn tokenize(q: &str) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    let mut chars = q.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        s.push('"');
                    }
                    '"' => break,
                    other => s.push(other),
                }
            }
            out.push(Tok::Quoted(s));
        } else if c.is_alphanumeric() || c == '_' {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_alphanumeric() || c == '_' {
                    s.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(Tok::Word(s));
        } else if matches!(c, ',' | '.' | '*' | ';') {
            out.push(Tok::Punct(c));
            chars.next();
        } else {
            return None;
        }
    }
    Some(out)
}

/// An identifier token: quoted keeps its case, bare is lower-cased (CQL's rule).
fn ident(t: &Tok) -> Option<String> {
    match t {
        Tok::Word(w) => Some(w.to_ascii_lowercase()),
        Tok::Quoted(q) => Some(q.clone()),
        Tok::Punct(_) => None,
    }
}

/// `query` as a plain scan, if it is `SELECT * | col, … FROM [ks.]table [;]`.
pub fn plain_scan(query: &str) -> Option<PlainScan> {
    let toks = tokenize(query)?;
    let mut toks: &[Tok] = &toks;
    if let Some((Tok::Punct(';'), rest)) = toks.split_last() {
        toks = rest;
    }
    let word = |t: &Tok, w: &str| matches!(t, Tok::Word(x) if x.eq_ignore_ascii_case(w));
    if toks.is_empty() || !word(&toks[0], "select") {
        return None;
    }
    let from = toks.iter().position(|t| word(t, "from"))?;
    let cols = &toks[1..from];
    let columns = match cols {
        [Tok::Punct('*')] => None,
        _ => {
            let mut out = Vec::new();
            for (i, t) in cols.iter().enumerate() {
                if i % 2 == 1 {
                    if *t != Tok::Punct(',') {
                        return None;
                    }
                } else {
                    // Keywords such as DISTINCT or JSON make this more than a plain scan.
                    if matches!(t, Tok::Word(w) if ["distinct", "json", "token", "writetime", "ttl", "count", "cast"].contains(&w.to_ascii_lowercase().as_str()))
                    {
                        return None;
                    }
                    out.push(ident(t)?);
                }
            }
            if out.is_empty() || cols.len().is_multiple_of(2) {
                return None;
            }
            Some(out)
        }
    };
    match &toks[from + 1..] {
        [t] => Some(PlainScan {
            keyspace: None,
            table: ident(t)?,
            columns,
        }),
        [k, Tok::Punct('.'), t] => Some(PlainScan {
            keyspace: Some(ident(k)?),
            table: ident(t)?,
            columns,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scans_are_recognised() {
        assert_eq!(
            plain_scan("select * from Shop.\"Orders\";"),
            Some(PlainScan {
                keyspace: Some("shop".into()),
                table: "Orders".into(),
                columns: None
            })
        );
        assert_eq!(
            plain_scan("SELECT a, \"B\" FROM t").unwrap().columns,
            Some(vec!["a".to_string(), "B".to_string()])
        );
    }

    #[test]
    fn anything_more_runs_as_written() {
        for q in [
            "SELECT * FROM t WHERE a = 1",
            "SELECT * FROM t LIMIT 10",
            "SELECT DISTINCT a FROM t",
            "SELECT count(*) FROM t",
            "SELECT a b FROM t",
            "INSERT INTO t (a) VALUES (1)",
        ] {
            assert_eq!(plain_scan(q), None, "{q}");
        }
    }

    #[test]
    fn range_selects_quote_every_identifier() {
        assert_eq!(
            range_select("ks", "T", &["a".into(), "b\"c".into()], &["a".into()]),
            "SELECT \"a\", \"b\"\"c\" FROM \"ks\".\"T\" WHERE token(\"a\") > ? AND token(\"a\") <= ?"
        );
    }
}
