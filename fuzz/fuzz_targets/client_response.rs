#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rfc6455::fuzzing::client_response(data));
