#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| agentwatch_fuzz::document(data));
