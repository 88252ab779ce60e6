import Foundation
import ProcessSpawn

@testable import hikyaku_sim

/// A raw SMTP client in Python (sockets only), run as a child process: it speaks exactly the
/// lines a test gives, pipelined as grouped, and reports every reply, so tests can check
/// replies and their order on the wire.
///
/// A session is a list of steps; a step is either lines sent in one write (one reply read
/// per line) or `.data(content)` (content, then `.`, one reply). Replies are reported by
/// their last line (`250 HELP` for an EHLO); `closed` when the server closed the connection,
/// after which the session ends.
enum SMTPDriver {
    enum Step: Sendable {
        case send([String])
        case data(String)

        static func command(_ line: String) -> Step { .send([line]) }

        var json: Any {
            switch self {
            case .send(let lines): lines
            case .data(let content): ["data": content]
            }
        }
    }

    struct Session: Sendable {
        var steps: [Step]
        /// Seconds to wait before connecting.
        var delay: Double = 0
    }

    /// Runs the sessions one after another from `source` to `host:port`; returns the
    /// replies of each session, the greeting first.
    static func run(host: String, port: Int, source: String, sessions: [Session]) async throws -> [[String]] {
        let plan: [String: Any] = [
            "host": host, "port": port, "source": source,
            "sessions": sessions.map { ["delay": $0.delay, "steps": $0.steps.map(\.json)] },
        ]
        let planJSON = String(decoding: try JSONSerialization.data(withJSONObject: plan), as: UTF8.self)
        let output = try await Subprocess.run(["python3", "-c", Self.script, planJSON])
        guard output.status == 0 else {
            throw DriverError(description: "python3 exited \(output.status): \(output.standardError)")
        }
        return try JSONSerialization.jsonObject(with: Data(output.standardOutput.utf8)) as! [[String]]
    }

    /// One session.
    static func run(host: String, port: Int, source: String, steps: [Step]) async throws -> [String] {
        try await Self.run(host: host, port: port, source: source, sessions: [Session(steps: steps)])[0]
    }

    struct DriverError: Error, CustomStringConvertible {
        let description: String
    }

    static let script = #"""
        import json, socket, sys, time

        plan = json.loads(sys.argv[1])

        def read_reply(f):
            last = None
            while True:
                line = f.readline()
                if not line:
                    return "closed"
                last = line.decode("utf-8", "replace").rstrip("\r\n")
                if len(last) < 4 or last[3] != "-":
                    return last

        results = []
        for session in plan["sessions"]:
            time.sleep(session["delay"])
            s = socket.create_connection((plan["host"], plan["port"]), timeout=10, source_address=(plan["source"], 0))
            f = s.makefile("rb")
            replies = [read_reply(f)]
            for step in session["steps"]:
                if replies[-1] == "closed":
                    break
                try:
                    if isinstance(step, dict):
                        s.sendall(step["data"].encode() + b"\r\n.\r\n")
                        replies.append(read_reply(f))
                    else:
                        s.sendall("".join(line + "\r\n" for line in step).encode())
                        for _ in step:
                            replies.append(read_reply(f))
                            if replies[-1] == "closed":
                                break
                except (BrokenPipeError, ConnectionResetError):
                    replies.append("closed")
            s.close()
            results.append(replies)
        print(json.dumps(results))
        """#
}
