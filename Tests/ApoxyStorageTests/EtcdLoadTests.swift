import ApoxyEtcd
import ApoxyStorage
import ApoxyTestSupport
import Foundation
import Logging
import Testing

/// etcd under sustained load through one client: thousands of requests on one connection in a few seconds.
@Suite("etcd sustained load", .timeLimit(.minutes(2)))
struct EtcdLoadTests {
    @Test func thousandsOfRequestsOnOneClientAllSucceed() async throws {
        try await StorageFixture.etcd.with { storage in
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        for i in 0..<250 {
                            let created = try await storage.create(key: "/load/\(worker)-\(i)", value: bytes("v"))
                            _ = try await storage.update(key: created.key, value: bytes("w"), expectedRevision: created.modRevision)
                            #expect(try await storage.get(key: created.key)?.value == bytes("w"))
                        }
                    }
                }
                try await group.waitForAll()
            }
            print("etcd sustained load: 6,000 requests in \(ContinuousClock.now - started)")
            #expect(try await storage.list(prefix: "/load/").items.count == 2_000)
        }
    }
}
