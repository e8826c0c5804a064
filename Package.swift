// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    // The generic registry (ResourceStore<Strategy>, WatchCache<Object>) is instantiated in another module than the
    // one defining it; the profile showed a third of the server's CPU in run-time generic metadata lookups. Release
    // builds only, so debug builds stay quick.
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]

let package = Package(
    name: "apoxy-backends",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "apoxy", targets: ["apoxy"]),
        .executable(name: "apoxy-bench", targets: ["apoxy-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        // Already in the graph through gRPC: etcd's unary calls on HTTP/2 (see EtcdUnaryClient).
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        // Already in the graph through Hummingbird: the HTTP request parts a connection handler sees.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        // Already in the graph through grpc-swift-nio-transport: X.509 parsing (client certificate subjects) and
        // key generation for the self-signed serving certificate.
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        // Prometheus' registry and text exposition (with swift-atomics and swift-metrics' CoreMetrics, both small).
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // Persistent hash maps: an xDS snapshot shares every unchanged resource with the one before it.
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        // Already in the graph through HummingbirdTesting: the CLI's and the control plane's pooled HTTP client.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // FilePath, which swift-subprocess's API takes.
        .package(url: "https://github.com/apple/swift-system.git", from: "1.5.0"),
    ],
    targets: [
        // Layer 0: the SQLite C library from the system (Debian: libsqlite3-dev).
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // Layer 0: epoll from the C library, for the benchmark's watch fan-in (instead of NIO's internal CNIOLinux).
        .systemLibrary(name: "CEpoll"),
        // Layer 1: API types, schema, validation, patch engines. Pure: no I/O.
        .target(name: "ApoxyAPI", swiftSettings: swiftSettings),
        // Layer 1: the process's metrics (Prometheus registry, help texts, scrape hooks), used by every layer below.
        .target(
            name: "ApoxyMetrics", dependencies: [.product(name: "Prometheus", package: "swift-prometheus")], swiftSettings: swiftSettings),
        // Layer 2: revisioned storage (protocol, SQLite, in-memory).
        .target(
            name: "ApoxyStorage",
            dependencies: [
                "CSQLite", "ApoxyMetrics",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Layer 2: revisioned storage on an etcd v3 cluster (gRPC), for several API server replicas.
        .target(
            name: "ApoxyEtcd",
            dependencies: [
                "ApoxyStorage", "EtcdAPI",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // Layer 3: one generic store driven by per-resource strategies.
        .target(
            name: "ApoxyRegistry",
            dependencies: [
                "ApoxyAPI", "ApoxyStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Layer 4: the Kubernetes-style HTTP API (Hummingbird).
        .target(
            name: "ApoxyServer",
            dependencies: [
                "ApoxyAPI", "ApoxyStorage", "ApoxyRegistry", "ApoxyYAML", "ApoxyMetrics",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP clients: a pooled one on async-http-client (CLI, control plane) and one exact HTTP/1.1 connection on
        // SwiftNIO (tests, benchmarks).
        .target(
            name: "ApoxyClient",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Long-running child processes with a log file on swift-subprocess, for the tests and the benchmark.
        .target(
            name: "ApoxyProcess",
            dependencies: [
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        // YAML documents to and from JSONValue (Yams), for request bodies and the CLI's manifests.
        .target(
            name: "ApoxyYAML",
            dependencies: ["ApoxyAPI", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // The `apoxy backend` and `apoxy version` commands: kubeconfig, YAML manifests, output formats, edit.
        .target(
            name: "ApoxyCLI",
            dependencies: [
                "ApoxyAPI", "ApoxyClient", "ApoxyYAML",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // Envoy's xDS messages: a minimal subset generated from upstream descriptors (scripts/proto/), committed.
        .target(
            name: "EnvoyAPI",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            // The checksum of the upstream sources the generated files came from (scripts/proto/), not a resource.
            exclude: ["Generated/PROTOS.sha256"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // etcd's v3 API messages (etcdserverpb, mvccpb): a minimal subset generated from upstream sources
        // (scripts/proto/, generate.py --etcd), committed. Messages only; gRPC method descriptors are written by hand.
        .target(
            name: "EtcdAPI",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            // The checksum of the upstream sources the generated files came from (scripts/proto/), not a resource.
            exclude: ["Generated/PROTOS.sha256"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // Translation: API objects -> intermediate model -> Envoy resources. Pure functions, no I/O.
        .target(
            name: "ApoxyTranslation",
            dependencies: [
                "ApoxyAPI", "EnvoyAPI", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "HashTreeCollections", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        // The xDS server: ADS (state of the world and incremental) over gRPC, versioned snapshots, ACK/NACK per node.
        .target(
            name: "ApoxyXDS",
            dependencies: [
                "EnvoyAPI", "ApoxyMetrics",
                .product(name: "HashTreeCollections", package: "swift-collections"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The control plane: watches the API, translates on every change, publishes xDS snapshots, writes status.
        .target(
            name: "ApoxyControlPlane",
            dependencies: [
                "ApoxyAPI", "ApoxyClient", "ApoxyTranslation", "ApoxyXDS", "ApoxyMetrics", "EnvoyAPI",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HashTreeCollections", package: "swift-collections"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        // The thin executable.
        .executableTarget(
            name: "apoxy",
            dependencies: [
                "ApoxyAPI", "ApoxyServer", "ApoxyCLI", "ApoxyControlPlane", "ApoxyTranslation", "ApoxyXDS", "ApoxyStorage",
                "ApoxyEtcd", "ApoxyMetrics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The benchmark: API over HTTP against raw storage (SQLite, and etcd through ApoxyEtcd's client), in one run.
        .executableTarget(
            name: "apoxy-bench",
            dependencies: [
                "ApoxyAPI", "ApoxyClient", "ApoxyStorage", "ApoxyEtcd", "ApoxyTranslation", "ApoxyXDS", "ApoxyServer", "CEpoll",
                "ApoxyProcess",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ApoxyAPITests", dependencies: ["ApoxyAPI", "ApoxyTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "ApoxyYAMLTests", dependencies: ["ApoxyAPI", "ApoxyYAML", "ApoxyTestSupport"], swiftSettings: swiftSettings),
        // The registry without sockets: ResourceStore and WatchCache over MemoryStorage.
        .testTarget(
            name: "ApoxyRegistryTests",
            dependencies: ["ApoxyAPI", "ApoxyRegistry", "ApoxyStorage", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        // The HTTP layer without sockets: the whole application through HummingbirdTesting's router mode.
        .testTarget(
            name: "ApoxyServerTests",
            dependencies: [
                "ApoxyAPI", "ApoxyServer", "ApoxyStorage",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ApoxyStorageTests",
            dependencies: [
                "ApoxyStorage", "ApoxyEtcd", "ApoxyTestSupport", "ApoxyRegistry", "ApoxyAPI",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Child processes and the `apoxy server` child, shared by the integration and CLI tests.
        .target(
            name: "ApoxyTestSupport",
            dependencies: [
                "ApoxyClient", "ApoxyProcess", .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Tests/ApoxyTestSupport",
            swiftSettings: swiftSettings
        ),
        // Integration tests: the real server on loopback, a real SQLite file, real kubectl.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "ApoxyServer", "ApoxyClient", "ApoxyAPI", "ApoxyStorage", "ApoxyTestSupport", "ApoxyProcess",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Translator tests: golden in/out files, and our output against the verified reference Envoy objects.
        .testTarget(
            name: "TranslationTests",
            dependencies: [
                "ApoxyAPI", "ApoxyTranslation", "ApoxyTestSupport", "ApoxyYAML", "EnvoyAPI",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "HashTreeCollections", package: "swift-collections"),
            ],
            exclude: ["Golden", "Reference"],
            swiftSettings: swiftSettings
        ),
        // The xDS state machine and the control plane's Programmed bookkeeping.
        .testTarget(
            name: "ControlPlaneTests",
            dependencies: [
                "ApoxyAPI", "ApoxyXDS", "ApoxyControlPlane", "ApoxyTranslation", "EnvoyAPI", "ApoxyServer", "ApoxyStorage",
                "ApoxyClient", "ApoxyMetrics", "ApoxyTestSupport",
                .product(name: "HashTreeCollections", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        // CLI tests: the real `apoxy` binary as a subprocess against a real `apoxy server` (and a TLS terminator).
        .testTarget(
            name: "CLITests",
            dependencies: [
                "ApoxyAPI", "ApoxyCLI", "ApoxyClient", "ApoxyTestSupport", "ApoxyYAML",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
