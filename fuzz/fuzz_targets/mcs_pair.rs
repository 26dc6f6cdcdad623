//! Fuzzes `CategoryPair::from_str` and pool parsing for `PairSpace`:
//! no panic, and whatever parses round-trips through its text, its level and
//! its rank in the default space.
#![no_main]

use libfuzzer_sys::fuzz_target;
use selinux_mcs::mcs::{CategoryPair, PairSpace};
use selinux_mcs::mls::CategorySet;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(pair) = text.parse::<CategoryPair>() {
        assert!(pair.first() < pair.second());
        let again: CategoryPair = pair.to_string().parse().expect("canonical text parses");
        assert_eq!(again, pair);
        assert_eq!(CategoryPair::try_from(pair.level()).expect("level"), pair);
        let space = PairSpace::default();
        let rank = space.rank(&pair).expect("every pair is in the default pool");
        assert_eq!(space.unrank(rank), Some(pair));
    }
    if let Ok(pool) = text.parse::<CategorySet>() {
        match PairSpace::new(pool) {
            Ok(space) => {
                assert!(pool.len() >= 2);
                let last = space.len() - 1;
                let pair = space.unrank(last).expect("last rank");
                assert_eq!(space.rank(&pair), Some(last));
            }
            Err(_) => assert!(pool.len() < 2),
        }
    }
});
