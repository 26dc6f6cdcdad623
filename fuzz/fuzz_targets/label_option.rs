//! Fuzzes the container label options (`type:spc_t`, `level:s0:c1,c2`,
//! `disable`, ...) and `init_labels` with whatever parses: parsing never
//! panics, a parsed option prints back to an option that parses the same,
//! and the labels built from it carry the level asked for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use selinux_mcs::label::{init_labels, LabelOption};
use selinux_mcs::policy::ContainerContexts;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let options: Vec<LabelOption> = text.split('\n').filter_map(|l| l.parse().ok()).collect();
    for o in &options {
        let again: LabelOption = o.to_string().parse().expect("a printed option parses");
        assert_eq!(&again, o);
    }
    let contexts = ContainerContexts::from_str(
        "process = \"system_u:system_r:container_t:s0\"\nfile = \"system_u:object_r:container_file_t:s0\"\n",
    )
    .expect("contexts");
    let pair = "s0:c1,c2".parse().expect("level");
    if let Ok(labels) = init_labels(&contexts, &options, |asked| {
        Ok::<_, std::convert::Infallible>(asked.copied().unwrap_or(pair))
    }) {
        if let Some(p) = &labels.process {
            assert_eq!(p.level(), labels.file.level());
        }
    }
});
