fn main() {
    for a in std::env::args().skip(1) {
        match a.parse::<selinux_mcs::SecurityContext>() {
            Ok(c) => println!("{a:?} -> {c}"),
            Err(e) => println!("{a:?} -> ERR {} | {e}", e.kind()),
        }
    }
}
