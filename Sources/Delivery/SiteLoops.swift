import RelayCore
import Synchronization

/// How many of a worker process's delivery loops each site holds, so that one site's
/// backlog cannot fill them all (`delivery.max_loops_per_site`): with every loop on a slow
/// site, other due destinations — a rate-limited site among them — would wait until one
/// comes free, and fall below their limits. A loop that finds a destination of a site at
/// its bound leaves it to the loops already there and looks for another.
final class SiteLoops: Sendable {
    private let counts = Mutex<[SiteName: Int]>([:])
    let bound: Int

    init(bound: Int) {
        self.bound = bound
    }

    /// Counts one more loop on `site`; false (nothing counted) when it holds `bound` already.
    func enter(_ site: SiteName) -> Bool {
        counts.withLock { counts in
            let held = counts[site, default: 0]
            guard held < bound else { return false }
            counts[site] = held + 1
            return true
        }
    }

    func leave(_ site: SiteName) {
        counts.withLock { counts in
            let held = counts[site, default: 0] - 1
            counts[site] = held > 0 ? held : nil
        }
    }
}
