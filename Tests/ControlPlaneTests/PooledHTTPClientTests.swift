import ApoxyAPI
import ApoxyClient
import ApoxyTestSupport
import Testing

@testable import ApoxyControlPlane

/// The pooled client the control plane and the CLI share, against an in-process API server.
@Suite("Pooled HTTP client", .timeLimit(.minutes(1)))
struct PooledHTTPClientTests {
    @Test func readsWholeBodiesUpToItsBoundAndRefusesLongerOnes() async throws {
        try await InProcessAPI.run { port, client in
            for index in 0..<5 {
                try await InProcessAPI.send(client, "POST", Backend.descriptor.collectionPath, InProcessAPI.backend("b\(index)"))
            }
            let path = Backend.descriptor.collectionPath
            try await PooledHTTPClient.withClient(host: "127.0.0.1", port: port) { pooled in
                // Requests in a row on the pool, each read in full.
                for _ in 0..<20 {
                    let list = try await pooled.request("GET", path, headers: [("Accept", "application/json")], timeout: .seconds(10))
                    #expect(list.status == 200)
                    #expect(try JSONValue.parse(list.text)["items"]?.arrayValue?.count == 5)
                }
            }
            try await PooledHTTPClient.withClient(
                host: "127.0.0.1", port: port, limits: PooledHTTPClient.Limits(maxResponseBytes: 512)
            ) { pooled in
                await #expect {
                    _ = try await pooled.request("GET", path)
                } throws: { error in
                    (error as? HTTPClientError)?.message == "the response body is larger than 512 bytes"
                }
                // The pool still works after a refused body.
                let small = try await pooled.request("GET", "\(path)/b0")
                #expect(small.status == 200)
            }
        }
    }

    @Test func aStreamedBodyArrivesLineByLine() async throws {
        try await InProcessAPI.run { port, client in
            try await PooledHTTPClient.withClient(host: "127.0.0.1", port: port) { pooled in
                let (response, lines) = try await pooled.streamLines("GET", "\(Backend.descriptor.collectionPath)?watch=1")
                #expect(response.status == 200)
                try await InProcessAPI.send(client, "POST", Backend.descriptor.collectionPath, InProcessAPI.backend("streamed"))
                var iterator = lines.makeAsyncIterator()
                let line = try await iterator.next()
                let event = try JSONValue.parse(line ?? "")
                #expect(event["type"]?.stringValue == "ADDED")
                #expect(event["object"]?["metadata"]?["name"]?.stringValue == "streamed")
            }
        }
    }

    @Test func theBackplanesRequestTimeoutEndsARequestTheServerNeverAnswers() async throws {
        // `apoxy backplane --request-timeout 1s`: lists and writes to an API server that accepts and never answers.
        try await withSilentPort { port in
            try await APIEndpoint(host: "127.0.0.1", port: port, requestTimeout: .seconds(1)).withConnection { api in
                let started = ContinuousClock.now
                await #expect {
                    _ = try await api.request("GET", Backend.descriptor.collectionPath)
                } throws: { error in
                    (error as? HTTPClientError)?.message == "the request timed out"
                }
                let took = ContinuousClock.now - started
                #expect(took >= .seconds(1) && took < .seconds(10), "took \(took)")
            }
        }
    }
}
