//! The protobuf wire format, schema-free: a message is a list of (field number, value) in the
//! order they came, and writing the list back gives the same bytes. Enough to edit an ONNX
//! file's graph while passing every field we do not touch through unchanged.

use anyhow::{bail, Context};

#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Varint(u64),
    Fixed64([u8; 8]),
    Bytes(&'a [u8]),
    Fixed32([u8; 4]),
}

pub type Field<'a> = (u32, Value<'a>);

fn varint(data: &[u8], pos: &mut usize) -> anyhow::Result<u64> {
    let mut out = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *data.get(*pos).context("truncated varint")?;
        *pos += 1;
        out |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(out);
        }
    }
    bail!("varint longer than 10 bytes")
}

fn take<'a>(data: &'a [u8], pos: &mut usize, n: usize) -> anyhow::Result<&'a [u8]> {
    let end = pos.checked_add(n).filter(|&e| e <= data.len());
    let end = end.context("field runs past the end of its message")?;
    let out = &data[*pos..end];
    *pos = end;
    Ok(out)
}

pub fn parse(data: &[u8]) -> anyhow::Result<Vec<Field<'_>>> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < data.len() {
        let key = varint(data, &mut pos)?;
        let field = u32::try_from(key >> 3).context("field number out of range")?;
        let value = match key & 7 {
            0 => Value::Varint(varint(data, &mut pos)?),
            1 => Value::Fixed64(take(data, &mut pos, 8)?.try_into()?),
            2 => {
                let n = usize::try_from(varint(data, &mut pos)?)?;
                Value::Bytes(take(data, &mut pos, n)?)
            }
            5 => Value::Fixed32(take(data, &mut pos, 4)?.try_into()?),
            w => bail!("unsupported wire type {w}"),
        };
        out.push((field, value));
    }
    Ok(out)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub fn write(fields: &[Field<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (number, value) in fields {
        let wire = match value {
            Value::Varint(_) => 0,
            Value::Fixed64(_) => 1,
            Value::Bytes(_) => 2,
            Value::Fixed32(_) => 5,
        };
        put_varint(&mut out, (u64::from(*number) << 3) | wire);
        match value {
            Value::Varint(v) => put_varint(&mut out, *v),
            Value::Fixed64(b) => out.extend_from_slice(b),
            Value::Bytes(b) => {
                put_varint(&mut out, b.len() as u64);
                out.extend_from_slice(b);
            }
            Value::Fixed32(b) => out.extend_from_slice(b),
        }
    }
    out
}

/// A string field (the first with that number).
pub fn string<'a>(fields: &[Field<'a>], number: u32) -> Option<&'a str> {
    strings(fields, number).next()
}

/// Every string of a repeated string field.
pub fn strings<'a, 'f>(fields: &'f [Field<'a>], number: u32) -> impl Iterator<Item = &'a str> + 'f {
    fields.iter().filter_map(move |(n, v)| match v {
        Value::Bytes(b) if *n == number => std::str::from_utf8(b).ok(),
        _ => None,
    })
}

/// Every integer of a repeated integer field, packed or not.
pub fn varints(fields: &[Field<'_>], number: u32) -> anyhow::Result<Vec<u64>> {
    let mut out = Vec::new();
    for (n, v) in fields {
        if *n != number {
            continue;
        }
        match v {
            Value::Varint(x) => out.push(*x),
            Value::Bytes(b) => {
                let mut pos = 0;
                while pos < b.len() {
                    out.push(varint(b, &mut pos)?);
                }
            }
            _ => bail!("field {number} is not an integer"),
        }
    }
    Ok(out)
}

/// Packs integers as one length-delimited value (how proto3 writes repeated scalars).
pub fn packed_varints(values: &[u64]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        put_varint(&mut out, *v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writing_what_was_parsed_gives_the_same_bytes() {
        let fields = vec![
            (1, Value::Varint(300)),
            (2, Value::Bytes(b"hello")),
            (3, Value::Fixed32([1, 2, 3, 4])),
            (4, Value::Fixed64([9; 8])),
            (1, Value::Varint(u64::MAX)),
        ];
        let bytes = write(&fields);
        assert_eq!(parse(&bytes).unwrap(), fields);
        assert_eq!(write(&parse(&bytes).unwrap()), bytes);
    }

    #[test]
    fn packed_and_unpacked_integers_read_alike() {
        let packed = packed_varints(&[3, 150, 7]);
        let fields = vec![(1, Value::Bytes(&packed)), (1, Value::Varint(8))];
        assert_eq!(varints(&fields, 1).unwrap(), vec![3, 150, 7, 8]);
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        let bytes = write(&[(2, Value::Bytes(b"hello world"))]);
        for cut in 0..bytes.len() {
            let _ = parse(&bytes[..cut]);
        }
        assert!(parse(&bytes[..bytes.len() - 1]).is_err());
        assert!(parse(&[0xff; 11]).is_err());
    }
}
