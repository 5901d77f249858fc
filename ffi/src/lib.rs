//! The rfc6455 engine's C ABI: `include/rfc6455.h`, generated from this crate
//! by cbindgen.
//!
//! The C caller owns the sockets, the clock and the buffers: it feeds bytes
//! in (`conn::rfc6455_conn_handle_bytes`), takes events out
//! (`conn::rfc6455_conn_poll_event`) and copies the bytes to write into a
//! buffer of its own (`conn::rfc6455_conn_poll_transmit`). Nothing calls
//! back into C but the optional random source.
//!
//! The rules every export keeps (`docs/c-api.md` has the table):
//!
//! - It runs inside `guard!`: a panic comes back as `RFC6455_PANIC` and
//!   never unwinds into C; a connection a panic left half-changed answers
//!   `RFC6455_PANIC` from then on (free it).
//! - Pointers are raw and checked: a NULL where one is needed is
//!   `RFC6455_ERR_NULL_ARGUMENT`, and nothing changes.
//! - Results are status codes; values come back through out-parameters,
//!   which are written only on success.
//! - No global state: one connection is used by one thread at a time, and
//!   different connections by different threads at once.

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_camel_case_types)]

use core::ffi::c_char;

pub mod config;
pub mod conn;
mod status;

pub use status::*;

/// Runs the body of an export, catching a panic: the export then returns
/// `PanicValue::on_panic` of its return type (`RFC6455_PANIC` for a
/// status). Every `extern "C" fn` of this crate is `guard!({ … })` and
/// nothing else (a test reads the sources to check it).
macro_rules! guard {
    ($body:block) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| $body)) {
            Ok(value) => value,
            Err(payload) => {
                // Dropped inside a guard too: a payload whose drop panics
                // must not unwind out of here (it is leaked instead).
                if let Err(again) = ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| drop(payload))) {
                    ::core::mem::forget(again);
                }
                $crate::PanicValue::on_panic()
            }
        }
    };
}
pub(crate) use guard;

/// The value of an `Ok`, or returns the `Err`'s status from the export (the
/// `?` of a function whose errors are statuses).
macro_rules! ok_or_return {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(status) => return status,
        }
    };
}
pub(crate) use ok_or_return;

/// What an export returns when its body panicked.
pub trait PanicValue {
    /// The value for a panic.
    fn on_panic() -> Self;
}

impl PanicValue for status::rfc6455_status {
    fn on_panic() -> Self {
        RFC6455_PANIC
    }
}

impl PanicValue for () {
    fn on_panic() -> Self {}
}

impl PanicValue for *const c_char {
    fn on_panic() -> Self {
        c"panic".as_ptr()
    }
}

/// The major version, as in `RFC6455_VERSION_NUMBER`.
pub const RFC6455_VERSION_MAJOR: u32 = 0;
/// The minor version.
pub const RFC6455_VERSION_MINOR: u32 = 1;
/// The patch version.
pub const RFC6455_VERSION_PATCH: u32 = 0;
/// The version as one number, `MAJOR * 1000000 + MINOR * 1000 + PATCH`, to
/// compare at compile time with `rfc6455_version_number`'s run-time one.
pub const RFC6455_VERSION_NUMBER: u32 = 1000;

/// The library's version as `RFC6455_VERSION_NUMBER` computes it, for a
/// caller to check that the library it runs with is the one it was built
/// against (same major version, minor at least the header's).
#[unsafe(no_mangle)]
pub extern "C" fn rfc6455_version_number() -> u32 {
    guard!({ version_number() })
}

/// The library's version as a string, `"MAJOR.MINOR.PATCH"`; static, never
/// freed.
#[unsafe(no_mangle)]
pub extern "C" fn rfc6455_version() -> *const c_char {
    guard!({ concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast() })
}

/// The version from Cargo's, as the macros should compute it.
fn version_number() -> u32 {
    let part = |s: &str| s.parse::<u32>().unwrap_or(0);
    part(env!("CARGO_PKG_VERSION_MAJOR")) * 1_000_000
        + part(env!("CARGO_PKG_VERSION_MINOR")) * 1_000
        + part(env!("CARGO_PKG_VERSION_PATCH"))
}

