//! Categories (`cN`) and the fixed 1024-bit [`CategorySet`].

use std::fmt;

/// One MLS category, `c0` to `c1023`.
///
/// The kernel names categories `cN`; policies define at most 1024 of them
/// (`c0` .. `c1023`), so a `Category` can never hold a higher number.
///
/// ```
/// use selinux_mcs::mls::Category;
/// let c = Category::new(186).unwrap();
/// assert_eq!(c.to_string(), "c186");
/// assert!(Category::new(1024).is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Category(u16);

impl Category {
    /// The highest category any policy can define, `c1023`.
    pub const MAX: Category = Category(1023);

    /// The category `cN`, or `None` when `n` is above 1023.
    pub const fn new(n: u16) -> Option<Category> {
        if n <= 1023 {
            Some(Category(n))
        } else {
            None
        }
    }

    /// The number `N` of `cN`.
    pub const fn number(self) -> u16 {
        self.0
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 8];
        f.write_str(fmt_num(b'c', self.0 as u32, &mut buf))
    }
}

/// Formats `prefix` followed by `n` into `buf` without going through `fmt`'s
/// integer machinery, which dominates the cost of printing category lists.
pub(crate) fn fmt_num(prefix: u8, mut n: u32, buf: &mut [u8; 8]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    i -= 1;
    buf[i] = prefix;
    // SAFETY: `prefix` is an ASCII letter (`b'c'` or `b's'`, checked below
    // in debug builds) and the rest are ASCII digits, so the bytes are UTF-8.
    // Printing is hot enough that the validation `from_utf8` would do shows.
    debug_assert!(prefix.is_ascii());
    unsafe { std::str::from_utf8_unchecked(&buf[i..]) }
}

const WORDS: usize = 16;

/// A set of categories: a fixed 1024-bit set, one bit per category.
///
/// Sets are `Copy` and every operation is a handful of word operations, so
/// dominance checks cost the same whatever the number of categories.
/// `Display` prints the kernel's canonical category list (ascending runs:
/// `c0,c2.c4,c6,c7`); the empty set prints as the empty string.
///
/// ```
/// use selinux_mcs::mls::CategorySet;
/// let set: CategorySet = "c7,c0,c3,c2,c4,c6".parse().unwrap();
/// assert_eq!(set.to_string(), "c0,c2.c4,c6,c7");
/// assert_eq!(set.len(), 6);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CategorySet {
    words: [u64; WORDS],
}

impl CategorySet {
    /// How many categories a set can hold (1024).
    pub const CAPACITY: usize = WORDS * 64;

    /// The empty set.
    pub const fn new() -> CategorySet {
        CategorySet { words: [0; WORDS] }
    }

    /// The set as 64-bit words (bit `n % 64` of word `n / 64` is `cN`).
    pub(crate) fn words(&self) -> &[u64; WORDS] {
        &self.words
    }

    /// All categories from `low` to `high` inclusive (`cLOW.cHIGH`); empty when
    /// `low > high`.
    pub fn range(low: Category, high: Category) -> CategorySet {
        let mut set = CategorySet::new();
        set.insert_range(low, high);
        set
    }

    /// Adds `c`; returns whether it was newly added.
    pub fn insert(&mut self, c: Category) -> bool {
        let (w, b) = (c.0 as usize / 64, c.0 % 64);
        let was = self.words[w] & (1 << b) != 0;
        self.words[w] |= 1 << b;
        !was
    }

    /// Adds every category from `low` to `high` inclusive.
    pub fn insert_range(&mut self, low: Category, high: Category) {
        if low > high {
            return;
        }
        let (lo, hi) = (low.0 as usize, high.0 as usize);
        let (lw, hw) = (lo / 64, hi / 64);
        let lmask = !0u64 << (lo % 64);
        let hmask = !0u64 >> (63 - hi % 64);
        if lw == hw {
            self.words[lw] |= lmask & hmask;
        } else {
            self.words[lw] |= lmask;
            for w in &mut self.words[lw + 1..hw] {
                *w = !0;
            }
            self.words[hw] |= hmask;
        }
    }

    /// Removes `c`; returns whether it was present.
    pub fn remove(&mut self, c: Category) -> bool {
        let (w, b) = (c.0 as usize / 64, c.0 % 64);
        let was = self.words[w] & (1 << b) != 0;
        self.words[w] &= !(1 << b);
        was
    }

