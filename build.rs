//! Generates the C header from the `extern "C"` items with cbindgen, into `OUT_DIR` always,
//! and into `include/aichat.h` (the committed copy) only when `AICHAT_GENERATE_HEADER=1` (as the
//! Makefile's builds set it): a plain `cargo build`, such as a dependent crate's, never writes
//! into the source tree. The copy is rewritten only when its content changes; `make test` checks
//! that a build leaves it unchanged.

use std::path::Path;

fn main() {
    // On Linux the shared library's soname carries the major version (libaichat.so.0 while
    // 0.x), so an incompatible release can be installed beside this one. Other platforms name
    // their libraries differently (macOS: an install name), and their linkers don't take -soname.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets the version");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libaichat.so.{major}");
    }
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=AICHAT_GENERATE_HEADER");
    let crate_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let config =
        cbindgen::Config::from_file(Path::new(&crate_dir).join("cbindgen.toml")).expect("cbindgen.toml parses");
    let bindings = match cbindgen::generate_with_config(&crate_dir, config) {
        Ok(b) => b,
        Err(e) => {
            // A syntax error in src/ is reported better by rustc itself; don't fail here.
            println!("cargo:warning=cbindgen could not generate the header: {e}");
            return;
        }
    };
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out_dir).join("aichat.h"), &generated).expect("write OUT_DIR/aichat.h");
    if std::env::var("AICHAT_GENERATE_HEADER").as_deref() != Ok("1") {
        return;
    }
    let out = Path::new(&crate_dir).join("include").join("aichat.h");
    if std::fs::read(&out).ok().as_deref() != Some(&generated[..]) {
        std::fs::create_dir_all(out.parent().unwrap()).expect("create include/");
        std::fs::write(&out, generated).expect("write include/aichat.h");
    }
}
