//! Byte-level scanning of one row's cells: where each cell ends, and what a column needs to
//! know about it (a string's escapes, whether it is all ASCII). Used by [`super::decode`],
//! which reads each cell's bytes straight into its column.
//!
//! Every scanner takes the buffer and a start, and answers `None` when the cell does not end
//! inside the buffer: either more of the body is needed, or (when the buffer is a whole row)
//! the row is malformed. None of them panics on any bytes.

/// A string cell's extent and shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrCell {
    /// One past the closing quote.
    pub end: usize,
    /// The contents hold a backslash escape.
    pub escaped: bool,
    /// The contents are all ASCII (so valid UTF-8 without a check).
    pub ascii: bool,
    /// The contents hold a raw control character (below 0x20), which JSON forbids.
    pub control: bool,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// A mask of the bytes of `word` equal to zero, exact up to and including the lowest one
/// (bytes above it may be flagged falsely, which callers never look at).
#[inline]
fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(ONES) & !word & HIGHS
}

/// A mask of the bytes of `word` below 0x20, exact up to and including the lowest one.
#[inline]
fn control_bytes(word: u64) -> u64 {
    word.wrapping_sub(ONES * 0x20) & !word & HIGHS
}

/// Scans the JSON string starting at `buf[start]` (a `"`), eight bytes at a time.
#[inline]
pub fn string_end(buf: &[u8], start: usize) -> Option<StrCell> {
    let mut i = start + 1;
    let mut escaped = false;
    let mut high = 0u64;
    let mut control = 0u64;
    loop {
        while let Some(chunk) = buf.get(i..i + 8) {
            let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            let stops =
                zero_bytes(word ^ (ONES * b'"' as u64)) | zero_bytes(word ^ (ONES * b'\\' as u64));
            if stops == 0 {
                high |= word;
                control |= control_bytes(word);
                i += 8;
                continue;
            }
            let k = (stops.trailing_zeros() / 8) as usize;
            // Only the bytes before the stop belong to the contents scanned so far.
            let before = (1u64 << (k * 8)) - 1;
            high |= word & before;
            control |= control_bytes(word) & before;
            i += k;
            break;
        }
        // Fewer than eight bytes left, or `i` is at a quote or backslash.
        loop {
            let b = *buf.get(i)?;
            match b {
                b'"' => {
                    return Some(StrCell {
                        end: i + 1,
                        escaped,
                        ascii: high & HIGHS == 0,
                        control: control != 0,
                    });
                }
                b'\\' => {
                    escaped = true;
                    // The escaped byte is skipped whatever it is; the unescaper checks it.
                    high |= *buf.get(i + 1)? as u64;
                    i += 2;
                    break;
                }
                _ => {
                    high |= b as u64;
                    control |= (b < 0x20) as u64;
                    i += 1;
                    if buf.len() >= i + 8 {
                        break;
                    }
                }
            }
        }
    }
}

/// The end of a scalar that is not a string (a number, `true`, `null`): the first `,`, `]`,
/// `}` or space after it. `None` if the buffer ends first.
#[inline]
pub fn scalar_end(buf: &[u8], start: usize) -> Option<usize> {
    let n = buf
        .get(start..)?
        .iter()
        .position(|&c| matches!(c, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t'))?;
    Some(start + n)
}

/// An array or object cell's extent, and whether it has whitespace outside its strings (then
/// it is not compact, and is re-written before it is stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NestedCell {
    /// One past the closing bracket.
    pub end: usize,
    /// Whitespace outside strings.
    pub spaced: bool,
}

/// Scans the array or object starting at `buf[start]`, balancing brackets outside strings.
pub fn nested_end(buf: &[u8], start: usize) -> Option<NestedCell> {
    let mut depth = 0u32;
    let mut spaced = false;
    let mut i = start;
    while let Some(&b) = buf.get(i) {
        match b {
            b'"' => {
                i = string_end(buf, i)?.end;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(NestedCell { end: i + 1, spaced });
                }
            }
            b' ' | b'\n' | b'\r' | b'\t' => spaced = true,
            _ => {}
        }
        i += 1;
    }
    None
}

/// What [`check_nested`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nested {
    /// A valid JSON array or object.
    Valid(NestedCell),
    /// Not valid JSON (the bracket scan of [`nested_end`] still finds its extent).
    Invalid,
    /// The buffer ends inside it.
    Incomplete,
}

