//! Test support for the bounded fuzz harnesses (proptest over byte edits of seed inputs) that
//! every reader of untrusted input has: policy sources, edit replies, scenario files, replay
//! files, LLM reply bodies. One mutation routine, so every harness means the same by "edit".

/// Apply byte edits to `src`. Each edit is (position, kind, byte); the position is taken modulo
/// the current length plus one. Kinds: 0 delete a byte, 1 insert `byte`, 2 replace with
/// `byte`, 3 cut a run of up to `byte % 40` bytes.
pub fn mutate(src: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut bytes = src.to_vec();
    for &(at, kind, b) in edits {
        let i = at % (bytes.len() + 1);
        match kind % 4 {
            0 => {
                if i < bytes.len() {
                    bytes.remove(i);
                }
            }
            1 => bytes.insert(i, b),
            2 => {
                if i < bytes.len() {
                    bytes[i] = b;
                }
            }
            _ => {
                let end = (i + usize::from(b % 40)).min(bytes.len());
                bytes.drain(i..end);
            }
        }
    }
    bytes
}

/// Put `value` in place of the `k`-th number of `text` (text unchanged when it has fewer).
pub fn replace_number(text: &str, k: usize, value: &str) -> String {
    let mut out = String::new();
    let mut seen = 0;
    let mut rest = text;
    while let Some(i) = rest.find(|c: char| c.is_ascii_digit()) {
        let end = rest[i..]
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-'))
            .map_or(rest.len(), |e| i + e);
        out.push_str(&rest[..i]);
        out.push_str(if seen == k { value } else { &rest[i..end] });
        seen += 1;
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Values that break naive numeric code, as TOML/CSV/JSON text.
pub const HOSTILE_NUMBERS: &[&str] = &[
    "nan",
    "inf",
    "-inf",
    "1e308",
    "-1e308",
    "1e7",
    "0",
    "-1",
    "4294967295",
    "18446744073709551615",
    "9223372036854775807",
    "1e-320",
];

#[cfg(test)]
mod tests {
    #[test]
    fn edits_apply_in_order_and_never_index_out_of_bounds() {
        assert_eq!(super::mutate(b"abc", &[(1, 0, 0)]), b"ac");
        assert_eq!(super::mutate(b"abc", &[(3, 1, b'd')]), b"abcd");
        assert_eq!(super::mutate(b"abc", &[(0, 2, b'x')]), b"xbc");
        // usize::MAX % 4 = 3: a cut at the end removes nothing.
        assert_eq!(super::mutate(b"abc", &[(usize::MAX, 3, 255)]), b"abc");
        assert_eq!(super::mutate(b"abcdef", &[(1, 3, 3)]), b"aef");
        assert!(super::mutate(b"", &[(5, 0, 0), (5, 2, 1), (5, 3, 9)]).is_empty());
    }
}
