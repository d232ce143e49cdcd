//! Executing a parsed SELECT: resolving it against a table (bind marker and result column
//! specs), binding values (token bounds, equality and IN filters, LIMIT), and serving one
//! page as a RESULT Rows body, continuing from an opaque paging state.

use std::net::IpAddr;
use std::sync::Arc;

use super::parse::{Cond, Op, SelExpr, Select, Term};
use super::store::{TableData, put_cell, token_of};
use super::types::CqlType;
use super::wire::{Frame, Put, code, kind, opcode};

/// An error to answer with: code and message (no extra fields).
#[derive(Debug, Clone)]
pub struct CqlError {
    pub code: i32,
    pub message: String,
}

pub fn invalid(message: impl Into<String>) -> CqlError {
    CqlError {
        code: code::INVALID,
        message: message.into(),
    }
}

#[derive(Debug, Clone, Copy)]
enum Proj {
    Column(usize),
    Token,
}

/// A SELECT resolved against its table.
pub struct Resolved {
    pub table: Arc<TableData>,
    /// A system table (not subject to faults).
    pub system: bool,
    proj: Vec<Proj>,
    /// The projection is every column in table order: rows are served as stored.
    identity: bool,
    /// Result columns: name and type.
    pub result_cols: Vec<(String, CqlType)>,
    /// Bind markers: name and type.
    pub markers: Vec<(String, CqlType)>,
    /// Partition key bind marker indexes (empty unless every pk column is `= ?`).
    pub pk_indexes: Vec<u16>,
}

fn column_index(table: &TableData, name: &str) -> Result<usize, CqlError> {
    table
        .columns
        .iter()
        .position(|c| c.name == name)
        .ok_or_else(|| invalid(format!("Undefined column name {name}")))
}

fn check_token_args(table: &TableData, cols: &[String]) -> Result<(), CqlError> {
    let pk: Vec<&str> = table
        .pk
        .iter()
        .map(|&i| table.columns[i].name.as_str())
        .collect();
    if table.tokens.is_none() || cols.iter().map(String::as_str).ne(pk.iter().copied()) {
        return Err(invalid(format!(
            "The token function arguments must be in the partition key order: {}",
            pk.join(", ")
        )));
    }
    Ok(())
}

/// Resolves `select` against `table`.
pub fn resolve(select: &Select, table: Arc<TableData>, system: bool) -> Result<Resolved, CqlError> {
    let t = &table;
    let (proj, result_cols, identity) = match &select.selectors {
        None => (
            (0..t.columns.len()).map(Proj::Column).collect::<Vec<_>>(),
            t.columns
                .iter()
                .map(|c| (c.name.clone(), c.typ.clone()))
                .collect::<Vec<_>>(),
            true,
        ),
        Some(sels) => {
            let mut proj = Vec::new();
            let mut cols = Vec::new();
            for s in sels {
                match &s.expr {
                    SelExpr::Column(name) => {
                        let i = column_index(t, name)?;
                        proj.push(Proj::Column(i));
                        cols.push((
                            s.alias.clone().unwrap_or_else(|| name.clone()),
                            t.columns[i].typ.clone(),
                        ));
                    }
                    SelExpr::Token(args) => {
                        check_token_args(t, args)?;
                        proj.push(Proj::Token);
                        let name = format!("system.token({})", args.join(", "));
                        cols.push((s.alias.clone().unwrap_or(name), CqlType::BigInt));
                    }
                }
            }
            let identity = proj.len() == t.columns.len()
                && proj
                    .iter()
                    .enumerate()
                    .all(|(i, p)| matches!(p, Proj::Column(c) if *c == i));
            (proj, cols, identity)
        }
    };
    let mut markers: Vec<Option<(String, CqlType)>> = vec![None; select.markers];
    let mut set = |term: &Term, name: &str, typ: &CqlType| {
        if let Term::Marker(m) = term {
            markers[*m] = Some((name.to_string(), typ.clone()));
        }
    };
    let mut pk_markers: Vec<Option<u16>> = vec![None; t.pk.len()];
    for cond in &select.conds {
        match cond {
            Cond::Token { cols, term, .. } => {
                check_token_args(t, cols)?;
                set(term, "partition key token", &CqlType::BigInt);
            }
            Cond::Column { col, op, term } => {
                let i = column_index(t, col)?;
                if *op != Op::Eq {
                    return Err(invalid(format!(
                        "Only EQ and IN relations are supported by this test server (column {col})"
                    )));
                }
                set(term, col, &t.columns[i].typ);
                if let (Some(k), Term::Marker(m)) = (t.pk.iter().position(|&p| p == i), term) {
                    pk_markers[k] = Some(*m as u16);
                }
            }
            Cond::In { col, term } => {
                let i = column_index(t, col)?;
                let typ = &t.columns[i].typ;
                match term {
                    Term::List(items) => items.iter().for_each(|it| set(it, col, typ)),
                    _ => set(term, &format!("in({col})"), &CqlType::list(typ.clone())),
                }
            }
        }
    }
    if let Some(limit) = &select.limit {
        set(limit, "[limit]", &CqlType::Int);
    }
    let pk_indexes = if pk_markers.iter().all(Option::is_some) {
        pk_markers.into_iter().flatten().collect()
    } else {
        Vec::new()
    };
    let markers = markers
        .into_iter()
        .map(|m| m.unwrap_or(("?".into(), CqlType::Blob)))
        .collect();
    Ok(Resolved {
        table,
        system,
        proj,
        identity,
        result_cols,
        markers,
        pk_indexes,
    })
}

