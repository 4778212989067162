//! Protocol Buffers' wire format, as far as Antigravity's blobs need it: a
//! message split into its fields, without a schema. Antigravity's `.proto`
//! files are not public; the field numbers read are in README.md.
//!
//! Strict as ccusage is: a truncated value, a varint longer than ten bytes, a
//! field number 0 or a group (wire types 3 and 4) make the whole message
//! unreadable.

/// A field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    Varint(u64),
    /// Length-delimited: a string, bytes or an embedded message.
    Bytes(&'a [u8]),
    /// A fixed 32- or 64-bit value (not read).
    Fixed,
}

/// The fields of one message, in the order written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message<'a> {
    fields: Vec<(u32, Value<'a>)>,
}

/// Why a message could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

fn varint(b: &[u8], at: &mut usize) -> Result<u64, Malformed> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let byte = *b.get(*at).ok_or(Malformed)?;
        *at += 1;
        let payload = u64::from(byte & 0x7f);
        if i == 9 && payload > 1 {
            return Err(Malformed);
        }
        v |= payload << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(Malformed)
}

fn take<'a>(b: &'a [u8], at: &mut usize, len: u64) -> Result<&'a [u8], Malformed> {
    let len = usize::try_from(len).map_err(|_| Malformed)?;
    let end = at.checked_add(len).filter(|e| *e <= b.len()).ok_or(Malformed)?;
    let out = &b[*at..end];
    *at = end;
    Ok(out)
}

impl<'a> Message<'a> {
    /// Splits `b` into its fields.
    pub fn parse(b: &'a [u8]) -> Result<Message<'a>, Malformed> {
        let mut fields = Vec::new();
        let mut at = 0;
        while at < b.len() {
            let key = varint(b, &mut at)?;
            let number = u32::try_from(key >> 3).map_err(|_| Malformed)?;
            if number == 0 {
                return Err(Malformed);
            }
            let value = match key & 7 {
                0 => Value::Varint(varint(b, &mut at)?),
                1 => {
                    take(b, &mut at, 8)?;
                    Value::Fixed
                }
                2 => {
                    let len = varint(b, &mut at)?;
                    Value::Bytes(take(b, &mut at, len)?)
                }
                5 => {
                    take(b, &mut at, 4)?;
                    Value::Fixed
                }
                _ => return Err(Malformed),
            };
            fields.push((number, value));
        }
        Ok(Message { fields })
    }

    /// The varint field `n`: the last one written, as Protocol Buffers reads
    /// a scalar written twice.
    pub fn varint(&self, n: u32) -> Option<u64> {
        self.fields.iter().rev().find_map(|(f, v)| match v {
            Value::Varint(x) if *f == n => Some(*x),
            _ => None,
        })
    }

    /// The length-delimited field `n` (an embedded message): the first one.
    pub fn bytes(&self, n: u32) -> Option<&'a [u8]> {
        self.fields.iter().find_map(|(f, v)| match v {
            Value::Bytes(x) if *f == n => Some(*x),
            _ => None,
        })
    }

    /// Every length-delimited field `n` (a repeated message), in order.
    pub fn all_bytes(&self, n: u32) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.fields.iter().filter_map(move |(f, v)| match v {
            Value::Bytes(x) if *f == n => Some(*x),
            _ => None,
        })
    }

    /// The string field `n`: the last one written, if it is UTF-8 and not
    /// blank.
    pub fn text(&self, n: u32) -> Option<&'a str> {
        let last = self.fields.iter().rev().find_map(|(f, v)| match v {
            Value::Bytes(x) if *f == n => Some(*x),
            _ => None,
        })?;
        std::str::from_utf8(last).ok().filter(|s| !s.trim().is_empty())
    }

    /// The embedded message `n`, parsed; `Ok(None)` when there is none.
    pub fn message(&self, n: u32) -> Result<Option<Message<'a>>, Malformed> {
        self.bytes(n).map(Message::parse).transpose()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The encoders the tests build blobs with.
    pub(crate) fn key(n: u32, wire: u64) -> Vec<u8> {
        enc(u64::from(n) << 3 | wire)
    }

    pub(crate) fn enc(mut v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    }

    pub(crate) fn num(n: u32, v: u64) -> Vec<u8> {
        [key(n, 0), enc(v)].concat()
    }

    pub(crate) fn len(n: u32, b: &[u8]) -> Vec<u8> {
        [key(n, 2), enc(b.len() as u64), b.to_vec()].concat()
    }

    #[test]
    fn fields_in_their_kinds() {
        let b = [
            num(2, 300),
            len(7, b"m-1"),
            key(3, 1),
            vec![0; 8],
            key(4, 5),
            vec![0; 4],
            num(2, 301),
            len(9, &num(1, 5)),
            len(9, &num(1, 6)),
            len(12, b"  "),
        ]
        .concat();
        let m = Message::parse(&b).unwrap();
        assert_eq!(m.varint(2), Some(301), "the last of a scalar written twice");
        assert_eq!(m.text(7), Some("m-1"));
        assert_eq!(m.message(9).unwrap().unwrap().varint(1), Some(5), "the first embedded message");
        assert_eq!(m.all_bytes(9).count(), 2);
        assert_eq!(m.text(12), None, "blank");
        assert_eq!(m.varint(7), None, "not a varint");
        assert_eq!(m.varint(3), None, "fixed values are not read");
        assert_eq!(Message::parse(&[]).unwrap(), Message::default());
        assert_eq!(Message::parse(&enc(u64::MAX)[..]), Err(Malformed), "a key beyond field numbers");
        assert_eq!(m.message(7), Err(Malformed), "text is no message");
    }

    #[test]
    fn garbage_is_malformed_never_a_panic() {
        for bad in [
            vec![0x0a, 0x05, 0x01],                                                 // a length beyond the end
            vec![0x10],                                                             // a varint cut short
            vec![0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], // eleven bytes
            vec![0x02, 0x01],                                                       // field 0
            vec![0x0b],                                                             // a group
            vec![0x09, 0x01],                                                       // a fixed64 cut short
            [key(1, 2), enc(u64::MAX)].concat(),                                    // an absurd length
        ] {
            assert_eq!(Message::parse(&bad), Err(Malformed), "{bad:?}");
        }
        // Every prefix of a good message either parses or is malformed.
        let good = [num(1, 1_786_000_000), len(4, &[num(2, 1000), len(11, b"resp")].concat())].concat();
        for i in 0..good.len() {
            let _ = Message::parse(&good[..i]);
        }
    }
}
