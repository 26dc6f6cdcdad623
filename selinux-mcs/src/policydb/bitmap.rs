//! The kernel's extensible bitmap, kept as it is stored: sorted nodes of a
//! start bit and 64 bits. Sparse sets of types and roles stay small.

/// A set of bit numbers (policy values minus one, as the kernel stores
/// them, except where a field says otherwise).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bitmap {
    nodes: Box<[(u32, u64)]>,
}

impl Bitmap {
    pub(crate) fn from_nodes(nodes: Vec<(u32, u64)>) -> Bitmap {
        Bitmap {
            nodes: nodes.into_boxed_slice(),
        }
    }

    /// A bitmap of the given bits (any order, duplicates allowed).
    pub fn from_bits(bits: impl IntoIterator<Item = u32>) -> Bitmap {
        let mut nodes: Vec<(u32, u64)> = Vec::new();
        let mut all: Vec<u32> = bits.into_iter().collect();
        all.sort_unstable();
        for bit in all {
            let start = bit - bit % 64;
            match nodes.last_mut() {
                Some((s, map)) if *s == start => *map |= 1 << (bit - start),
                _ => nodes.push((start, 1 << (bit - start))),
            }
        }
        Bitmap::from_nodes(nodes)
    }

    /// Whether `bit` is set.
    pub fn contains(&self, bit: u32) -> bool {
        let start = bit - bit % 64;
        match self.nodes.binary_search_by_key(&start, |&(s, _)| s) {
            Ok(i) => self.nodes[i].1 & (1 << (bit - start)) != 0,
            Err(_) => false,
        }
    }

    /// Whether every bit of `other` is set here.
    pub fn contains_all(&self, other: &Bitmap) -> bool {
        other.nodes.iter().all(|&(start, map)| {
            match self.nodes.binary_search_by_key(&start, |&(s, _)| s) {
                Ok(i) => self.nodes[i].1 & map == map,
                Err(_) => false,
            }
        })
    }

    /// Whether no bit is set.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// How many bits are set.
    pub fn len(&self) -> usize {
        self.nodes
            .iter()
            .map(|&(_, m)| m.count_ones() as usize)
            .sum()
    }

    /// The highest bit set.
    pub fn last(&self) -> Option<u32> {
        self.nodes.last().map(|&(s, m)| s + 63 - m.leading_zeros())
    }

    /// The bits, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.nodes.iter().flat_map(|&(start, map)| {
            let mut m = map;
            std::iter::from_fn(move || {
                if m == 0 {
                    return None;
                }
                let b = m.trailing_zeros();
                m &= m - 1;
                Some(start + b)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip() {
        let b = Bitmap::from_bits([5, 0, 64, 200, 63, 5]);
        assert_eq!(b.iter().collect::<Vec<_>>(), vec![0, 5, 63, 64, 200]);
        assert_eq!(b.len(), 5);
        assert_eq!(b.last(), Some(200));
        assert!(b.contains(63) && b.contains(200) && !b.contains(1) && !b.contains(1000));
        assert!(b.contains_all(&Bitmap::from_bits([0, 200])));
        assert!(!b.contains_all(&Bitmap::from_bits([0, 201])));
        assert!(Bitmap::default().is_empty());
    }
}