/// A resolved SELECT with its values bound: the rows to scan and how to filter them.
pub struct Bound {
    lo: usize,
    hi: usize,
    filters: Vec<(usize, Vec<Vec<u8>>)>,
    limit: Option<usize>,
}

fn value<'a>(term: &Term, values: &[Option<&'a [u8]>]) -> Result<Option<&'a [u8]>, CqlError> {
    match term {
        Term::Marker(m) => Ok(values.get(*m).copied().flatten()),
        _ => Err(invalid("expected a bind marker")),
    }
}

fn token_value(term: &Term, values: &[Option<&[u8]>]) -> Result<i64, CqlError> {
    match term {
        Term::Int(n) => i64::try_from(*n).map_err(|_| invalid(format!("Invalid token {n}"))),
        Term::Str(s) => Err(invalid(format!("Invalid STRING constant ({s}) for token"))),
        Term::List(_) => Err(invalid("Invalid token value")),
        Term::Marker(_) => match value(term, values)? {
            None => Err(invalid("Invalid null value for partition key token")),
            Some(b) => <[u8; 8]>::try_from(b)
                .map(i64::from_be_bytes)
                .map_err(|_| invalid(format!("Expected 8 bytes for a bigint ({})", b.len()))),
        },
    }
}

/// Encodes a literal for a column of type `typ`.
fn literal(term: &Term, typ: &CqlType) -> Result<Vec<u8>, CqlError> {
    use CqlType::*;
    let bad = || {
        invalid(format!(
            "Invalid constant {term:?} for type {}",
            typ.cql_name()
        ))
    };
    match (term, typ) {
        (_, Frozen(inner)) => literal(term, inner),
        (Term::Int(n), Int) => i32::try_from(*n)
            .map(|v| v.to_be_bytes().to_vec())
            .map_err(|_| bad()),
        (Term::Int(n), BigInt | Counter | Timestamp | Time) => i64::try_from(*n)
            .map(|v| v.to_be_bytes().to_vec())
            .map_err(|_| bad()),
        (Term::Int(n), SmallInt) => i16::try_from(*n)
            .map(|v| v.to_be_bytes().to_vec())
            .map_err(|_| bad()),
        (Term::Int(n), TinyInt) => i8::try_from(*n)
            .map(|v| v.to_be_bytes().to_vec())
            .map_err(|_| bad()),
        (Term::Int(n), Varint) => Ok(super::cells::cell_varint(*n)),
        (Term::Int(n), Double) => Ok((*n as f64).to_be_bytes().to_vec()),
        (Term::Int(n), Float) => Ok((*n as f32).to_be_bytes().to_vec()),
        (Term::Str(s), Text | Ascii) => Ok(s.as_bytes().to_vec()),
        (Term::Str(s), Inet) => s
            .parse::<IpAddr>()
            .map(super::cells::cell_inet)
            .map_err(|_| bad()),
        (Term::Str(s), Uuid | Timeuuid) => uuid::Uuid::parse_str(s)
            .map(|u| u.as_bytes().to_vec())
            .map_err(|_| bad()),
        _ => Err(bad()),
    }
}

