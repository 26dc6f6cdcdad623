//! [`Allocator`]: random, collision-free pairs for a process that owns all
//! its labels.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use super::{CategoryPair, McsError, PairSpace};
use crate::mls::Level;

/// Hands out the pairs of a [`PairSpace`] at random, never the same one twice
/// until it is released.
///
/// **Randomness.** Pairs are drawn uniformly among the free pairs with
/// ChaCha20 (`rand_chacha::ChaCha20Rng`, a CSPRNG) seeded from the operating
/// system (`getrandom(2)`), so the next pair cannot be predicted from the
/// previous ones. Tests can inject any seeded generator with
/// [`with_rng`](Self::with_rng).
///
/// **Cost.** The free pairs are kept as a dense array plus, for every pair,
/// its position in that array (a "sparse set"). Allocating draws one index
/// into the free part and swaps the chosen pair out; reserving and releasing
/// swap one pair in or out. All three are O(1) in the worst case, whether
/// the pool is empty or 99.9% full: there is no retry loop. The arrays take
/// 8 bytes per pair (4 MiB for the default space); building them is linear.
///
/// **Levels that are not pairs.** [`reserve`](Self::reserve) and
/// [`release`](Self::release) accept only `s0` with exactly two categories
/// and fail with [`McsError::NotAPair`] otherwise. A level with one category
/// or more than two is not a private pair: no allocation can ever equal it,
/// and blocking every pair it could read or be read by would let one
/// system-high level (`s0:c0.c1023`) exhaust the pool. Such labels are the
/// caller's business, and saying so loudly beats ignoring them silently.
///
/// ```
/// use selinux_mcs::mcs::{Allocator, PairSpace};
///
/// let mut alloc = Allocator::new(PairSpace::default());
/// let in_use = "s0:c1,c2".parse()?;
/// alloc.reserve(&in_use)?; // a container that already runs
/// let pair = alloc.allocate()?;
/// assert_ne!(pair.level(), in_use);
/// assert!(!alloc.is_free(&pair.level()));
/// assert_eq!(alloc.len(), 2);
/// assert!(alloc.release(&pair.level())?);
/// assert_eq!(alloc.len(), 1);
/// assert!(alloc.reserve(&"s0:c7".parse()?).is_err()); // not a pair
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Allocator<R = ChaCha20Rng> {
    space: PairSpace,
    /// Ranks; `free[..nfree]` are the free pairs, the rest are taken (the
    /// space's reserved pairs sit at the very end and never move).
    free: Vec<u32>,
    /// rank -> index in `free`.
    pos: Vec<u32>,
    nfree: usize,
    rng: R,
}

impl<R> std::fmt::Debug for Allocator<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Allocator")
            .field("space", &self.space)
            .field("taken", &(self.space.capacity() - self.nfree))
            .field("free", &self.nfree)
            .finish_non_exhaustive()
    }
}

impl Allocator<ChaCha20Rng> {
    /// An allocator with every pair of `space` free (but the reserved ones),
    /// drawing with ChaCha20 seeded from the operating system.
    pub fn new(space: PairSpace) -> Allocator<ChaCha20Rng> {
        Allocator::with_rng(space, ChaCha20Rng::from_os_rng())
    }
}

impl<R: Rng> Allocator<R> {
    /// An allocator drawing with `rng` (for tests and reproducible runs; use
    /// a CSPRNG in production).
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use selinux_mcs::mcs::{Allocator, PairSpace};
    /// let rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    /// let mut a = Allocator::with_rng(PairSpace::default(), rng);
    /// let rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    /// let mut b = Allocator::with_rng(PairSpace::default(), rng);
    /// assert_eq!(a.allocate()?, b.allocate()?);
    /// # Ok::<(), selinux_mcs::mcs::McsError>(())
    /// ```
    pub fn with_rng(space: PairSpace, rng: R) -> Allocator<R> {
        let mut alloc = Allocator {
            space,
            free: Vec::new(),
            pos: Vec::new(),
            nfree: 0,
            rng,
        };
        alloc.clear();
        alloc
    }

    /// Frees every pair (but the reserved ones).
    pub fn clear(&mut self) {
        let len = self.space.len();
        // Ranks fit in u32: at most 1024*1023/2 pairs.
        self.free.clear();
        self.free.extend(0..len as u32);
        self.pos.clear();
        self.pos.extend(0..len as u32);
        self.nfree = len;
        let reserved: Vec<usize> = self
            .space
            .reserved()
            .iter()
            .filter_map(|p| self.space.rank(p))
            .collect();
        for rank in reserved {
            self.take_rank(rank);
        }
    }