/// The deepest nesting [`check_nested`] follows itself; a deeper value is checked by
/// serde_json's skipping, which has no depth limit.
const MAX_DEPTH: usize = 128;

/// Checks that the array or object at `buf[start]` is valid JSON (RFC 8259: strings with
/// valid escapes, no control characters and valid UTF-8; numbers by the grammar; the three
/// literals), and finds where it ends, in the same pass.
pub fn check_nested(buf: &[u8], start: usize) -> Nested {
    match check_nested_inner(buf, start) {
        Ok(cell) => Nested::Valid(cell),
        Err(fault) => fault,
    }
}

fn check_nested_inner(buf: &[u8], start: usize) -> Result<NestedCell, Nested> {
    let at = |i: usize| buf.get(i).copied().ok_or(Nested::Incomplete);
    // The open brackets, innermost last.
    let mut stack = [0u8; MAX_DEPTH];
    let mut depth = 0usize;
    let mut spaced = false;
    let mut i = start;
    loop {
        // A value starts at `i` (after any space).
        i = skip_ws_noting(buf, i, &mut spaced);
        match at(i)? {
            open @ (b'{' | b'[') => {
                if depth == MAX_DEPTH {
                    return check_deep(buf, start);
                }
                stack[depth] = open;
                depth += 1;
                i = skip_ws_noting(buf, i + 1, &mut spaced);
                let close = if open == b'{' { b'}' } else { b']' };
                if at(i)? == close {
                    depth -= 1;
                    i += 1;
                } else {
                    if open == b'{' {
                        i = key(buf, i, &mut spaced)?;
                    }
                    continue;
                }
            }
            b'"' => i = valid_string(buf, i)?,
            b'-' | b'0'..=b'9' => i = number_end(buf, i, false)?,
            b't' => i = literal(buf, i, b"true")?,
            b'f' => i = literal(buf, i, b"false")?,
            b'n' => i = literal(buf, i, b"null")?,
            _ => return Err(Nested::Invalid),
        }
        // After a value: close brackets, or a comma and the next value.
        loop {
            if depth == 0 {
                return Ok(NestedCell { end: i, spaced });
            }
            i = skip_ws_noting(buf, i, &mut spaced);
            let top = stack[depth - 1];
            match (at(i)?, top) {
                (b',', b'{') => {
                    i = key(buf, i + 1, &mut spaced)?;
                    break;
                }
                (b',', _) => {
                    i += 1;
                    break;
                }
                (b'}', b'{') | (b']', b'[') => {
                    depth -= 1;
                    i += 1;
                }
                _ => return Err(Nested::Invalid),
            }
        }
    }
}

/// [`check_nested`] for a value nested deeper than [`MAX_DEPTH`]: its extent by bracket
/// balance, then serde_json's check (plus UTF-8, which serde_json's skipping does not check).
fn check_deep(buf: &[u8], start: usize) -> Result<NestedCell, Nested> {
    let cell = nested_end(buf, start).ok_or(Nested::Incomplete)?;
    let text = &buf[start..cell.end];
    let valid = std::str::from_utf8(text).is_ok()
        && serde_json::from_slice::<serde::de::IgnoredAny>(text).is_ok();
    if valid {
        Ok(cell)
    } else {
        Err(Nested::Invalid)
    }
}

/// [`skip_ws`], noting in `spaced` whether it skipped anything.
fn skip_ws_noting(buf: &[u8], i: usize, spaced: &mut bool) -> usize {
    let j = skip_ws(buf, i);
    *spaced |= j != i;
    j
}

/// An object's `"key" :` from `i` (spaces allowed around); the offset after the colon.
fn key(buf: &[u8], i: usize, spaced: &mut bool) -> Result<usize, Nested> {
    let i = skip_ws_noting(buf, i, spaced);
    if *buf.get(i).ok_or(Nested::Incomplete)? != b'"' {
        return Err(Nested::Invalid);
    }
    let i = skip_ws_noting(buf, valid_string(buf, i)?, spaced);
    match buf.get(i) {
        Some(b':') => Ok(i + 1),
        Some(_) => Err(Nested::Invalid),
        None => Err(Nested::Incomplete),
    }
}

