//! A position in PostgreSQL's write-ahead log.

use std::fmt;
use std::str::FromStr;

/// A position in PostgreSQL's write-ahead log (`pg_lsn`, written `X/Y` in hexadecimal), as
/// one number, so positions compare as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Lsn(pub(super) u64);

/// Text that is not a WAL position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a WAL position (expected two hexadecimal numbers as X/Y): {0:?}")]
pub struct LsnError(String);

impl Lsn {
    pub const ZERO: Lsn = Lsn(0);

    pub fn new(value: u64) -> Self {
        Self(value)
    }

    pub fn get(self) -> u64 {
        self.0
    }

    /// Bytes from `earlier` to here (zero when `earlier` is not earlier).
    pub fn bytes_since(self, earlier: Lsn) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl FromStr for Lsn {
    type Err = LsnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let half = |h: &str| {
            if h.is_empty() || h.len() > 8 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                None
            } else {
                u32::from_str_radix(h, 16).ok()
            }
        };
        let (hi, lo) = s.split_once('/').ok_or_else(|| LsnError(s.to_owned()))?;
        match (half(hi), half(lo)) {
            (Some(hi), Some(lo)) => Ok(Lsn((u64::from(hi) << 32) | u64::from(lo))),
            _ => Err(LsnError(s.to_owned())),
        }
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsns_parse_and_print() -> Result<(), LsnError> {
        assert_eq!("0/0".parse::<Lsn>()?, Lsn::ZERO);
        assert_eq!("0/16B3748".parse::<Lsn>()?, Lsn(0x016B_3748));
        assert_eq!("1/0".parse::<Lsn>()?, Lsn(1 << 32));
        assert_eq!(
            "FFFFFFFF/FFFFFFFF".parse::<Lsn>()?,
            Lsn(u64::MAX),
            "the largest"
        );
        assert_eq!("a/b".parse::<Lsn>()?, Lsn((0xA << 32) | 0xB));
        for s in ["0/16B3748", "1/0", "FFFFFFFF/FFFFFFFF", "0/0"] {
            assert_eq!(s.parse::<Lsn>()?.to_string(), s);
        }
        for bad in [
            "",
            "/",
            "0/",
            "/0",
            "0",
            "0/0/0",
            "g/0",
            "0/x1",
            "100000000/0",
            "-1/0",
            " 0/0",
            "+1/0",
        ] {
            assert!(bad.parse::<Lsn>().is_err(), "{bad:?} parsed");
        }
        Ok(())
    }

    #[test]
    fn lsns_compare_as_numbers() -> Result<(), LsnError> {
        // As text "0/F0000000" sorts after "1/0"; as positions it is before.
        let a: Lsn = "0/F0000000".parse()?;
        let b: Lsn = "1/0".parse()?;
        assert!(a < b);
        assert_eq!(b.bytes_since(a), 0x1000_0000);
        assert_eq!(a.bytes_since(b), 0);
        let c: Lsn = "0/9".parse()?;
        let d: Lsn = "0/10".parse()?;
        assert!(c < d, "hex, not decimal text");
        Ok(())
    }
}
