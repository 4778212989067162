#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| agentwatch_fuzz::gemini_line(data));
