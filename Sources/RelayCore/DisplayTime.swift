/// Human renderings of times in operator output (the CLI's tables, the console's pages).
public enum DisplayTime {
    /// `850ms`, `42s`, `4m12s`, `2h03m`, `3d04h`; `no expiry` for a negative value.
    public static func span(milliseconds ms: Int64) -> String {
        if ms < 0 { return "no expiry" }
        if ms < 1000 { return "\(ms)ms" }
        let seconds = ms / 1000
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(pad(seconds % 60))s" }
        if seconds < 86_400 { return "\(seconds / 3600)h\(pad(seconds % 3600 / 60))m" }
        return "\(seconds / 86_400)d\(pad(seconds % 86_400 / 3600))h"
    }

    /// `now` when `time` is not after `now`, else `in 4m12s`.
    public static func relative(_ time: Int64, now: Int64) -> String {
        time <= now ? "now" : "in " + span(milliseconds: time - now)
    }

    private static func pad(_ value: Int64) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