fn list_elements(b: &[u8]) -> Result<Vec<Vec<u8>>, CqlError> {
    let mut r = super::wire::Reader::new(b);
    let bad = |_| invalid("Invalid list value for IN");
    let n = r.i32().map_err(bad)?;
    let mut out = Vec::new();
    for _ in 0..n.max(0) {
        match r.bytes().map_err(bad)? {
            Some(e) => out.push(e.to_vec()),
            None => return Err(invalid("Invalid null value in IN list")),
        }
    }
    Ok(out)
}

impl Resolved {
    /// Binds `values` (one per marker, `None` = null/unset).
    pub fn bind(&self, select: &Select, values: &[Option<&[u8]>]) -> Result<Bound, CqlError> {
        if values.len() != select.markers {
            return Err(invalid(format!(
                "There were {} markers(?) in CQL but {} bound variables",
                select.markers,
                values.len()
            )));
        }
        let t = &self.table;
        let mut lower: Option<(i64, bool)> = None;
        let mut upper: Option<(i64, bool)> = None;
        let tighten_lo = |b: &mut Option<(i64, bool)>, v: (i64, bool)| {
            if b.is_none_or(|c| v.0 > c.0 || (v.0 == c.0 && !v.1)) {
                *b = Some(v);
            }
        };
        let tighten_hi = |b: &mut Option<(i64, bool)>, v: (i64, bool)| {
            if b.is_none_or(|c| v.0 < c.0 || (v.0 == c.0 && !v.1)) {
                *b = Some(v);
            }
        };
        let mut filters: Vec<(usize, Vec<Vec<u8>>)> = Vec::new();
        for cond in &select.conds {
            match cond {
                Cond::Token { op, term, .. } => {
                    let v = token_value(term, values)?;
                    match op {
                        Op::Gt => tighten_lo(&mut lower, (v, false)),
                        Op::Ge => tighten_lo(&mut lower, (v, true)),
                        Op::Lt => tighten_hi(&mut upper, (v, false)),
                        Op::Le => tighten_hi(&mut upper, (v, true)),
                        Op::Eq => {
                            tighten_lo(&mut lower, (v, true));
                            tighten_hi(&mut upper, (v, true));
                        }
                    }
                }
                Cond::Column { col, term, .. } => {
                    let i = column_index(t, col)?;
                    let v = match term {
                        Term::Marker(_) => value(term, values)?
                            .ok_or_else(|| {
                                invalid(format!("Invalid null value in condition for column {col}"))
                            })?
                            .to_vec(),
                        _ => literal(term, &t.columns[i].typ)?,
                    };
                    filters.push((i, vec![v]));
                }
                Cond::In { col, term } => {
                    let i = column_index(t, col)?;
                    let typ = &t.columns[i].typ;
                    let vs = match term {
                        Term::List(items) => items
                            .iter()
                            .map(|it| match it {
                                Term::Marker(_) => value(it, values)?
                                    .map(<[u8]>::to_vec)
                                    .ok_or_else(|| invalid("Invalid null value in IN list")),
                                _ => literal(it, typ),
                            })
                            .collect::<Result<Vec<_>, _>>()?,
                        _ => list_elements(
                            value(term, values)?
                                .ok_or_else(|| invalid("Invalid null value for IN restriction"))?,
                        )?,
                    };
                    filters.push((i, vs));
                }
            }
        }
        let limit = match &select.limit {
            None => None,
            Some(term) => {
                let n = match term {
                    Term::Int(n) => *n,
                    Term::Marker(_) => match value(term, values)? {
                        Some(b) if b.len() == 4 => {
                            i32::from_be_bytes([b[0], b[1], b[2], b[3]]) as i128
                        }
                        _ => return Err(invalid("Invalid LIMIT value")),
                    },
                    _ => return Err(invalid("Invalid LIMIT value")),
                };
                if n <= 0 {
                    return Err(invalid("LIMIT must be strictly positive"));
                }
                Some(n.min(usize::MAX as i128) as usize)
            }
        };
        // Every partition key column bound to one value: the rows of that one token.
        if t.tokens.is_some() && !t.pk.is_empty() {
            let key: Option<Vec<&[u8]>> =
                t.pk.iter()
                    .map(|p| {
                        filters
                            .iter()
                            .find(|(c, vs)| c == p && vs.len() == 1)
                            .map(|(_, vs)| vs[0].as_slice())
                    })
                    .collect();
            if let Some(key) = key {
                let tok = token_of(&key);
                tighten_lo(&mut lower, (tok, true));
                tighten_hi(&mut upper, (tok, true));
            }
        }
        // Cassandra's rule: the minimum token as a bound means "unbounded" on that side.
        let lo = match lower {
            None => 0,
            Some((i64::MIN, _)) => 0,
            Some((v, true)) => t.first_at_or_after(v),
            Some((v, false)) => t.first_after(v),
        };
        let hi = match upper {
            None => t.len(),
            Some((i64::MIN, _)) => t.len(),
            Some((v, true)) => t.first_after(v),
            Some((v, false)) => t.first_at_or_after(v),
        };
        Ok(Bound {
            lo,
            hi: hi.max(lo),
            filters,
            limit,
        })
    }

