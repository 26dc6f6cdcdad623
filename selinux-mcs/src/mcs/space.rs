//! [`PairSpace`]: every pair of a category pool, numbered.

use std::fmt;

use super::pair::unrank_colex;
use super::{CategoryPair, McsError};
use crate::mls::{Category, CategorySet};

const NOT_IN_POOL: u16 = u16::MAX;

const fn cat(n: u16) -> Category {
    match Category::new(n) {
        Some(c) => c,
        None => panic!("category above c1023"),
    }
}

/// The pairs a pool of categories makes, numbered `0..len()` without gaps.
///
/// The default pool is `c0..c1023`: 1024 categories make 523,776 pairs. The
/// pair `s0:c1022,c1023` is reserved by convention (it is the mount label of
/// privileged containers) and is never handed out, so the default space has a
/// [`capacity`](Self::capacity) of 523,775. A pool can be any category set
/// (`c0.c511`), or the default minus some categories.
///
/// Ranking is bijective and constant time: with the pool's categories in
/// ascending order `p0 < p1 < ...`, the pair `(p_i, p_j)`, `i < j`, has rank
/// `j*(j-1)/2 + i`. A set of pairs is then a set of numbers, which is what the
/// [`Allocator`](super::Allocator) keeps.
///
/// ```
/// use selinux_mcs::mcs::{CategoryPair, PairSpace};
///
/// let space = PairSpace::default();
/// assert_eq!(space.len(), 523_776);
/// assert_eq!(space.capacity(), 523_775);
/// let reserved: CategoryPair = "s0:c1022,c1023".parse()?;
/// assert!(space.is_reserved(&reserved));
///
/// let small = PairSpace::new("c10.c13".parse()?)?;
/// assert_eq!(small.len(), 6);
/// let pair: CategoryPair = "s0:c11,c13".parse()?;
/// let rank = small.rank(&pair).expect("in the pool");
/// assert_eq!(small.unrank(rank), Some(pair));
///
/// assert!(PairSpace::new("c5".parse()?).is_err()); // one category makes no pair
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PairSpace {
    pool: CategorySet,
    /// The pool's categories, ascending: index -> category.
    cats: Vec<Category>,
    /// category number -> index in `cats`, or `NOT_IN_POOL`.
    index: Box<[u16; 1024]>,
    /// Pairs nobody may hold, sorted, deduplicated, all inside the pool.
    reserved: Vec<CategoryPair>,
}

impl PairSpace {
    /// The pair reserved by convention: `s0:c1022,c1023`, the mount label of
    /// privileged containers.
    pub fn privileged_pair() -> CategoryPair {
        CategoryPair::new(cat(1022), Category::MAX)
            .unwrap_or_else(|_| unreachable!("c1022 < c1023"))
    }

    /// The space of `pool`, with `s0:c1022,c1023` reserved when the pool
    /// holds both categories. Fails when the pool holds fewer than two
    /// categories.
    pub fn new(pool: CategorySet) -> Result<PairSpace, McsError> {
        if pool.len() < 2 {
            return Err(McsError::PoolTooSmall {
                pool: pool.to_string(),
                len: pool.len(),
            });
        }
        let cats: Vec<Category> = pool.iter().collect();
        let mut index = Box::new([NOT_IN_POOL; 1024]);
        for (i, c) in cats.iter().enumerate() {
            // At most 1024 categories, so the index fits in u16.
            index[usize::from(c.number())] = i as u16;
        }
        let space = PairSpace {
            pool,
            cats,
            index,
            reserved: Vec::new(),
        };
        Ok(space.with_reserved([PairSpace::privileged_pair()]))
    }

