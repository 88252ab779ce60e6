import RelayCore

/// Which parts of the relay a process runs. Every role is stateless around Redis, so any
/// number of processes of each can run on any number of hosts.
public enum Role: String, CaseIterable, Sendable {
    /// SMTP listeners: accept, authorise, enqueue.
    case ingest
    /// Delivery workers: claim, deliver, record outcomes, retry.
    case worker
    /// The HTTP API (`api:`): send over HTTPS, through the same intake as SMTP.
    case api
    /// The webhook dispatcher: events to the accounts' signed webhooks, and the trimming
    /// of the events stream by acknowledgement.
    case webhooks
    /// The bounce listener (`bounces.listen`): the inbound MX of the return-path domains,
    /// recording asynchronous bounces and complaints.
    case bounce
    /// The log archiver (`logs:`): the events stream into the log store, with the retention
    /// sweep. With SQLite one runs per store (a lease in Redis; others wait); with
    /// PostgreSQL any number share the stream.
    case archiver
    /// The web console (`console.listen`, `console.plain_listen`): logs, statistics, users.
    case console
    /// The campaign runner: fans campaigns out through the intake (each campaign held by one
    /// runner at a time, by lease) and counts their events.
    case campaigns
    /// Every role, in one process (a single machine, or `make run`).
    case all

    var runsIngest: Bool { self == .ingest || self == .all }
    var runsWorker: Bool { self == .worker || self == .all }
    var runsAPI: Bool { self == .api || self == .all }
    var runsWebhooks: Bool { self == .webhooks || self == .all }
    var runsBounceListener: Bool { self == .bounce || self == .all }
    /// The archiver runs in `all` only when a store is configured (`logs.sqlite_path` or `logs.postgres_url`).
    func runsArchiver(_ logs: LogSettings) -> Bool { self == .archiver || (self == .all && logs.isConfigured) }
    var runsConsole: Bool { self == .console || self == .all }
    var runsCampaigns: Bool { self == .campaigns || self == .all }
}