/// A valid JSON string at `buf[i]`; the offset after it.
fn valid_string(buf: &[u8], i: usize) -> Result<usize, Nested> {
    let s = string_end(buf, i).ok_or(Nested::Incomplete)?;
    let inner = &buf[i + 1..s.end - 1];
    let valid = !s.control
        && (s.ascii || std::str::from_utf8(inner).is_ok())
        && (!s.escaped || valid_escapes(inner));
    if valid {
        Ok(s.end)
    } else {
        Err(Nested::Invalid)
    }
}

/// Whether every backslash in a string's contents starts a valid escape.
fn valid_escapes(inner: &[u8]) -> bool {
    let mut i = 0;
    while let Some(k) = memchr::memchr(b'\\', &inner[i..]) {
        i += k + 1;
        match inner.get(i) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 1,
            Some(b'u') => {
                let hex = inner.get(i + 1..i + 5);
                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return false;
                }
                i += 5;
            }
            _ => return false,
        }
    }
    true
}

/// A literal (`true`, `false`, `null`) at `buf[i]`; the offset after it.
fn literal(buf: &[u8], i: usize, word: &[u8]) -> Result<usize, Nested> {
    match buf.get(i..i + word.len()) {
        Some(w) if w == word => Ok(i + word.len()),
        Some(_) => Err(Nested::Invalid),
        None if word.starts_with(&buf[i..]) => Err(Nested::Incomplete),
        None => Err(Nested::Invalid),
    }
}

/// A JSON number at `buf[i]` by the grammar `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`; the
/// offset after it. Unless `whole` (the buffer is the number), a number that runs to the end
/// of the buffer is incomplete: more digits may follow.
fn number_end(buf: &[u8], mut i: usize, whole: bool) -> Result<usize, Nested> {
    let at = |i: usize| match buf.get(i) {
        Some(&b) => Ok(b),
        None if whole => Ok(b' '),
        None => Err(Nested::Incomplete),
    };
    let digits = |mut i: usize| -> Result<(usize, usize), Nested> {
        let from = i;
        while at(i)?.is_ascii_digit() {
            i += 1;
        }
        Ok((i, i - from))
    };
    if at(i)? == b'-' {
        i += 1;
    }
    match at(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => i = digits(i)?.0,
        _ => return Err(Nested::Invalid),
    }
    if at(i)? == b'.' {
        let (end, n) = digits(i + 1)?;
        if n == 0 {
            return Err(Nested::Invalid);
        }
        i = end;
    }
    if matches!(at(i)?, b'e' | b'E') {
        i += 1;
        if matches!(at(i)?, b'+' | b'-') {
            i += 1;
        }
        let (end, n) = digits(i)?;
        if n == 0 {
            return Err(Nested::Invalid);
        }
        i = end;
    }
    Ok(i)
}

/// Whether a whole scalar cell (not a string) is a JSON number or literal.
pub fn valid_scalar(cell: &[u8]) -> bool {
    match cell {
        b"true" | b"false" | b"null" => true,
        [b'-' | b'0'..=b'9', ..] => number_end(cell, 0, true) == Ok(cell.len()),
        _ => false,
    }
}

/// Skips JSON whitespace from `i`.
#[inline]
pub fn skip_ws(buf: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = buf.get(i) {
        i += 1;
    }
    i
}

/// A JSON integer's value (no fraction, no exponent), or `None`.
#[inline]
pub fn integer(cell: &[u8]) -> Option<i64> {
    let (negative, digits) = match cell.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, cell),
    };
    // Eighteen digits cannot overflow an i64; longer ones take the checked path.
    if digits.is_empty() || digits.len() > 18 {
        return long_integer(cell, negative, digits);
    }
    let mut v: i64 = 0;
    for &d in digits {
        let d = d.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + d as i64;
    }
    Some(if negative { -v } else { v })
}

/// [`integer`] for 19 digits and more (or none), where i64 can overflow: `cell` split into
/// its sign and `digits`.
fn long_integer(cell: &[u8], negative: bool, digits: &[u8]) -> Option<i64> {
    if digits.is_empty() || digits.len() > 19 {
        return std::str::from_utf8(cell).ok()?.parse().ok();
    }
    // Accumulated on the negative side, which reaches i64::MIN.
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_sub((d - b'0') as i64)?;
    }
    if negative { Some(v) } else { v.checked_neg() }
}