    /// Whether `c` is in the set.
    pub fn contains(&self, c: Category) -> bool {
        self.words[c.0 as usize / 64] & (1 << (c.0 % 64)) != 0
    }

    /// The categories in either set.
    #[must_use]
    pub fn union(&self, other: &CategorySet) -> CategorySet {
        self.zip(other, |a, b| a | b)
    }

    /// The categories in both sets.
    #[must_use]
    pub fn intersection(&self, other: &CategorySet) -> CategorySet {
        self.zip(other, |a, b| a & b)
    }

    /// The categories in `self` but not in `other`.
    #[must_use]
    pub fn difference(&self, other: &CategorySet) -> CategorySet {
        self.zip(other, |a, b| a & !b)
    }

    fn zip(&self, other: &CategorySet, op: impl Fn(u64, u64) -> u64) -> CategorySet {
        let mut out = CategorySet::new();
        for i in 0..WORDS {
            out.words[i] = op(self.words[i], other.words[i]);
        }
        out
    }

    /// Whether every category of `other` is in `self`.
    pub fn is_superset(&self, other: &CategorySet) -> bool {
        // Branch-free over all 16 words, so the compiler vectorizes it.
        self.words
            .iter()
            .zip(other.words.iter())
            .fold(0, |missing, (a, b)| missing | (b & !a))
            == 0
    }

    /// Whether every category of `self` is in `other`.
    pub fn is_subset(&self, other: &CategorySet) -> bool {
        other.is_superset(self)
    }

    /// Whether the set holds no category.
    pub fn is_empty(&self) -> bool {
        self.words.iter().fold(0, |acc, &w| acc | w) == 0
    }

    /// How many categories the set holds.
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The lowest category, if any.
    pub fn first(&self) -> Option<Category> {
        self.iter().next()
    }

    /// The highest category, if any.
    pub fn last(&self) -> Option<Category> {
        for (i, &w) in self.words.iter().enumerate().rev() {
            if w != 0 {
                return Some(Category((i * 64 + 63 - w.leading_zeros() as usize) as u16));
            }
        }
        None
    }

    /// The categories in ascending order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            set: self,
            word: 0,
            bits: self.words[0],
        }
    }

    /// The maximal runs of consecutive categories, ascending, as inclusive
    /// `(first, last)` pairs: `c0,c2,c3,c4` gives `(c0,c0)` and `(c2,c4)`.
    pub fn runs(&self) -> Runs<'_> {
        Runs { set: self, next: 0 }
    }

    /// An arbitrary but fixed total order (the sets compared as 1024-bit
    /// numbers, bit N for `cN`), for sorting and maps. For dominance use
    /// [`is_superset`](Self::is_superset).
    pub fn total_cmp(&self, other: &CategorySet) -> std::cmp::Ordering {
        self.words.iter().rev().cmp(other.words.iter().rev())
    }

    /// Finds the first set bit at or after `from`.
    fn next_set(&self, from: usize) -> Option<usize> {
        if from >= Self::CAPACITY {
            return None;
        }
        let mut w = from / 64;
        let mut bits = self.words[w] & (!0u64 << (from % 64));
        loop {
            if bits != 0 {
                return Some(w * 64 + bits.trailing_zeros() as usize);
            }
            w += 1;
            if w == WORDS {
                return None;
            }
            bits = self.words[w];
        }
    }

    /// Finds the first clear bit at or after `from`.
    fn next_clear(&self, from: usize) -> usize {
        let mut w = from / 64;
        if w >= WORDS {
            return Self::CAPACITY;
        }
        let mut bits = !self.words[w] & (!0u64 << (from % 64));
        loop {
            if bits != 0 {
                return w * 64 + bits.trailing_zeros() as usize;
            }
            w += 1;
            if w == WORDS {
                return Self::CAPACITY;
            }
            bits = !self.words[w];
        }
    }
}

/// Iterator over a [`CategorySet`] in ascending order.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    set: &'a CategorySet,
    word: usize,
    bits: u64,
}

