//! Gemini CLI, driven offline.
