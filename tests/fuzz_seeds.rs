//! The seed corpora of the fuzz targets, `fuzz/seeds/TARGET/`, are made here:
//! RFC 6455 §1.3 and browser handshakes, the §5.7 frames, close payloads,
//! UTF-8 edge cases, and a few connection scripts. `WRITE_SEEDS=1 cargo test -p
//! rfc6455-tests --test fuzz_seeds` rewrites the files; a plain run checks that they are
//! up to date and that every seed passes its target's harness.

use std::path::PathBuf;

use rfc6455::fuzzing::{self, Content, Masking, REQUESTS, RESPONSES, Script, Settings, Step};
use rfc6455::{Role, truncate_reason};

/// One seed: the target, the file name, and what it holds.
struct Seed {
    target: &'static str,
    name: &'static str,
    input: Input,
}

enum Input {
    Bytes(Vec<u8>),
    Script(Role, Script),
}

impl Seed {
    fn bytes(target: &'static str, name: &'static str, bytes: impl Into<Vec<u8>>) -> Self {
        Seed { target, name, input: Input::Bytes(bytes.into()) }
    }

    fn script(role: Role, name: &'static str, open: bool, settings: Settings, steps: Vec<Step>) -> Self {
        let target = if role == Role::Client { "connection_client" } else { "connection_server" };
        Seed { target, name, input: Input::Script(role, Script { open, settings, steps }) }
    }

    fn file_bytes(&self) -> Vec<u8> {
        match &self.input {
            Input::Bytes(b) => b.clone(),
            Input::Script(_, s) => s.to_fuzz_input(),
        }
    }

    fn run(&self) {
        match (&self.input, self.target) {
            (Input::Script(role, script), _) => fuzzing::connection(*role, script),
            (Input::Bytes(b), "frames") => fuzzing::frames(b),
            (Input::Bytes(b), "server_request") => fuzzing::server_request(b),
            (Input::Bytes(b), "client_response") => fuzzing::client_response(b),
            (Input::Bytes(b), "close_payload") => fuzzing::close_payload(b),
            (Input::Bytes(b), "utf8") => fuzzing::utf8(b),
            (_, other) => panic!("no target {other}"),
        }
    }
}

const TARGETS: [&str; 7] =
    ["frames", "server_request", "client_response", "close_payload", "utf8", "connection_client", "connection_server"];

