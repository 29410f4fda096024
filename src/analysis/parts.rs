//! The parts of an analysis after matching, run side by side on the cores and returned in
//! their order, so that the report does not depend on the threads.

use super::{AnalysisError, EndpointReport, MatchingReport, ResponseReport};
use crate::cores;

/// One part of an analysis after matching, as [`run_parts`] returns it. A handful exist per
/// analysis and each is moved once: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub(super) enum Part {
    Matching(MatchingReport),
    /// The endpoint's name and its report.
    Endpoint(String, Result<EndpointReport, AnalysisError>),
    Response(Result<Option<ResponseReport>, AnalysisError>),
    /// The part did not run: the caller asked the analysis to stop.
    Cancelled,
}

/// Runs independent parts on as many threads as there are cores, at most `max_threads` (each
/// thread takes the next part not yet taken; the first parts should be the longest) and
/// returns their results in the parts' order: the numbers do not depend on the threads.
pub(super) fn run_parts<'a, T: Send>(
    parts: Vec<Box<dyn FnOnce() -> T + Send + 'a>>,
    max_threads: usize,
) -> Vec<T> {
    let threads = cores().min(parts.len()).min(max_threads);
    if threads <= 1 {
        return parts.into_iter().map(|part| part()).collect();
    }
    let n = parts.len();
    let queue = std::sync::Mutex::new(parts.into_iter().enumerate());
    let results = std::sync::Mutex::new((0..n).map(|_| None).collect::<Vec<Option<T>>>());
    let work = || loop {
        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
        let Some((k, part)) = next else { break };
        let done = part();
        results.lock().unwrap_or_else(|e| e.into_inner())[k] = Some(done);
    };
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(work);
        }
        work();
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Results come back in the parts' order whichever part ends first, every part runs
    /// once, and with more than one core the parts are shared among threads.
    #[test]
    fn parts_return_in_order_and_share_the_cores() {
        let threads = std::sync::Mutex::new(std::collections::HashSet::new());
        let mut parts: Vec<Box<dyn FnOnce() -> usize + Send + '_>> = Vec::new();
        for k in 0..6usize {
            let threads = &threads;
            parts.push(Box::new(move || {
                // The first parts take longest, so later ones finish first on another thread.
                std::thread::sleep(std::time::Duration::from_millis(5 * (6 - k) as u64));
                threads.lock().unwrap().insert(std::thread::current().id());
                k * 10
            }));
        }
        assert_eq!(run_parts(parts, usize::MAX), vec![0, 10, 20, 30, 40, 50]);
        // With several cores, more than one thread took parts (the first part alone keeps
        // one busy for 30 ms); how many depends on when each thread starts.
        let used = threads.lock().unwrap().len();
        assert_eq!(used >= 2, cores() >= 2, "{used} threads");
    }
}
