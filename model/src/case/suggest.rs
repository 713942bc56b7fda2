//! "Did you mean ...?": the valid name nearest to a misspelt one.

/// The candidate nearest to `word`, if one is near enough to be a typo:
/// first one equal to it once case, `_` and `-` are ignored (`targetOrigin`
/// is `target_origin` as JavaScript spells it), else the closest by edit
/// distance counting a swap of two neighbours as one edit (`parnet`,
/// `psot`), at most 1 for short words and a third of the length for longer
/// ones.
pub(crate) fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let squash = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect()
    };
    let w = squash(word);
    if let Some(c) = candidates.iter().find(|c| squash(c) == w) {
        return Some(c);
    }
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (distance(&word.to_lowercase(), c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Optimal string alignment distance: insertions, deletions,
/// substitutions and transpositions of adjacent characters.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const POST: &[&str] = &["from", "to", "message", "target_origin", "transfer"];

    #[test]
    fn typos_people_make() {
        assert_eq!(nearest("targetOrigin", POST), Some("target_origin"));
        assert_eq!(nearest("target-origin", POST), Some("target_origin"));
        assert_eq!(nearest("mesage", POST), Some("message"));
        assert_eq!(nearest("form", POST), Some("from"));
        assert_eq!(
            nearest("parnet", &["url", "srcdoc", "parent", "opener", "sandbox"]),
            Some("parent")
        );
        assert_eq!(
            nearest("psot", &["post", "navigate", "reload"]),
            Some("post")
        );
        assert_eq!(
            nearest("allow-same-orgin", crate::sandbox::SANDBOX_TOKENS),
            Some("allow-same-origin")
        );
        assert_eq!(
            nearest("allow-script", crate::sandbox::SANDBOX_TOKENS),
            Some("allow-scripts")
        );
    }

    #[test]
    fn nothing_near_gives_no_suggestion() {
        assert_eq!(nearest("colour", POST), None);
        assert_eq!(nearest("x", POST), None);
        assert_eq!(distance("abc", "abc"), 0);
        assert_eq!(distance("ab", "ba"), 1);
    }
}
