//! `--shard K/N`: a deterministic part of the cases, so that several
//! machines (or CI jobs) each run one part.
//!
//! A case belongs to shard `1 + hash(path) mod N`, where the hash is 64-bit
//! FNV-1a of the case's path with `/` separators and no leading `./`. It
//! depends on nothing but that path: adding or removing a case moves no
//! other case, and every build and machine agrees (std's hasher is seeded
//! per process, so it is not used).

use std::fmt;
use std::str::FromStr;

/// One part of a partition of the cases into `count` parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which part, from 1.
    pub index: u32,
    /// How many parts.
    pub count: u32,
}

impl Shard {
    /// Whether the case at `path` belongs to this shard.
    pub fn contains(&self, path: &str) -> bool {
        shard_of(path, self.count) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Why a `--shard` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--shard {given}: {problem}; write K/N with 1 <= K <= N, e.g. --shard 2/4")]
pub struct BadShard {
    given: String,
    problem: &'static str,
}

impl FromStr for Shard {
    type Err = BadShard;

    fn from_str(text: &str) -> Result<Self, BadShard> {
        let bad = |problem| BadShard {
            given: text.to_owned(),
            problem,
        };
        let (k, n) = text.split_once('/').ok_or_else(|| bad("no `/`"))?;
        let index: u32 = k.trim().parse().map_err(|_| bad("K is not a number"))?;
        let count: u32 = n.trim().parse().map_err(|_| bad("N is not a number"))?;
        if count == 0 {
            return Err(bad("N must be at least 1"));
        }
        if index == 0 || index > count {
            return Err(bad("K must be between 1 and N"));
        }
        Ok(Shard { index, count })
    }
}

/// The shard (1..=count) the case at `path` belongs to.
pub fn shard_of(path: &str, count: u32) -> u32 {
    let mut normal = path.replace('\\', "/");
    while let Some(rest) = normal.strip_prefix("./") {
        normal = rest.to_owned();
    }
    (fnv1a64(normal.as_bytes()) % u64::from(count.max(1))) as u32 + 1
}

/// 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        // From the FNV reference test suite (draft-eastlake-fnv).
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn parses_k_of_n_and_refuses_the_rest_with_a_fix() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        assert_eq!("1/1".parse::<Shard>().unwrap().to_string(), "1/1");
        for bad in ["0/3", "4/3", "3", "a/3", "1/0", "1/x", ""] {
            let error = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(error.contains("K/N"), "{bad}: {error}");
        }
    }

    #[test]
    fn every_path_is_in_exactly_one_shard_and_spelling_does_not_matter() {
        let paths: Vec<String> = (0..500)
            .map(|i| format!("cases/dir{}/c{i}.yaml", i % 7))
            .collect();
        for count in 1..=6 {
            let mut sizes = vec![0; count as usize];
            for path in &paths {
                let owners: Vec<u32> = (1..=count)
                    .filter(|&k| Shard { index: k, count }.contains(path))
                    .collect();
                assert_eq!(owners.len(), 1, "{path} in {count} shards: {owners:?}");
                sizes[owners[0] as usize - 1] += 1;
                assert_eq!(shard_of(&format!("./{path}"), count), owners[0]);
            }
            // A hash spreads them: no shard gets less than half its share.
            let share = paths.len() / count as usize;
            assert!(sizes.iter().all(|&s| s * 2 >= share), "{count}: {sizes:?}");
        }
    }
}