/// Powers of ten that f64 holds exactly.
const EXACT_POWERS: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A JSON number's value, correctly rounded.
///
/// `[-]digits[.digits]` with at most 15 digits in all is one exact integer divided by one
/// exact power of ten, which IEEE division rounds correctly (Clinger's fast path); anything
/// else goes to the standard library's parser.
#[inline]
pub fn number(cell: &[u8]) -> Option<f64> {
    let (negative, rest) = match cell.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, cell),
    };
    // The digits from `i` on, appended to `mantissa` (wrapping: more than 15 digits are not
    // used); how many there were.
    let run = |mut i: usize, mantissa: &mut u64| -> usize {
        let from = i;
        while let Some(d) = rest
            .get(i)
            .map(|b| b.wrapping_sub(b'0'))
            .filter(|d| *d <= 9)
        {
            *mantissa = mantissa.wrapping_mul(10).wrapping_add(d as u64);
            i += 1;
        }
        i - from
    };
    let mut mantissa: u64 = 0;
    let whole = run(0, &mut mantissa);
    let mut i = whole;
    let mut fraction = 0;
    if rest.get(i) == Some(&b'.') {
        fraction = run(i + 1, &mut mantissa);
        i += 1 + fraction;
    }
    let count = whole + fraction;
    let integral = whole > 0;
    if i == rest.len() && integral && count <= 15 && (fraction > 0 || !rest.contains(&b'.')) {
        let v = mantissa as f64 / EXACT_POWERS[fraction];
        return Some(if negative { -v } else { v });
    }
    match cell.first()? {
        b'-' | b'0'..=b'9' => std::str::from_utf8(cell).ok()?.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_end_at_their_unescaped_quote_at_any_length() {
        for len in 0..40 {
            let body = "x".repeat(len);
            let s = format!("\"{body}\",1");
            assert_eq!(
                string_end(s.as_bytes(), 0),
                Some(StrCell {
                    end: len + 2,
                    escaped: false,
                    ascii: true,
                    control: false,
                }),
                "{len}"
            );
            // A quote after a backslash does not end it, wherever the backslash falls.
            let s = format!("\"{body}\\\"y\"");
            let cell = string_end(s.as_bytes(), 0).unwrap();
            assert_eq!((cell.end, cell.escaped), (s.len(), true), "{len}");
            // Cut anywhere before the closing quote, the string is unfinished.
            for cut in 0..s.len() {
                assert_eq!(string_end(&s.as_bytes()[..cut], 0), None, "{len} {cut}");
            }
        }
        let s = "\"héllo wörld, a longer one\"]".as_bytes();
        let cell = string_end(s, 0).unwrap();
        assert!(!cell.ascii && !cell.escaped);
        assert_eq!(cell.end, s.len() - 1);
        // A non-ASCII or control byte after the closing quote does not count.
        let s = "\"abc\",\"é\x01\"".as_bytes();
        let cell = string_end(s, 0).unwrap();
        assert!(cell.ascii && !cell.control);
        // A control byte is seen wherever it falls.
        for at in 1..20 {
            let mut s = vec![b'"'; 22];
            s[1..21].fill(b'a');
            s[at] = b'\t';
            assert!(string_end(&s, 0).unwrap().control, "{at}");
        }
    }

    #[test]
    fn nested_values_balance_brackets_outside_strings() {
        let s = br#"{"a":[1,"]}"],"b":{}},1"#;
        let cell = nested_end(s, 0).unwrap();
        assert_eq!(cell.end, s.len() - 2);
        assert!(!cell.spaced);
        assert!(nested_end(br#"{"a": 1}"#, 0).unwrap().spaced);
        assert_eq!(nested_end(br#"{"a":[1}"#, 0), None);
        assert_eq!(nested_end(b"]", 0), None);
    }

    /// The checker agrees with serde_json (plus a UTF-8 check) on what is JSON, and finds the
    /// same end.
    #[test]
    fn the_json_checker_agrees_with_serde_json() {
        let cases: &[&[u8]] = &[
            br#"{"i":0}"#,
            br#"{"a":[1,-2.5e+3,0.0,true,false,null,"x\"\u00e9\n"],"b":{}}"#,
            br#"[]"#,
            br#"[[[[]]]]"#,
            br#"{ "a" : [ 1 , 2 ] }"#,
            "[\"héllo\"]".as_bytes(),
            br#"[01]"#,
            br#"[1.]"#,
            br#"[.5]"#,
            br#"[1e]"#,
            br#"[-]"#,
            br#"[+1]"#,
            br#"[tru]"#,
            br#"[nul]"#,
            br#"[1,]"#,
            br#"[,1]"#,
            br#"{"a"}"#,
            br#"{"a":}"#,
            br#"{"a":1,}"#,
            br#"{1:2}"#,
            br#"["\x"]"#,
            br#"["\u12g4"]"#,
            b"[\"a\x01b\"]",
            b"[\"\xff\"]",
            br#"[}"#,
            br#"{]"#,
            br#"[1 2]"#,
            br#"["a" "b"]"#,
        ];
        for &case in cases {
            // serde_json's skipping does not check UTF-8 (the text is checked apart).
            let serde_ok = serde_json::from_slice::<serde::de::IgnoredAny>(case).is_ok()
                && std::str::from_utf8(case).is_ok();
            let mut padded = case.to_vec();
            padded.extend_from_slice(b",1");
            let ours = check_nested(&padded, 0);
            match ours {
                Nested::Valid(cell) => {
                    assert!(serde_ok, "{}", String::from_utf8_lossy(case));
                    assert_eq!(cell.end, case.len(), "{}", String::from_utf8_lossy(case));
                }
                _ => assert!(!serde_ok, "{}: {ours:?}", String::from_utf8_lossy(case)),
            }
            // Cut short, it is never valid.
            for cut in 0..case.len() {
                assert!(
                    !matches!(check_nested(&case[..cut], 0), Nested::Valid(_)),
                    "{} cut at {cut}",
                    String::from_utf8_lossy(case)
                );
            }
        }
        // Nesting deeper than the checker follows is checked by serde_json.
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(
            check_nested(deep.as_bytes(), 0),
            Nested::Valid(NestedCell {
                end: 400,
                spaced: false
            })
        );
        let bad = format!("{}1,{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(check_nested(bad.as_bytes(), 0), Nested::Invalid);
        assert_eq!(check_nested(&deep.as_bytes()[..399], 0), Nested::Incomplete);
        assert_eq!(check_nested(b"[1, 2", 0), Nested::Incomplete);
        assert!(valid_scalar(b"-1.5E3") && valid_scalar(b"true") && !valid_scalar(b"01"));
        assert!(!valid_scalar(b"1.") && !valid_scalar(b"tru"));
    }

    #[test]
    fn scalars_and_integers() {
        assert_eq!(scalar_end(b"123,", 0), Some(3));
        assert_eq!(scalar_end(b"123", 0), None);
        assert_eq!(scalar_end(b"true]", 0), Some(4));
        assert_eq!(integer(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(integer(b"9223372036854775808"), None);
        assert_eq!(integer(b"1.0"), None);
        assert_eq!(number(b"1.5e3"), Some(1500.0));
        assert_eq!(number(b"x"), None);
        // The fast path and the standard parser agree, sign of zero included.
        for text in [
            "0",
            "-0",
            "0.0",
            "-0.0",
            "0.5",
            "-2.25",
            "123456789012345",
            "1234567890.12345",
            "0.000000000000001",
            "9007199254740993",
            "1234567890123456",
            "0.1",
            "0.3",
            "3.14159",
            "-99999.99999",
            "1e5",
            "1.",
            ".5",
            "-",
            "1.2.3",
            "12a",
        ] {
            let ours = number(text.as_bytes());
            let std = text.parse::<f64>().ok().filter(|_| {
                text.as_bytes()[text.starts_with('-') as usize..]
                    .first()
                    .is_some_and(u8::is_ascii_digit)
            });
            assert_eq!(ours.map(f64::to_bits), std.map(f64::to_bits), "{text}");
        }
        assert_eq!(
            integer(b"123456789012345678"),
            Some(123_456_789_012_345_678)
        );
        assert_eq!(integer(b"-5"), Some(-5));
        assert_eq!(integer(b"1-"), None);
        assert_eq!(integer(b"-"), None);
    }
}