    fn row_matches(&self, bound: &Bound, i: usize) -> bool {
        if bound.filters.is_empty() {
            return true;
        }
        let cells = self.table.cells(i);
        bound
            .filters
            .iter()
            .all(|(c, vs)| cells[*c].is_some_and(|cell| vs.iter().any(|v| v.as_slice() == cell)))
    }

    fn put_row(&self, out: &mut Vec<u8>, i: usize) {
        if self.identity {
            out.extend_from_slice(self.table.rows_bytes(i, i + 1));
            return;
        }
        let cells = self.table.cells(i);
        for p in &self.proj {
            match p {
                Proj::Column(c) => put_cell(out, cells[*c]),
                Proj::Token => put_cell(out, Some(&self.table.token(i).to_be_bytes())),
            }
        }
    }

    /// Serves one page as a RESULT frame. `paging_state` continues a previous page;
    /// `page_size <= 0` or `None` means everything at once.
    pub fn page(
        &self,
        bound: &Bound,
        stream: i16,
        page_size: Option<i32>,
        paging_state: Option<&[u8]>,
        skip_metadata: bool,
    ) -> Result<Page, CqlError> {
        let t = &self.table;
        let (mut start, served) = match paging_state {
            None => (bound.lo, 0usize),
            Some(ps) => {
                let state = PagingState::decode(ps)
                    .filter(|s| s.table == t.id)
                    .ok_or_else(|| CqlError {
                        code: code::PROTOCOL_ERROR,
                        message: "Invalid value for the paging state".into(),
                    })?;
                (state.next as usize, state.served as usize)
            }
        };
        start = start.clamp(bound.lo, bound.hi);
        let limit_left = bound.limit.map_or(usize::MAX, |l| l.saturating_sub(served));
        let max_rows = match page_size {
            Some(p) if p > 0 => (p as usize).min(limit_left),
            _ => limit_left,
        };
        let mut rows: Vec<usize> = Vec::new();
        let (first, next) = if bound.filters.is_empty() {
            let end = start + max_rows.min(bound.hi - start);
            (start..end, end)
        } else {
            let mut i = start;
            while i < bound.hi && rows.len() < max_rows {
                if self.row_matches(bound, i) {
                    rows.push(i);
                }
                i += 1;
            }
            (0..0, i)
        };
        let count = if bound.filters.is_empty() {
            first.len()
        } else {
            rows.len()
        };
        let served_now = served.saturating_add(count);
        let more = next < bound.hi && served_now < bound.limit.unwrap_or(usize::MAX);
        let body_bytes = if self.identity && bound.filters.is_empty() {
            t.rows_bytes(first.start, first.end).len()
        } else {
            count * 16 * self.proj.len().max(1)
        };
        let mut f = Frame::new(
            stream,
            opcode::RESULT,
            64 + body_bytes + 40 * self.proj.len(),
        );
        f.buf.put_i32(kind::ROWS);
        let state = more.then(|| {
            PagingState {
                table: t.id,
                next: next as u64,
                served: served_now as u64,
            }
            .encode()
        });
        self.put_metadata(&mut f.buf, skip_metadata, state.as_deref());
        f.buf.put_i32(count as i32);
        if bound.filters.is_empty() {
            if self.identity {
                f.buf
                    .extend_from_slice(t.rows_bytes(first.start, first.end));
            } else {
                first.for_each(|i| self.put_row(&mut f.buf, i));
            }
        } else {
            rows.iter().for_each(|&i| self.put_row(&mut f.buf, i));
        }
        Ok(Page {
            frame: f.finish(),
            rows: count,
        })
    }