// RFC 6455 §5.7.
const HELLO_UNMASKED: &[u8] = &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
const HELLO_MASKED: &[u8] = &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
const HEL: &[u8] = &[0x01, 0x03, 0x48, 0x65, 0x6c];
const LO: &[u8] = &[0x80, 0x02, 0x6c, 0x6f];
const PING_UNMASKED: &[u8] = &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
const PONG_MASKED: &[u8] = &[0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A frame with minimal length encoding, masked with the §5.7 key if `masked`.
fn frame(head: u8, masked: bool, payload: &[u8]) -> Vec<u8> {
    let bit = if masked { 0x80 } else { 0 };
    let mut out = vec![head];
    match payload.len() {
        n @ 0..=125 => out.push(bit | n as u8),
        n @ 126..=0xFFFF => {
            out.push(bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        out.extend_from_slice(&KEY);
    }
    out.extend(payload.iter().enumerate().map(|(i, b)| if masked { b ^ KEY[i % 4] } else { *b }));
    out
}

fn close(code: u16, reason: &str) -> Vec<u8> {
    [&code.to_be_bytes()[..], reason.as_bytes()].concat()
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn seeds() -> Vec<Seed> {
    let binary: Vec<u8> = (0..256).map(|i| (i * 7 % 251) as u8).collect();
    let long_reason = truncate_reason(&"é".repeat(70)).to_string();
    let mut seeds = vec![
        // frames: a selector byte (docs in `fuzzing::frames`), then the wire.
        Seed::bytes(
            "frames",
            "client_5_7",
            cat(&[&[0x01], HELLO_UNMASKED, HEL, PING_UNMASKED, LO, &frame(0x82, false, &binary)]),
        ),
        Seed::bytes(
            "frames",
            "server_5_7",
            cat(&[&[0x00], HELLO_MASKED, PONG_MASKED, &frame(0x88, true, &close(1000, "bye"))]),
        ),
        Seed::bytes(
            "frames",
            "client_streaming_split_characters",
            cat(&[
                &[0x33],
                &frame(0x01, false, &"aé€😀".as_bytes()[..4]),
                &frame(0x89, false, b""),
                &frame(0x80, false, &"aé€😀".as_bytes()[4..]),
            ]),
        ),
        Seed::bytes(
            "frames",
            "server_64_bit_length_over_limit",
            cat(&[&[0x08], &[0x82, 0xFF], &65536u64.to_be_bytes(), &KEY, &[0; 8]]),
        ),
        Seed::bytes("frames", "client_bad_utf8", cat(&[&[0x01], &frame(0x81, false, &[0xCE, 0xBA, 0xED, 0xA0])])),
        // server_request and client_response: real handshakes.
        Seed::bytes("server_request", "rfc_1_3", REQUESTS[0]),
        Seed::bytes("server_request", "minimal", REQUESTS[1]),
        Seed::bytes("server_request", "browser", REQUESTS[2]),
        Seed::bytes("server_request", "plain_get", REQUESTS[3]),
        Seed::bytes("server_request", "version_8", REQUESTS[4]),
        Seed::bytes("server_request", "rfc_1_3_then_a_frame", cat(&[REQUESTS[0].as_bytes(), HELLO_MASKED])),
        Seed::bytes("client_response", "rfc_1_3", RESPONSES[0]),
        Seed::bytes("client_response", "no_protocol", RESPONSES[1]),
        Seed::bytes("client_response", "extension_not_offered", RESPONSES[2]),
        Seed::bytes("client_response", "not_found", RESPONSES[3]),
        Seed::bytes("client_response", "wrong_accept", RESPONSES[4]),
        Seed::bytes(
            "client_response",
            "rfc_1_3_then_frames",
            cat(&[RESPONSES[0].as_bytes(), HELLO_UNMASKED, PING_UNMASKED]),
        ),
        // close_payload: RFC 6455 §5.5.1 payloads.
        Seed::bytes("close_payload", "empty", vec![]),
        Seed::bytes("close_payload", "one_byte", vec![0x03]),
        Seed::bytes("close_payload", "normal", close(1000, "")),
        Seed::bytes("close_payload", "normal_bye", close(1000, "bye")),
        Seed::bytes("close_payload", "no_status_on_the_wire", close(1005, "")),
        Seed::bytes("close_payload", "application_long_reason", close(4000, &long_reason)),
        Seed::bytes("close_payload", "library_bad_utf8", cat(&[&close(3000, ""), &[0xC0, 0x80]])),
        // utf8: `data[0] % 16` piece sizes, then the text.
        Seed::bytes("utf8", "ascii_whole", cat(&[&[0], b"hello"])),
        Seed::bytes("utf8", "every_width_bytewise", cat(&[&[3, 1, 1, 1], "aé€😀".as_bytes()])),
        Seed::bytes("utf8", "kosme_in_pieces", cat(&[&[2, 3, 1], "κόσμε".as_bytes()])),
        Seed::bytes("utf8", "above_max_code_point", vec![1, 1, 0xF4, 0x90, 0x80, 0x80]),
        Seed::bytes("utf8", "surrogate", vec![0, 0xED, 0xA0, 0x80]),
        Seed::bytes("utf8", "truncated_then_ascii", vec![2, 1, 2, 0xE2, 0x82, b'a']),
        Seed::bytes("utf8", "truncated_at_end", vec![0, b'a', 0xF0, 0x9F, 0x98]),
    ];
    let roomy = Settings::roomy;
    let streaming = || Settings { streaming: true, ..Settings::roomy() };
    let timers = || Settings { keepalive: Some(10), idle: Some(30), close_timeout: 20, ..Settings::roomy() };
    seeds.extend([
        Seed::script(
            Role::Client,
            "echo_and_close",
            false,
            roomy(),
            vec![
                Step::Handshake(0),
                Step::Deliver(0),
                Step::SendText { len: 5, wide: false },
                Step::Sample(0),
                Step::Sample(3),
                Step::Deliver(3),
                Step::Close { code: 1000, reason_len: 3 },
                Step::CloseFrame { code: 1000, reason_len: 3 },
                Step::Deliver(0),
                Step::Eof,
            ],
        ),
        Seed::script(
            Role::Client,
            "streaming_fragments",
            false,
            streaming(),
            vec![
                Step::Handshake(1),
                Step::Sample(1),
                Step::Sample(3),
                Step::Sample(2),
                Step::Frame { head: 0x81, masking: Masking::AsPeer, len: 40, content: Content::Wide },
                Step::Deliver(1),
                Step::SendFragment { text: true, len: 7, fin: false },
                Step::Ping(4),
                Step::SendFragment { text: true, len: 7, fin: true },
                Step::CloseFrame { code: 1001, reason_len: 10 },
                Step::Deliver(0),
                Step::Advance(6000),
            ],
        ),
        Seed::script(
            Role::Client,
            "keepalive_and_idle",
            false,
            timers(),
            vec![
                Step::Handshake(0),
                Step::Deliver(0),
                Step::Advance(1500),
                Step::Sample(4),
                Step::Deliver(0),
                Step::Advance(5000),
            ],
        ),
        Seed::script(Role::Client, "refused", false, roomy(), vec![Step::Handshake(3), Step::Deliver(5)]),
        Seed::script(
            Role::Client,
            "open_then_a_violation",
            true,
            roomy(),
            vec![
                Step::Sample(0),
                Step::Frame { head: 0x83, masking: Masking::AsPeer, len: 1, content: Content::Ascii },
                Step::Deliver(0),
            ],
        ),
        Seed::script(
            Role::Server,
            "accept_messages_close",
            false,
            roomy(),
            vec![
                Step::Handshake(0),
                Step::Deliver(7),
                Step::Accept { protocol: 1, header: 1 },
                Step::Sample(0),
                Step::Sample(1),
                Step::Sample(2),
                Step::Deliver(0),
                Step::SendBinary(300),
                Step::CloseFrame { code: 1000, reason_len: 3 },
                Step::Deliver(0),
            ],
        ),
        Seed::script(
            Role::Server,
            "browser_with_early_data",
            false,
            roomy(),
            vec![
                Step::Handshake(2),
                Step::Sample(0),
                Step::Deliver(0),
                Step::Accept { protocol: 0, header: 0 },
                Step::Sample(5),
                Step::Deliver(2),
                Step::Close { code: 4000, reason_len: 20 },
                Step::Advance(6000),
            ],
        ),
        Seed::script(
            Role::Server,
            "plain_get_rejected",
            false,
            roomy(),
            vec![Step::Handshake(3), Step::Deliver(0), Step::Accept { protocol: 0, header: 0 }, Step::Reject(404)],
        ),
        Seed::script(Role::Server, "version_8", false, roomy(), vec![Step::Handshake(4), Step::Deliver(0)]),
        Seed::script(
            Role::Server,
            "open_streaming_64_kib",
            true,
            streaming(),
            vec![Step::Sample(6), Step::DeliverPieces(vec![200, 17]), Step::Eof],
        ),
    ]);
    // A driver slower than the contract's: bytes handed in while events
    // wait, the rest handed in later; an EOF, a transport error and the close
    // timer behind unread input; more than 16 pings before the transmits are
    // taken (tests/fuzz_coverage.rs checks that the harness gets there).
    let hellos = |n| vec![Step::Sample(0); n];
    let unread = |max_unread| Settings { max_unread, ..Settings::roomy() };
    let pings: Vec<Step> =
        (0..20).map(|len| Step::Frame { head: 0x89, masking: Masking::AsPeer, len, content: Content::Ascii }).collect();
    seeds.extend([
        Seed::script(
            Role::Server,
            "lazy_partial_takes",
            true,
            unread(10),
            [hellos(5), vec![Step::Feed(0), Step::Feed(4), Step::Deliver(0)]].concat(),
        ),
        Seed::script(
            Role::Client,
            "lazy_eof_behind_unread",
            true,
            roomy(),
            [hellos(3), vec![Step::Feed(0), Step::Eof]].concat(),
        ),
        Seed::script(
            Role::Server,
            "lazy_transport_error_behind_unread",
            true,
            unread(5),
            [hellos(3), vec![Step::Feed(0), Step::TransportError]].concat(),
        ),
        Seed::script(
            Role::Server,
            "lazy_close_timer_waits",
            true,
            Settings { close_timeout: 10, ..Settings::roomy() },
            [
                vec![Step::Close { code: 1000, reason_len: 4 }],
                hellos(3),
                vec![Step::Feed(0), Step::Advance(3000), Step::Timeout, Step::TakeEvents, Step::Advance(3000)],
            ]
            .concat(),
        ),
        Seed::script(
            Role::Client,
            "lazy_pings_coalesce",
            true,
            roomy(),
            [pings.clone(), vec![Step::CloseFrame { code: 1000, reason_len: 2 }, Step::Feed(5), Step::TakeEvents]]
                .concat(),
        ),
        Seed::script(
            Role::Server,
            "lazy_pings_coalesce",
            true,
            roomy(),
            [pings, vec![Step::Feed(0), Step::TakeEvents]].concat(),
        ),
        // Found by the campaign of 2026-12-03 (a libFuzzer timeout): with no
        // unread input allowed, read_buf lent 1-byte rooms, and the harness
        // formatted the whole connection after each.
        Seed::script(
            Role::Client,
            "no_unread_room",
            false,
            Settings { max_unread: 0, max_message_size: 65368, handshake_timeout: Some(1), ..Settings::roomy() },
            vec![
                Step::Handshake(0),
                Step::Frame { head: 1, masking: Masking::AsPeer, len: 48127, content: Content::Zeros },
                Step::Handshake(0),
            ],
        ),
        Seed::script(
            Role::Server,
            "no_unread_room",
            true,
            Settings { streaming: true, max_unread: 0, idle: Some(100), ..Settings::roomy() },
            vec![Step::Sample(160), Step::Sample(6)],
        ),
    ]);
    seeds
}

fn seed_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds").join(target)
}

#[test]
fn committed_seeds_are_up_to_date() {
    let seeds = seeds();
    let write = std::env::var_os("WRITE_SEEDS").is_some();
    for target in TARGETS {
        let dir = seed_dir(target);
        let expected: Vec<&Seed> = seeds.iter().filter(|s| s.target == target).collect();
        assert!(!expected.is_empty(), "no seed for {target}");
        if write {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            for seed in &expected {
                std::fs::write(dir.join(seed.name), seed.file_bytes()).unwrap();
            }
        }
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| {
                panic!("{}: {e}; run WRITE_SEEDS=1 cargo test -p rfc6455-tests --test fuzz_seeds", dir.display())
            })
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        on_disk.sort();
        let mut names: Vec<String> = expected.iter().map(|s| s.name.to_string()).collect();
        names.sort();
        assert_eq!(on_disk, names, "{target}: run WRITE_SEEDS=1 cargo test -p rfc6455-tests --test fuzz_seeds");
        for seed in expected {
            let bytes = std::fs::read(dir.join(seed.name)).unwrap();
            assert!(bytes == seed.file_bytes(), "{target}/{} is stale: run WRITE_SEEDS=1", seed.name);
        }
    }
}

#[test]
fn every_seed_passes_its_harness() {
    for seed in seeds() {
        seed.run();
    }
}

/// The connection seeds read back, through `arbitrary` as the targets read
/// them, to the scripts written here (a field left out of
/// `Script::to_fuzz_input` once made every seed another script).
#[cfg(feature = "fuzzing")]
#[test]
fn script_seeds_decode_to_their_scripts() {
    use arbitrary::{Arbitrary, Unstructured};
    for seed in seeds() {
        if let Input::Script(_, script) = &seed.input {
            let bytes = seed.file_bytes();
            let decoded = Script::arbitrary_take_rest(Unstructured::new(&bytes)).expect("a script");
            assert_eq!(&decoded, script, "{}/{}", seed.target, seed.name);
        }
    }
}
