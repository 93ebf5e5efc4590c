//! `--shard INDEX/COUNT`: which targets this process scans when COUNT
//! processes (the pods of a Kubernetes Indexed Job, `JOB_COMPLETION_INDEX`
//! 0 … COUNT-1) share one list.
//!
//! A target's shard is a hash of its key (FNV-1a, fixed by its spec, so
//! every build and platform agrees), not its line number: adding or
//! removing a line moves no other target to another shard, so a
//! CronJob's per-shard history stays comparable.

use crate::fleet::targets::TargetEntry;

/// One shard of a fan-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// `0/4` … `3/4`.
    ///
    /// # Errors
    /// Not `INDEX/COUNT` with `INDEX < COUNT`, `COUNT` ≥ 1.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("invalid shard {text:?} (expected INDEX/COUNT, 0-based, e.g. 0/4)");
        let (index, count) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: u32 = index.trim().parse().map_err(|_| bad())?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(format!(
                "invalid shard {text:?}: INDEX must be below COUNT (0-based: 0/{count} … {}/{count})",
                count.saturating_sub(1)
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether this shard scans `entry`.
    pub fn holds(&self, entry: &TargetEntry) -> bool {
        self.of_key(&entry.key()) == self.index
    }

    /// The shard a key belongs to.
    pub fn of_key(&self, key: &str) -> u32 {
        let h = fnv1a(key.as_bytes());
        u32::try_from(h % u64::from(self.count)).unwrap_or(0)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// FNV-1a, 64 bits (draft-eastlake-fnv): tiny, and its output is fixed
/// by its definition, unlike std's `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::targets::parse_line;

    #[test]
    fn shards_parse_zero_based() {
        assert_eq!(Shard::parse("0/4"), Ok(Shard { index: 0, count: 4 }));
        assert_eq!(Shard::parse(" 3 / 4 "), Ok(Shard { index: 3, count: 4 }));
        assert!(Shard::parse("4/4").is_err());
        assert!(Shard::parse("0/0").is_err());
        assert!(Shard::parse("1").is_err());
        assert!(Shard::parse("-1/2").is_err());
    }

    #[test]
    fn fnv_matches_its_published_vectors() {
        // From the FNV reference test suite (draft-eastlake-fnv, FNV-1a 64).
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn every_target_is_in_exactly_one_shard_and_shards_are_balanced() {
        let entries: Vec<_> = (0..1000)
            .map(|i| {
                parse_line(&format!("10.0.{}.{}:443", i / 250, i % 250), "f", i + 1)
                    .unwrap()
                    .unwrap()
            })
            .collect();
        let count = 4;
        let mut sizes = vec![0; count as usize];
        for entry in &entries {
            let holders: Vec<u32> = (0..count)
                .filter(|&index| Shard { index, count }.holds(entry))
                .collect();
            assert_eq!(holders.len(), 1, "{}", entry.target);
            sizes[holders[0] as usize] += 1;
        }
        for size in sizes {
            assert!((200..=300).contains(&size), "unbalanced: {size}");
        }
    }
}
