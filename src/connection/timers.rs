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

    /// The earliest deadline, leaving out `except`.
    pub(super) fn next(&self, except: Option<Timer>) -> Option<Duration> {
        Timer::ALL.into_iter().filter(|&t| Some(t) != except).filter_map(|t| self.0[Self::slot(t)]).min()
    }

    /// The timer that fires first among those due at `now`, leaving out
    /// `skip` (the table's order breaks ties: a deadline before the
    /// keepalive ping).
    pub(super) fn due(&self, now: Duration, skip: &TimerSet) -> Option<Timer> {
        Timer::ALL
            .into_iter()
            .filter(|&t| !skip.contains(t) && self.0[Self::slot(t)].is_some_and(|at| at <= now))
            .min_by_key(|&t| self.0[Self::slot(t)])
    }
}

/// A set of timers, without heap.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct TimerSet([bool; 4]);

impl TimerSet {
    pub(super) fn push(&mut self, timer: Timer) {
        self.0[Timers::slot(timer)] = true;
    }

    fn contains(&self, timer: Timer) -> bool {
        self.0[Timers::slot(timer)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_ties_in_table_order() {
        let mut t = Timers::default();
        let none = TimerSet::default();
        assert_eq!((t.next(None), t.due(Duration::MAX, &none)), (None, None));
        t.set(Timer::Idle, Some(Duration::from_secs(5)));
        t.set(Timer::Keepalive, Some(Duration::from_secs(3)));
        assert_eq!(t.next(None), Some(Duration::from_secs(3)));
        assert_eq!(t.due(Duration::from_secs(2), &none), None);
        assert_eq!(t.due(Duration::from_secs(9), &none), Some(Timer::Keepalive));
        t.set(Timer::Close, Some(Duration::from_secs(3)));
        assert_eq!(t.due(Duration::from_secs(9), &none), Some(Timer::Close));
        let mut skip = TimerSet::default();
        skip.push(Timer::Close);
        assert_eq!(t.due(Duration::from_secs(9), &skip), Some(Timer::Keepalive));
        assert_eq!(t.next(Some(Timer::Close)), Some(Duration::from_secs(3)));
        t.set(Timer::Keepalive, None);
        assert_eq!(t.next(Some(Timer::Close)), Some(Duration::from_secs(5)));
        t.keep_only(&[Timer::Idle]);
        assert_eq!(t.next(None), Some(Duration::from_secs(5)));
    }
}
