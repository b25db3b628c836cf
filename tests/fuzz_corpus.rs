//! Replays the committed fuzz corpus (fuzz/corpus/, and fuzz/regressions/ for inputs that once
//! failed) through the fuzz targets' own checks, so `make test` keeps what fuzzing found.

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::Path;

fn replay(target: &str, check: impl Fn(&[u8])) -> usize {
    let mut n = 0;
    for dir in ["corpus", "regressions"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join(dir).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&data)));
            assert!(result.is_ok(), "{} fails its fuzz check", path.display());
            n += 1;
        }
    }
    n
}

#[test]
fn request_json_corpus() {
    let n = replay("request_json", |d| {
        if let Ok(text) = std::str::from_utf8(d) {
            checks::request_json(text)
        }
    });
    assert!(n >= 3, "{n} inputs");
}

#[test]
fn sse_framer_corpus() {
    assert!(replay("sse_framer", checks::sse_framer) >= 2);
}

#[test]
fn ndjson_framer_corpus() {
    assert!(replay("ndjson_framer", checks::ndjson_framer) >= 4);
}

#[test]
fn eventstream_framer_corpus() {
    assert!(replay("eventstream_framer", checks::eventstream_framer) >= 20);
}

#[test]
fn aichat_answer_corpus() {
    assert!(replay("aichat_answer", checks::aichat_answer) >= 2);
}

#[test]
fn openai_answer_corpus() {
    assert!(replay("openai_answer", checks::openai_answer) >= 3);
}

#[test]
fn anthropic_answer_corpus() {
    assert!(replay("anthropic_answer", checks::anthropic_answer) >= 4);
}

#[test]
fn bedrock_answer_corpus() {
    assert!(replay("bedrock_answer", checks::bedrock_answer) >= 6);
}

#[test]
fn ollama_answer_corpus() {
    assert!(replay("ollama_answer", checks::ollama_answer) >= 4);
}

#[test]
fn fast_paths_corpus() {
    assert!(replay("fast_paths", checks::fast_paths) >= 8);
}