    /// Rows metadata: flags, column count, paging state, and (unless skipped) the specs.
    pub fn put_metadata(&self, buf: &mut Vec<u8>, skip: bool, paging_state: Option<&[u8]>) {
        let mut flags = 0;
        if skip {
            flags |= 0x0004;
        } else if !self.result_cols.is_empty() {
            flags |= 0x0001;
        }
        if paging_state.is_some() {
            flags |= 0x0002;
        }
        buf.put_i32(flags);
        buf.put_i32(self.result_cols.len() as i32);
        if let Some(ps) = paging_state {
            buf.put_bytes(Some(ps));
        }
        if !skip {
            self.put_specs(buf, &self.result_cols);
        }
    }

    fn put_specs(&self, buf: &mut Vec<u8>, cols: &[(String, CqlType)]) {
        if !cols.is_empty() {
            buf.put_string(&self.table.keyspace);
            buf.put_string(&self.table.name);
        }
        for (name, typ) in cols {
            buf.put_string(name);
            typ.write_option(buf);
        }
    }

    /// A RESULT Prepared frame.
    pub fn prepared_frame(&self, stream: i16, id: &[u8]) -> Vec<u8> {
        let mut f = Frame::new(stream, opcode::RESULT, 256);
        f.buf.put_i32(kind::PREPARED);
        f.buf.put_short_bytes(id);
        f.buf
            .put_i32(if self.markers.is_empty() { 0 } else { 0x0001 });
        f.buf.put_i32(self.markers.len() as i32);
        f.buf.put_i32(self.pk_indexes.len() as i32);
        for i in &self.pk_indexes {
            f.buf.put_u16(*i);
        }
        self.put_specs(&mut f.buf, &self.markers);
        self.put_metadata(&mut f.buf, false, None);
        f.finish()
    }
}

/// A served page.
pub struct Page {
    pub frame: Vec<u8>,
    pub rows: usize,
}

/// The opaque paging state: `'Q'`, the table's id, the next row index and the rows served
/// so far (for LIMIT), big-endian.
struct PagingState {
    table: u64,
    next: u64,
    served: u64,
}

impl PagingState {
    fn encode(&self) -> Vec<u8> {
        let mut b = vec![b'Q'];
        b.extend(self.table.to_be_bytes());
        b.extend(self.next.to_be_bytes());
        b.extend(self.served.to_be_bytes());
        b
    }

    fn decode(b: &[u8]) -> Option<PagingState> {
        if b.len() != 25 || b[0] != b'Q' {
            return None;
        }
        let u = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
        Some(PagingState {
            table: u(1),
            next: u(9),
            served: u(17),
        })
    }
}
