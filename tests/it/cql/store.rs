//! Table storage and the token ring.
//!
//! A table's rows are stored pre-encoded as they appear in a RESULT Rows body (`[bytes]` per
//! cell, rows concatenated), sorted by (Murmur3 token of the partition key, insertion order),
//! so a page of `SELECT *` over a token range is one `memcpy` of a contiguous byte range.

use std::sync::atomic::{AtomicU64, Ordering};

use scylla::routing::partitioner::{Murmur3Partitioner, Partitioner};

use super::types::{Column, ColumnKind};

static NEXT_TABLE_ID: AtomicU64 = AtomicU64::new(1);

/// A table's rows in wire encoding.
pub struct TableData {
    /// Unique per built table (paging states name it).
    pub id: u64,
    pub keyspace: String,
    pub name: String,
    pub columns: Vec<Column>,
    /// Indexes of the partition key columns, in key order.
    pub pk: Vec<usize>,
    /// Each row's token, ascending; `None` for system tables (rows kept in the given order).
    pub tokens: Option<Vec<i64>>,
    /// Row `i` is `data[offsets[i]..offsets[i + 1]]`.
    pub offsets: Vec<usize>,
    pub data: Vec<u8>,
}

impl TableData {
    /// Encodes `rows`; with `tokens`, sorts them by partition key token (stable).
    pub fn build(
        keyspace: &str,
        name: &str,
        columns: Vec<Column>,
        rows: Vec<Vec<Option<Vec<u8>>>>,
        tokens: bool,
    ) -> TableData {
        let pk: Vec<usize> = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind == ColumnKind::PartitionKey)
            .map(|(i, _)| i)
            .collect();
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(
                row.len(),
                columns.len(),
                "{keyspace}.{name}: row {i} has {} cells for {} columns",
                row.len(),
                columns.len()
            );
        }
        let mut order: Vec<(i64, usize)> = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let t = if tokens {
                let cells: Vec<&[u8]> = pk
                    .iter()
                    .map(|&c| {
                        row[c].as_deref().unwrap_or_else(|| {
                            panic!("{keyspace}.{name}: row {i} has a null partition key")
                        })
                    })
                    .collect();
                token_of(&cells)
            } else {
                0
            };
            order.push((t, i));
        }
        if tokens {
            order.sort();
        }
        let size: usize = rows
            .iter()
            .flatten()
            .map(|c| 4 + c.as_ref().map_or(0, Vec::len))
            .sum();
        let mut data = Vec::with_capacity(size);
        let mut offsets = Vec::with_capacity(rows.len() + 1);
        for &(_, i) in &order {
            offsets.push(data.len());
            for cell in &rows[i] {
                put_cell(&mut data, cell.as_deref());
            }
        }
        offsets.push(data.len());
        TableData {
            id: NEXT_TABLE_ID.fetch_add(1, Ordering::Relaxed),
            keyspace: keyspace.to_string(),
            name: name.to_string(),
            columns,
            pk,
            tokens: tokens.then(|| order.iter().map(|&(t, _)| t).collect()),
            offsets,
            data,
        }
    }

    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The encoded rows `[from, to)`.
    pub fn rows_bytes(&self, from: usize, to: usize) -> &[u8] {
        &self.data[self.offsets[from]..self.offsets[to]]
    }

    /// The cells of row `i` (`None` = null).
    pub fn cells(&self, i: usize) -> Vec<Option<&[u8]>> {
        let mut row = self.rows_bytes(i, i + 1);
        let mut out = Vec::with_capacity(self.columns.len());
        while row.len() >= 4 {
            let n = i32::from_be_bytes([row[0], row[1], row[2], row[3]]);
            row = &row[4..];
            if n < 0 {
                out.push(None);
            } else {
                let (cell, rest) = row.split_at(n as usize);
                out.push(Some(cell));
                row = rest;
            }
        }
        out
    }

    /// The first row whose token is `>= t` (all rows if there are no tokens).
    pub fn first_at_or_after(&self, t: i64) -> usize {
        match &self.tokens {
            Some(tokens) => tokens.partition_point(|&x| x < t),
            None => 0,
        }
    }

    /// The first row whose token is `> t`.
    pub fn first_after(&self, t: i64) -> usize {
        match &self.tokens {
            Some(tokens) => tokens.partition_point(|&x| x <= t),
            None => self.len(),
        }
    }

    pub fn token(&self, i: usize) -> i64 {
        self.tokens.as_ref().map_or(0, |t| t[i])
    }
}

/// Appends a [bytes] cell.
pub fn put_cell(out: &mut Vec<u8>, cell: Option<&[u8]>) {
    match cell {
        None => out.extend_from_slice(&(-1i32).to_be_bytes()),
        Some(b) => {
            out.extend_from_slice(&(b.len() as i32).to_be_bytes());
            out.extend_from_slice(b);
        }
    }
}

/// The Murmur3Partitioner token of a partition key given as its components' cell bytes: one
/// component is hashed as is, several as Cassandra's composite
/// (`[u16 length][bytes][0x00]` each).
pub fn token_of(components: &[&[u8]]) -> i64 {
    let key = if components.len() == 1 {
        components[0].to_vec()
    } else {
        let mut k = Vec::new();
        for c in components {
            k.extend_from_slice(&(c.len() as u16).to_be_bytes());
            k.extend_from_slice(c);
            k.push(0);
        }
        k
    };
    Murmur3Partitioner.hash_one(&key).value()
}

/// `nodes × vnodes` tokens spread evenly over the ring, interleaved between the nodes
/// (token `k` belongs to node `k % nodes`); the last token is `i64::MAX`.
pub fn ring(nodes: usize, vnodes: usize) -> Vec<(i64, usize)> {
    let total = (nodes * vnodes) as i128;
    (0..total)
        .map(|k| {
            let t = i64::MIN as i128 + ((k + 1) << 64) / total - 1;
            (t as i64, (k as usize) % nodes)
        })
        .collect()
}