    /// The space pairs come from.
    pub fn space(&self) -> &PairSpace {
        &self.space
    }

    /// A pair drawn uniformly among the free ones, now taken; `Exhausted`
    /// (with the pool's capacity) when none is free.
    #[doc(alias = "uniqMcs")]
    pub fn allocate(&mut self) -> Result<CategoryPair, McsError> {
        if self.nfree == 0 {
            return Err(self.exhausted());
        }
        let i = self.rng.random_range(0..self.nfree);
        let rank = self.free[i] as usize;
        self.take_rank(rank);
        self.space
            .unrank(rank)
            .ok_or_else(|| unreachable!("ranks in the free array are in the space"))
    }

    /// Marks `level` as taken (a label already in use). Fails when it is not
    /// a pair, is outside the pool, is reserved by the space, or is already
    /// taken.
    #[doc(alias = "ReserveLabel")]
    #[doc(alias = "mcsAdd")]
    pub fn reserve(&mut self, level: &Level) -> Result<(), McsError> {
        let rank = self.rank_of(level)?;
        if !self.take_rank(rank) {
            return Err(McsError::Taken {
                level: level.to_string(),
                owner: None,
            });
        }
        Ok(())
    }

    /// Frees `level`; returns whether it was taken. Fails when it is not a
    /// pair, is outside the pool or is reserved by the space.
    #[doc(alias = "ReleaseLabel")]
    #[doc(alias = "mcsDelete")]
    pub fn release(&mut self, level: &Level) -> Result<bool, McsError> {
        let rank = self.rank_of(level)?;
        Ok(self.give_rank(rank))
    }

    /// Whether `level` is a pair of the pool that can be allocated now
    /// (false for taken and reserved pairs, levels outside the pool and
    /// levels that are not pairs).
    pub fn is_free(&self, level: &Level) -> bool {
        CategoryPair::try_from(level)
            .ok()
            .and_then(|p| self.space.rank(&p))
            .is_some_and(|rank| (self.pos[rank] as usize) < self.nfree)
    }

    /// How many pairs are taken (allocated or reserved by the caller; the
    /// space's reserved pairs do not count).
    pub fn len(&self) -> usize {
        self.space.capacity() - self.nfree
    }

    /// Whether no pair is taken.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many pairs can be taken in all: the space's
    /// [`capacity`](PairSpace::capacity).
    pub fn capacity(&self) -> usize {
        self.space.capacity()
    }

    /// How many pairs are free.
    pub fn available(&self) -> usize {
        self.nfree
    }

    fn exhausted(&self) -> McsError {
        McsError::Exhausted {
            capacity: self.space.capacity(),
            pool: self.space.pool().to_string(),
        }
    }

    fn rank_of(&self, level: &Level) -> Result<usize, McsError> {
        let pair = CategoryPair::try_from(level)?;
        let rank = self.space.rank(&pair).ok_or(McsError::OutsidePool {
            level: level.to_string(),
            pool: self.space.pool().to_string(),
        })?;
        if self.space.is_reserved(&pair) {
            return Err(McsError::Reserved {
                level: level.to_string(),
            });
        }
        Ok(rank)
    }

    /// Moves `rank` out of the free part; returns whether it was free.
    pub(crate) fn take_rank(&mut self, rank: usize) -> bool {
        let p = self.pos[rank] as usize;
        if p >= self.nfree {
            return false;
        }
        let last = self.nfree - 1;
        self.swap(p, last);
        self.nfree = last;
        true
    }

    /// Moves `rank` into the free part; returns whether it was taken.
    pub(crate) fn give_rank(&mut self, rank: usize) -> bool {
        let p = self.pos[rank] as usize;
        if p < self.nfree {
            return false;
        }
        self.swap(p, self.nfree);
        self.nfree += 1;
        true
    }

    fn swap(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.free[a], self.free[b]);
        self.free[a] = rb;
        self.free[b] = ra;
        self.pos[rb as usize] = a as u32;
        self.pos[ra as usize] = b as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn small(pool: &str) -> Allocator<ChaCha20Rng> {
        let space = PairSpace::new(pool.parse().expect("set")).expect("space");
        Allocator::with_rng(space, ChaCha20Rng::seed_from_u64(42))
    }