impl Iterator for Iter<'_> {
    type Item = Category;
    fn next(&mut self) -> Option<Category> {
        loop {
            if self.bits != 0 {
                let b = self.bits.trailing_zeros() as usize;
                self.bits &= self.bits - 1;
                return Some(Category((self.word * 64 + b) as u16));
            }
            self.word += 1;
            if self.word >= WORDS {
                return None;
            }
            self.bits = self.set.words[self.word];
        }
    }
}

/// Iterator over the maximal runs of a [`CategorySet`]; see
/// [`CategorySet::runs`].
#[derive(Debug, Clone)]
pub struct Runs<'a> {
    set: &'a CategorySet,
    next: usize,
}

impl Iterator for Runs<'_> {
    type Item = (Category, Category);
    fn next(&mut self) -> Option<(Category, Category)> {
        let start = self.set.next_set(self.next)?;
        let end = self.set.next_clear(start);
        self.next = end;
        Some((Category(start as u16), Category((end - 1) as u16)))
    }
}

impl<'a> IntoIterator for &'a CategorySet {
    type Item = Category;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl FromIterator<Category> for CategorySet {
    fn from_iter<I: IntoIterator<Item = Category>>(iter: I) -> CategorySet {
        let mut set = CategorySet::new();
        set.extend(iter);
        set
    }
}

impl Extend<Category> for CategorySet {
    fn extend<I: IntoIterator<Item = Category>>(&mut self, iter: I) {
        for c in iter {
            self.insert(c);
        }
    }
}

impl fmt::Display for CategorySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_categories(self, f)
    }
}

impl fmt::Debug for CategorySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CategorySet({self})")
    }
}

/// Writes the canonical category list: runs of one as `cN`, runs of two as
/// `cA,cB`, longer runs as `cA.cB` (what the kernel's `mls_compute_context_len`
/// and `mls_sid_to_context` print).
pub(crate) fn write_categories(set: &CategorySet, out: &mut impl fmt::Write) -> fmt::Result {
    let mut buf = [0u8; 8];
    let mut first = true;
    for (lo, hi) in set.runs() {
        if !first {
            out.write_char(',')?;
        }
        first = false;
        out.write_str(fmt_num(b'c', lo.0 as u32, &mut buf))?;
        match hi.0 - lo.0 {
            0 => {}
            1 => {
                out.write_char(',')?;
                out.write_str(fmt_num(b'c', hi.0 as u32, &mut buf))?;
            }
            _ => {
                out.write_char('.')?;
                out.write_str(fmt_num(b'c', hi.0 as u32, &mut buf))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(n: u16) -> Category {
        Category::new(n).expect("valid category")
    }

    #[test]
    fn insert_range_spans_words() {
        let set = CategorySet::range(c(60), c(130));
        assert_eq!(set.len(), 71);
        assert_eq!(set.first(), Some(c(60)));
        assert_eq!(set.last(), Some(c(130)));
        assert_eq!(set.to_string(), "c60.c130");
        let full = CategorySet::range(c(0), c(1023));
        assert_eq!(full.len(), 1024);
        assert_eq!(full.to_string(), "c0.c1023");
    }

    #[test]
    fn runs_print_canonically() {
        let set: CategorySet = [0, 2, 3, 4, 6, 7].into_iter().map(c).collect();
        assert_eq!(set.to_string(), "c0,c2.c4,c6,c7");
        let set: CategorySet = [63, 64].into_iter().map(c).collect();
        assert_eq!(set.to_string(), "c63,c64");
        let set: CategorySet = [1023].into_iter().map(c).collect();
        assert_eq!(set.to_string(), "c1023");
        assert_eq!(CategorySet::new().to_string(), "");
    }

    #[test]
    fn set_algebra() {
        let a = CategorySet::range(c(0), c(10));
        let b = CategorySet::range(c(5), c(15));
        assert_eq!(a.intersection(&b), CategorySet::range(c(5), c(10)));
        assert_eq!(a.union(&b), CategorySet::range(c(0), c(15)));
        assert_eq!(a.difference(&b), CategorySet::range(c(0), c(4)));
        assert!(a.union(&b).is_superset(&a));
        assert!(!a.is_superset(&b));
        assert!(CategorySet::new().is_subset(&a));
        let v: Vec<u16> = b.iter().map(Category::number).collect();
        assert_eq!(v, (5..=15).collect::<Vec<_>>());
    }
}