/// Panics inside the guard, for tests of the panic boundary (the Python
/// suite calls it): returns `RFC6455_PANIC`, and the process goes on.
/// Nothing else calls it.
#[unsafe(no_mangle)]
pub extern "C" fn rfc6455_test_panic() -> status::rfc6455_status {
    guard!({ panic!("rfc6455_test_panic: a panic on purpose") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_constants_agree_with_cargo() {
        assert_eq!(RFC6455_VERSION_MAJOR, env!("CARGO_PKG_VERSION_MAJOR").parse::<u32>().unwrap());
        assert_eq!(RFC6455_VERSION_MINOR, env!("CARGO_PKG_VERSION_MINOR").parse::<u32>().unwrap());
        assert_eq!(RFC6455_VERSION_PATCH, env!("CARGO_PKG_VERSION_PATCH").parse::<u32>().unwrap());
        let computed = RFC6455_VERSION_MAJOR * 1_000_000 + RFC6455_VERSION_MINOR * 1_000 + RFC6455_VERSION_PATCH;
        assert_eq!(RFC6455_VERSION_NUMBER, computed);
        assert_eq!(rfc6455_version_number(), computed);
        // SAFETY: a static NUL-terminated string.
        let text = unsafe { core::ffi::CStr::from_ptr(rfc6455_version()) }.to_str().unwrap();
        assert_eq!(text, env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn a_panic_inside_the_guard_is_the_panic_status() {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let status = rfc6455_test_panic();
        std::panic::set_hook(hook);
        assert_eq!(status, RFC6455_PANIC);
    }

    /// Every export is `guard!({ … })`, the whole body: rustls-ffi once
    /// shipped an export without its panic boundary (#286). Exports are found
    /// by their no-mangle attribute, whatever their ABI string, in every
    /// source file, and must be exactly the functions the header declares.
    #[test]
    fn every_export_runs_inside_the_guard() {
        let mut exported = std::collections::BTreeSet::new();
        let mut files = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            // The needles are built, so that this test's own text is not found.
            let (no_mangle, renamed) = (["#[unsafe(", "no_mangle)]"].concat(), ["export", "_name"].concat());
            assert!(!source.contains(&renamed), "{}: exports are no_mangle only", path.display());
            let mut rest = source.as_str();
            while let Some(at) = rest.find(&no_mangle) {
                let after = &rest[at..];
                let fn_at = after.find("fn ").unwrap();
                let name: String =
                    after[fn_at + 3..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                assert!(after[..fn_at].contains("extern \"C\" "), "{name}: not extern \"C\"");
                // The body: from the first `{` after the signature's `)`.
                let sig_end = fn_at + after[fn_at..].find(") ").map(|i| i + 1).unwrap();
                let open = sig_end + after[sig_end..].find('{').unwrap();
                let close = open + matching_brace(&after[open..]);
                let body = after[open + 1..close].trim();
                assert!(body.starts_with("guard!({"), "{}: `{name}` does not start with guard!", path.display());
                // The guard's block is the whole body: `})` and nothing after.
                let block = body.find('{').unwrap();
                let block_end = block + matching_brace(&body[block..]);
                assert_eq!(&body[block_end..], "})", "{}: `{name}` has code after its guard", path.display());
                exported.insert(name);
                rest = &after[close..];
            }
        }
        let header = include_str!("../include/rfc6455.h");
        // A function is an identifier right before `(`.
        let declared: std::collections::BTreeSet<String> = header
            .match_indices('(')
            .filter_map(|(at, _)| {
                let before = &header[..at];
                let start = before.rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
                let name = &before[start..];
                name.starts_with("rfc6455_").then(|| name.to_string())
            })
            .collect();
        assert_eq!(exported, declared, "the exports and the header's functions");
        assert!(exported.len() > 40, "found only {} exports", exported.len());
    }

    /// The offset of the `}` that closes the `{` at the start of `s`.
    fn matching_brace(s: &str) -> usize {
        let mut depth = 0;
        for (i, c) in s.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return i;
                    }
                }
                _ => {}
            }
        }
        panic!("unbalanced braces");
    }
}
