//! The README's tokio server is `examples/readme_tokio.rs`, which the tests
//! member builds: the two must not drift apart.

#[test]
fn the_readme_tokio_server_is_the_example() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let example = std::fs::read_to_string(root.join("examples/readme_tokio.rs")).unwrap();
    let start = readme.find("```rust,ignore\nuse rfc6455::tokio::").expect("the block") + "```rust,ignore\n".len();
    let block = &readme[start..start + readme[start..].find("```").expect("its end")];
    let code = &example[example.find("use rfc6455::tokio::").expect("the code")..];
    assert_eq!(block, code);
}
