//! Mainland mobile numbers, with the province and carrier of their 7-digit block.
//!
//! The block table (rules/phone_blocks.tsv) comes from the PyPI package `phone` 0.4.5
//! (MIT, data of Dec 2023); rules/tools/phone_blocks.py rebuilds it.

use std::fmt;
use std::sync::OnceLock;

use super::text::compact;

const BLOCKS_TSV: &str = include_str!("../../rules/phone_blocks.tsv");

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MobileNumber(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MobileError {
    #[error("a mainland mobile number has 11 digits and starts with 1")]
    Format,
    #[error("no mainland mobile range starts with these digits: a landline or a mistyped number")]
    UnknownPrefix,
}

impl MobileError {
    pub fn code(self) -> &'static str {
        match self {
            Self::Format => "mobile_format",
            Self::UnknownPrefix => "mobile_prefix",
        }
    }
}

/// What the block table says of a number's 7-digit block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    pub province: &'static str,
    pub carrier: &'static str,
}

impl Block {
    /// Mobile virtual network operators (170/171 and parts of 162/165/167 ...).
    pub fn is_virtual_operator(&self) -> bool {
        self.carrier.ends_with("_mvno")
    }
}

struct BlockTable {
    /// (first, last, block) sorted by first; ranges do not overlap.
    ranges: Vec<(u32, u32, Block)>,
    /// 3-digit prefixes that exist at all.
    prefixes: [bool; 200],
}

fn table() -> &'static BlockTable {
    static TABLE: OnceLock<BlockTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut ranges = Vec::new();
        let mut prefixes = [false; 200];
        for line in BLOCKS_TSV.lines().filter(|l| !l.starts_with('#')) {
            let mut cols = line.split('\t');
            let (Some(first), Some(last), Some(province), Some(carrier)) =
                (cols.next(), cols.next(), cols.next(), cols.next())
            else {
                continue;
            };
            let (Ok(first), Ok(last)) = (first.parse::<u32>(), last.parse::<u32>()) else {
                continue;
            };
            if let Some(p) = ((first / 10_000) as usize)
                .checked_sub(100)
                .filter(|p| *p < 200)
            {
                prefixes[p] = true;
            }
            ranges.push((first, last, Block { province, carrier }));
        }
        ranges.sort_unstable_by_key(|r| r.0);
        BlockTable { ranges, prefixes }
    })
}

impl MobileNumber {
    /// Accepts spaces, dashes, full-width digits and a +86 / 0086 country prefix.
    pub fn parse(raw: &str) -> Result<Self, MobileError> {
        let mut s = compact(raw);
        for prefix in ["+86", "0086"] {
            if let Some(rest) = s.strip_prefix(prefix) {
                s = rest.to_string();
            }
        }
        if s.len() == 13 && s.starts_with("86") {
            s.drain(..2);
        }
        if s.len() != 11 || !s.starts_with('1') || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MobileError::Format);
        }
        let prefix3: usize = s[..3].parse().map_err(|_| MobileError::Format)?;
        if !table()
            .prefixes
            .get(prefix3 - 100)
            .copied()
            .unwrap_or(false)
        {
            return Err(MobileError::UnknownPrefix);
        }
        Ok(MobileNumber(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The block's province and carrier, when the table knows the block.
    pub fn block(&self) -> Option<Block> {
        let key: u32 = self.0[..7].parse().ok()?;
        let ranges = &table().ranges;
        let i = ranges.partition_point(|r| r.0 <= key).checked_sub(1)?;
        let (first, last, block) = ranges[i];
        (first..=last).contains(&key).then_some(block)
    }

    /// `138****8000`, for logs.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl fmt::Debug for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MobileNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_spellings() {
        for s in [
            "13800138000",
            "138 0013 8000",
            "+86 138-0013-8000",
            "008613800138000",
            "8613800138000",
            "１３８００１３８０００",
        ] {
            assert_eq!(
                MobileNumber::parse(s).unwrap().as_str(),
                "13800138000",
                "{s}"
            );
        }
    }

    #[test]
    fn refuses_landlines_and_unknown_ranges() {
        assert_eq!(
            MobileNumber::parse("010-88886666").unwrap_err(),
            MobileError::Format
        );
        assert_eq!(
            MobileNumber::parse("1380013800").unwrap_err(),
            MobileError::Format
        );
        assert_eq!(
            MobileNumber::parse("12000138000").unwrap_err(),
            MobileError::UnknownPrefix
        );
    }

    #[test]
    fn finds_the_block_province_and_virtual_operators() {
        let beijing = MobileNumber::parse("13800138000").unwrap().block().unwrap();
        assert_eq!(beijing.province, "11");
        assert_eq!(beijing.carrier, "cmcc");
        assert!(!beijing.is_virtual_operator());
        // 1705 is almost entirely virtual operators in the package's data.
        let virt = (0..1000)
            .filter_map(|i| {
                MobileNumber::parse(&format!("1705{i:03}0000"))
                    .ok()?
                    .block()
            })
            .filter(Block::is_virtual_operator)
            .count();
        assert!(virt > 500, "{virt}");
    }
}
