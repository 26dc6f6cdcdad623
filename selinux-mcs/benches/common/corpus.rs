//! The corpus of realistic contexts shared by the `context` benchmarks.

/// A small deterministic generator, so every run measures the same corpus.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The corpus, as text (some of it not canonical, as real input is not).
pub fn corpus(n: usize, canonical: bool) -> Vec<String> {
    const NAMES: [&str; 6] = [
        "system_u:object_r:container_file_t",
        "system_u:system_r:container_t",
        "system_u:system_r:svirt_lxc_net_t",
        "unconfined_u:unconfined_r:unconfined_t",
        "system_u:object_r:container_ro_file_t",
        "system_u:system_r:spc_t",
    ];
    let mut rng = Lcg(0x05e1_10c5);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let names = NAMES[rng.below(NAMES.len() as u64) as usize];
        let pair = |rng: &mut Lcg| {
            let a = rng.below(1023);
            let b = a + 1 + rng.below(1023 - a);
            (a, b)
        };
        let mls = match rng.below(6) {
            0 => "s0".to_owned(),
            1 => {
                let (a, b) = pair(&mut rng);
                format!("s0:c{a},c{b}")
            }
            2 => "s0-s0:c0.c1023".to_owned(),
            3 => {
                let (a, b) = pair(&mut rng);
                format!("s0:c{a}.c{b}")
            }
            4 => {
                let k = 3 + rng.below(10);
                let cats: Vec<String> = (0..k).map(|_| format!("c{}", rng.below(1024))).collect();
                let written = format!("s0:{}", cats.join(","));
                if canonical {
                    // As the kernel prints it (sorted runs): what xattrs and
                    // /proc hold.
                    let level: selinux_mcs::mls::Level = written.parse().expect("valid level");
                    level.to_string()
                } else {
                    written
                }
            }
            _ => {
                let (a, b) = pair(&mut rng);
                format!("s0-s0:c{a},c{b}")
            }
        };
        out.push(format!("{names}:{mls}"));
    }
    out
}
