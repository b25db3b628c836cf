//! Generates `include/aichat.h` from the `extern "C"` items with cbindgen. The header is
//! committed; it is rewritten only when its content changes, and CI checks that a build leaves
//! it unchanged.

use std::path::Path;

fn main() {
    // The shared library's soname carries the major version (libaichat.so.0 while 0.x), so an
    // incompatible release can be installed beside this one.
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets the version");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libaichat.so.{major}");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
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
    let out = Path::new(&crate_dir).join("include").join("aichat.h");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    if std::fs::read(&out).ok().as_deref() != Some(&generated[..]) {
        std::fs::create_dir_all(out.parent().unwrap()).expect("create include/");
        std::fs::write(&out, generated).expect("write include/aichat.h");
    }
}
