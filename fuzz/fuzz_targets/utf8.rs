#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rfc6455::fuzzing::utf8(data));