    #[test]
    fn whole_default_space_then_exhausted() {
        let mut alloc = Allocator::new(PairSpace::default());
        let mut seen = vec![false; 523_776];
        for _ in 0..523_775 {
            let pair = alloc.allocate().expect("a free pair");
            assert!(!PairSpace::default().is_reserved(&pair));
            let key = pair.key() as usize;
            assert!(!seen[key], "duplicate {pair}");
            seen[key] = true;
        }
        assert_eq!(alloc.len(), 523_775);
        assert_eq!(alloc.available(), 0);
        let err = alloc.allocate().unwrap_err();
        assert!(matches!(
            err,
            McsError::Exhausted {
                capacity: 523_775,
                ..
            }
        ));
        assert!(err.to_string().contains("523775 pairs"), "{err}");
        // Release then reuse: the only free pair is the one released.
        let level: Level = "s0:c186,c641".parse().expect("level");
        assert!(alloc.release(&level).expect("a pair"));
        assert!(alloc.is_free(&level));
        assert_eq!(alloc.allocate().expect("reuse").level(), level);
    }

    /// Pearson's chi-square over a 45-pair pool: 45,000 draws from a fresh
    /// allocator, then 45,000 draws among the 9 pairs left once 36 are taken.
    /// The critical values are for p = 0.001 (44 and 8 degrees of freedom),
    /// and the RNG is seeded, so the test is deterministic.
    #[test]
    fn draws_are_uniform_chi_square() {
        fn chi2(counts: &[u64]) -> f64 {
            let n: u64 = counts.iter().sum();
            let expected = n as f64 / counts.len() as f64;
            counts
                .iter()
                .map(|&c| (c as f64 - expected).powi(2) / expected)
                .sum()
        }
        let mut alloc = small("c0.c9");
        assert_eq!(alloc.capacity(), 45);
        let mut counts = vec![0u64; 45];
        for _ in 0..45_000 {
            let pair = alloc.allocate().expect("free");
            counts[alloc.space().rank(&pair).expect("in pool")] += 1;
            alloc.release(&pair.level()).expect("release");
        }
        let stat = chi2(&counts);
        assert!(stat < 78.75, "chi-square {stat} over {counts:?}");

        // Now with most of the pool taken (the sparse set has been shuffled).
        let taken: Vec<CategoryPair> = (0..36).map(|_| alloc.allocate().expect("free")).collect();
        let mut counts = std::collections::BTreeMap::new();
        for _ in 0..45_000 {
            let pair = alloc.allocate().expect("free");
            assert!(!taken.contains(&pair));
            *counts.entry(pair).or_insert(0u64) += 1;
            alloc.release(&pair.level()).expect("release");
        }
        assert_eq!(counts.len(), 9);
        let counts: Vec<u64> = counts.into_values().collect();
        let stat = chi2(&counts);
        assert!(stat < 26.12, "chi-square {stat} over {counts:?}");
    }

    #[test]
    fn reserve_release_and_errors() {
        let mut alloc = small("c0.c3");
        assert_eq!(alloc.capacity(), 6);
        let level: Level = "s0:c1,c3".parse().expect("level");
        alloc.reserve(&level).expect("free");
        assert!(!alloc.is_free(&level));
        assert!(matches!(
            alloc.reserve(&level),
            Err(McsError::Taken { owner: None, .. })
        ));
        let mut got = HashSet::new();
        while let Ok(pair) = alloc.allocate() {
            got.insert(pair);
        }
        assert_eq!(got.len(), 5);
        assert!(!got.contains(&CategoryPair::try_from(&level).expect("pair")));
        assert!(alloc.release(&level).expect("pair"));
        assert!(!alloc.release(&level).expect("pair"));
        assert!(alloc.is_free(&level));

        let outside: Level = "s0:c1,c9".parse().expect("level");
        assert!(matches!(
            alloc.reserve(&outside),
            Err(McsError::OutsidePool { .. })
        ));
        assert!(!alloc.is_free(&outside));
        for text in ["s0", "s0:c1", "s0:c0.c2"] {
            let l: Level = text.parse().expect("level");
            assert!(matches!(alloc.reserve(&l), Err(McsError::NotAPair { .. })));
            assert!(matches!(alloc.release(&l), Err(McsError::NotAPair { .. })));
        }

        let mut full = Allocator::new(PairSpace::default());
        let privileged = PairSpace::privileged_pair().level();
        assert!(!full.is_free(&privileged));
        assert!(matches!(
            full.reserve(&privileged),
            Err(McsError::Reserved { .. })
        ));
        assert!(matches!(
            full.release(&privileged),
            Err(McsError::Reserved { .. })
        ));
    }

    #[test]
    fn clear_frees_everything_but_reserved() {
        let mut alloc = small("c1020.c1023");
        assert_eq!(alloc.capacity(), 5);
        for _ in 0..5 {
            alloc.allocate().expect("free");
        }
        assert!(alloc.allocate().is_err());
        alloc.clear();
        assert_eq!(alloc.available(), 5);
        assert!(!alloc.is_free(&PairSpace::privileged_pair().level()));
    }
}
