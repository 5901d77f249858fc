#![no_main]
libfuzzer_sys::fuzz_target!(|s: rfc6455::fuzzing::Script| rfc6455::fuzzing::connection(rfc6455::Role::Client, &s));