    /// The space of the default pool minus `excluded` (for example
    /// categories another tool hands out).
    ///
    /// ```
    /// use selinux_mcs::mcs::PairSpace;
    /// let space = PairSpace::excluding(&"c0.c9".parse()?)?;
    /// assert_eq!(space.pool().len(), 1014);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn excluding(excluded: &CategorySet) -> Result<PairSpace, McsError> {
        PairSpace::new(CategorySet::range(cat(0), Category::MAX).difference(excluded))
    }

    /// The same pool with `pairs` reserved as well (pairs outside the pool
    /// are ignored). Reserved pairs are never handed out and do not count in
    /// [`capacity`](Self::capacity).
    #[must_use]
    pub fn with_reserved(mut self, pairs: impl IntoIterator<Item = CategoryPair>) -> PairSpace {
        for pair in pairs {
            if self.rank(&pair).is_some() {
                self.reserved.push(pair);
            }
        }
        self.reserved.sort();
        self.reserved.dedup();
        self
    }

    /// The same pool with nothing reserved, not even `s0:c1022,c1023`.
    #[must_use]
    pub fn without_reserved(mut self) -> PairSpace {
        self.reserved.clear();
        self
    }

    /// The pool's categories.
    pub fn pool(&self) -> &CategorySet {
        &self.pool
    }

    /// The reserved pairs, ascending.
    pub fn reserved(&self) -> &[CategoryPair] {
        &self.reserved
    }

    /// Whether `pair` is reserved (never handed out).
    pub fn is_reserved(&self, pair: &CategoryPair) -> bool {
        self.reserved.binary_search(pair).is_ok()
    }

    /// How many pairs the pool makes, reserved ones included: `n*(n-1)/2`
    /// for `n` categories.
    pub fn len(&self) -> usize {
        let n = self.cats.len();
        n * (n - 1) / 2
    }

    /// Always false: a space holds at least one pair.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// How many pairs can be handed out: [`len`](Self::len) minus the
    /// reserved pairs.
    pub fn capacity(&self) -> usize {
        self.len() - self.reserved.len()
    }

    /// Whether both categories of `pair` are in the pool.
    pub fn contains(&self, pair: &CategoryPair) -> bool {
        self.rank(pair).is_some()
    }

    /// The pair's number in `0..len()`, or `None` when a category is not in
    /// the pool.
    pub fn rank(&self, pair: &CategoryPair) -> Option<usize> {
        let i = self.index[usize::from(pair.first().number())];
        let j = self.index[usize::from(pair.second().number())];
        if i == NOT_IN_POOL || j == NOT_IN_POOL {
            return None;
        }
        let (i, j) = (usize::from(i), usize::from(j));
        Some(j * (j - 1) / 2 + i)
    }

    /// The pair numbered `rank`, or `None` when `rank >= len()`.
    pub fn unrank(&self, rank: usize) -> Option<CategoryPair> {
        if rank >= self.len() {
            return None;
        }
        let (i, j) = unrank_colex(rank as u64)?;
        let first = *self.cats.get(usize::try_from(i).ok()?)?;
        let second = *self.cats.get(usize::try_from(j).ok()?)?;
        CategoryPair::new(first, second).ok()
    }
}

impl Default for PairSpace {
    /// `c0..c1023` with `s0:c1022,c1023` reserved.
    fn default() -> PairSpace {
        PairSpace::excluding(&CategorySet::new())
            .unwrap_or_else(|_| unreachable!("1024 categories make pairs"))
    }
}

impl fmt::Debug for PairSpace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PairSpace")
            .field("pool", &self.pool.to_string())
            .field("len", &self.len())
            .field("reserved", &self.reserved)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_unrank_round_trip_on_a_sparse_pool() {
        let space =
            PairSpace::new("c3,c7,c64,c200.c203,c1023".parse().expect("set")).expect("space");
        assert_eq!(space.len(), 28);
        let mut seen = std::collections::HashSet::new();
        for r in 0..space.len() {
            let pair = space.unrank(r).expect("in range");
            assert_eq!(space.rank(&pair), Some(r));
            assert!(space.pool().contains(pair.first()) && space.pool().contains(pair.second()));
            assert!(seen.insert(pair));
        }
        assert_eq!(space.unrank(space.len()), None);
        let outside: CategoryPair = "s0:c3,c4".parse().expect("pair");
        assert_eq!(space.rank(&outside), None);
    }

    #[test]
    fn default_space_reserves_the_privileged_pair() {
        let space = PairSpace::default();
        assert_eq!(space.len(), 523_776);
        assert_eq!(space.capacity(), 523_775);
        assert_eq!(space.reserved(), &[PairSpace::privileged_pair()]);
        assert_eq!(PairSpace::privileged_pair().to_string(), "s0:c1022,c1023");
        let last = space.unrank(space.len() - 1).expect("last");
        assert_eq!(last, PairSpace::privileged_pair());
        // A pool without c1023 reserves nothing.
        let half = PairSpace::new("c0.c511".parse().expect("set")).expect("space");
        assert_eq!(half.capacity(), half.len());
        assert_eq!(half.without_reserved().capacity(), 512 * 511 / 2);
        assert_eq!(space.without_reserved().capacity(), 523_776);
    }

    #[test]
    fn small_pools_are_rejected() {
        let err = PairSpace::new("c5".parse().expect("set")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pool \"c5\" holds 1 category: a pool needs at least 2 categories to make a pair"
        );
        let err = PairSpace::new(CategorySet::new()).unwrap_err();
        assert!(matches!(err, McsError::PoolTooSmall { len: 0, .. }));
        let err = PairSpace::excluding(&"c0.c1022".parse().expect("set")).unwrap_err();
        assert!(matches!(err, McsError::PoolTooSmall { len: 1, .. }));
    }
}
