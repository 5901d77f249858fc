//! The timer table: one deadline per [`Timer`], in one array, so that the
//! next wake-up is one scan and which timers run is the state table's call
//! ([`Phase::allows`](crate::state::Phase::allows)).

use core::time::Duration;

use crate::state::Timer;

/// When each timer fires, if it is armed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Timers([Option<Duration>; 4]);

impl Timers {
    fn slot(timer: Timer) -> usize {
        match timer {
            Timer::Handshake => 0,
            Timer::Close => 1,
            Timer::Keepalive => 2,
            Timer::Idle => 3,
        }
    }

    /// Arms `timer` for `at`, or stops it (`None`).
    pub(super) fn set(&mut self, timer: Timer, at: Option<Duration>) {
        self.0[Self::slot(timer)] = at;
    }

    /// Stops every timer not in `running`.
    pub(super) fn keep_only(&mut self, running: &[Timer]) {
        for timer in Timer::ALL {
            if !running.contains(&timer) {
                self.set(timer, None);
            }
        }
    }

    /// The earliest deadline.
    pub(super) fn next(&self) -> Option<Duration> {
        self.0.iter().flatten().min().copied()
    }

    /// The timer that fires first among those due at `now` (the table's
    /// order breaks ties: a deadline before the keepalive ping).
    pub(super) fn due(&self, now: Duration) -> Option<Timer> {
        Timer::ALL
            .into_iter()
            .filter(|&t| self.0[Self::slot(t)].is_some_and(|at| at <= now))
            .min_by_key(|&t| self.0[Self::slot(t)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_ties_in_table_order() {
        let mut t = Timers::default();
        assert_eq!((t.next(), t.due(Duration::MAX)), (None, None));
        t.set(Timer::Idle, Some(Duration::from_secs(5)));
        t.set(Timer::Keepalive, Some(Duration::from_secs(3)));
        assert_eq!(t.next(), Some(Duration::from_secs(3)));
        assert_eq!(t.due(Duration::from_secs(2)), None);
        assert_eq!(t.due(Duration::from_secs(9)), Some(Timer::Keepalive));
        t.set(Timer::Close, Some(Duration::from_secs(3)));
        assert_eq!(t.due(Duration::from_secs(9)), Some(Timer::Close));
        t.keep_only(&[Timer::Idle]);
        assert_eq!(t.next(), Some(Duration::from_secs(5)));
    }
}
