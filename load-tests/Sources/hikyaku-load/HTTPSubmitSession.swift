import Foundation
import NIOCore
import NIOHTTP1

/// One keep-alive HTTP connection to the relay's API submitting messages one request after
/// another: `POST /v1/messages` with one message, or with `batch` > 0 `POST /v1/messages/batch`
/// with up to `batch` personalizations (one message each). The connection is reopened
/// after `perConnection` requests, when the server closes it, or after an error.
///
/// Each message is recorded with the request's send and answer times: code 250 and the
/// relay's id as queue id when it was queued (a `202`, or its item of a batch's `202`),
/// else the HTTP status (0: no answer) and the API's error code.
struct HTTPSubmitSession {
    let address: SocketAddress
    let hostHeader: String
    let apiKey: String
    let batch: Int
    let group: EventLoopGroup
    let factory: MessageFactory
    let text: String
    let pacer: Pacer
    let counters: Counters
    let recorder: Recorder?
    let perConnection: Int

    func run() async {
        var pending: [Int] = []
        while true {
            if pending.isEmpty { pending = await counters.take(max(1, batch)) }
            guard !pending.isEmpty else { return }
            let connection: HTTPClientConnection
            do {
                connection = try await HTTPClientConnection.connect(
                    to: address, group: group, connectTimeout: .seconds(10), requestTimeout: .seconds(60))
            } catch {
                await counters.failed()
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            var sent = 0
            while sent < perConnection {
                let seqs = pending.isEmpty ? await counters.take(max(1, batch)) : pending
                pending = []
                guard !seqs.isEmpty else { break }
                await pacer.acquire(seqs.count)
                let submitted = Clock.micros()
                let keepAlive: Bool
                do {
                    keepAlive = try await submit(seqs, submitted: submitted, on: connection)
                } catch {
                    // No answer: recorded with code 0 (the client would send them again);
                    // the session reconnects.
                    await counters.failed(seqs.count)
                    let now = Clock.micros()
                    for seq in seqs {
                        recorder?.add(
                            seq: seq, recipient: factory.recipient(for: seq), submitted: submitted, accepted: now, code: 0, queueID: nil)
                    }
                    break
                }
                sent += 1
                if !keepAlive { break }
            }
            await connection.close()
        }
    }

    /// Sends one request for `seqs` and records its answer; returns whether the connection stays open.
    private func submit(_ seqs: [Int], submitted: Int64, on connection: HTTPClientConnection) async throws -> Bool {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: hostHeader)
        headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        headers.add(name: "Content-Type", value: "application/json")
        let path: String
        let body: ByteBuffer
        if batch > 0 {
            path = "/v1/messages/batch"
            body = factory.batchJSON(seqs: seqs, text: text)
        } else {
            path = "/v1/messages"
            body = factory.singleJSON(seq: seqs[0], recipient: factory.recipient(for: seqs[0]), text: text)
        }
        let response = try await connection.post(path: path, headers: headers, body: body)
        let answered = Clock.micros()
        await counters.answered(after: answered - submitted)
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any]
        // Per message: the relay's id when queued, else the error's code.
        var outcomes: [(id: String?, error: String?)]
        if response.status == 202, batch > 0, let results = json?["results"] as? [[String: Any]], results.count == seqs.count {
            outcomes = results.map { ($0["id"] as? String, ($0["error"] as? [String: Any])?["code"] as? String ?? "unknown") }
            outcomes = outcomes.map { $0.id != nil ? ($0.id, nil) : (nil, $0.error) }
        } else if response.status == 202, batch == 0, let id = json?["id"] as? String {
            outcomes = [(id, nil)]
        } else {
            let code = (json?["error"] as? [String: Any])?["code"] as? String ?? "status \(response.status)"
            outcomes = Array(repeating: (nil, code), count: seqs.count)
        }
        var accepted = 0
        for (seq, outcome) in zip(seqs, outcomes) {
            if outcome.id != nil {
                accepted += 1
            } else if response.status == 202 {
                await counters.refused("item:\(outcome.error ?? "unknown")")
            } else {
                await counters.refused(String(response.status))
            }
            recorder?.add(
                seq: seq, recipient: factory.recipient(for: seq), submitted: submitted, accepted: answered,
                code: outcome.id != nil ? 250 : response.status, queueID: outcome.id, httpStatus: response.status, error: outcome.error)
        }
        await counters.accepted(accepted)
        return response.keepAlive
    }
}
