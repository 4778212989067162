//! How a session's state is decided.
//!
//! Without live signals (no collector running), a session is `working` while
//! its transcript saw activity in the last [`RECENT_MS`], and `completed`
//! after that.

use crate::model::SessionState;

/// Activity this recent makes a session without live signals count as active.
pub const RECENT_MS: i64 = 5 * 60 * 1000;

/// The state to show for a stored session at `now`.
pub fn effective_state(stored: SessionState, last_activity: i64, now: i64) -> SessionState {
    if stored == SessionState::Completed && now - last_activity < RECENT_MS { SessionState::Working } else { stored }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_transcript_activity_counts_as_working() {
        let now = 10 * RECENT_MS;
        assert_eq!(effective_state(SessionState::Completed, now - 1000, now), SessionState::Working);
        assert_eq!(effective_state(SessionState::Completed, now - RECENT_MS, now), SessionState::Completed);
        assert_eq!(effective_state(SessionState::Dead, now, now), SessionState::Dead);
    }
}
