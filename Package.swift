// swift-tools-version:6.0
import PackageDescription

// Ferry: a migration workbench. FerryCore is what every adapter depends on (the model, the
// lifecycle, the capability protocols, BlockReader); FerryKit is the engine built on it; each
// adapter is its own target under Plugins/ and depends on FerryCore only; the `ferry`
// executable wires the built-ins together. See docs/architecture.md.
//
// Linux only (Debian 12 is what it is built and tested on): the code calls Glibc directly and
// uses what only Linux has (SEEK_DATA/SEEK_HOLE values, F_SETPIPE_SZ, /proc, posix_spawn's
// closefrom, QEMU's user networking). SwiftPM has no way to say "Linux only", so no
// `platforms` are listed rather than a macOS version the code does not build for.
let package = Package(
    name: "Ferry",
    products: [
        .executable(name: "ferry", targets: ["ferry"]),
        .library(name: "FerryCore", targets: ["FerryCore"]),
        .library(name: "FerryKit", targets: ["FerryKit"]),
        // The agent that runs on the source machine: built with --static-swift-stdlib, it
        // needs nothing the machine lacks (no Swift, no SQLite, no OpenSSL).
        .executable(name: "ferry-agent", targets: ["ferry-agent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        // TLS on the replication channel, and the project's certificate that agents pin.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        // Property tests only: parsers fed sizes, offsets and counts at the integer limits.
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // The system zlib, for deflate-compressed VMDK grains.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // gettid and CPU affinity, which glibc declares only with _GNU_SOURCE (the trace's fence).
        .target(name: "CLinuxThread"),
        // Foundation and Crypto only: an adapter that depends on it pulls in no database,
        // no networking stack, no YAML.
        .target(name: "FerryCore", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // The replication protocol and the agent's side of it: what the agent on a source
        // machine is built from, so nothing here may need a library a plain Linux lacks
        // (BoringSSL comes compiled in with swift-nio-ssl; zlib is on every system).
        .target(
            name: "FerryReplication",
            dependencies: [
                "FerryCore",
                "CZlib",
                "CLinuxThread",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "FerryKit",
            dependencies: [
                "FerryCore",
                "FerryReplication",
                "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            // Embedded in the binary, so that an installed `ferry` needs no repository:
            // recipes/ (Recipes/BuiltIn links to it) and the adapter scaffold's files.
            resources: [.embedInCode("Recipes/BuiltIn"), .embedInCode("External/Scaffold/Templates")]
        ),
        .target(name: "PhysicalSource", dependencies: ["FerryCore"], path: "Plugins/PhysicalSource"),
        .target(name: "VMwareSource", dependencies: ["FerryCore", "CZlib"], path: "Plugins/VMwareSource"),
        .target(
            name: "AWSTarget",
            dependencies: ["FerryCore", .product(name: "Crypto", package: "swift-crypto")],
            path: "Plugins/AWSTarget"
        ),
        // GRDB for the sandbox's own database (sandbox/sandbox.sqlite), not the workspace's.
        .target(name: "SandboxTarget", dependencies: ["FerryCore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto")], path: "Plugins/SandboxTarget", exclude: ["README.md"]),
        .executableTarget(
            name: "ferry-agent",
            dependencies: [
                "FerryCore", "FerryReplication", "PhysicalSource",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "ferry",
            dependencies: [
                "FerryCore", "FerryReplication", "FerryKit", "PhysicalSource", "VMwareSource", "AWSTarget", "SandboxTarget",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What several test targets share: stub adapters, seeded random bytes, sparse test
        // images, free ports, and the servers tests start (moto, a static web server).
        .target(name: "FerryTestSupport", dependencies: ["FerryCore", "SandboxTarget"], path: "Tests/FerryTestSupport"),
        .testTarget(name: "FerryCoreTests", dependencies: ["FerryCore", "FerryTestSupport"]),
        .testTarget(name: "FerryKitTests", dependencies: ["FerryKit", "FerryReplication", "FerryCore", "FerryTestSupport", .product(name: "PropertyBased", package: "swift-property-based")]),
        // Adapter tests use the engine's readers and workspace only as the CLI would hand them in.
        .testTarget(name: "PhysicalSourceTests", dependencies: ["FerryTestSupport", "PhysicalSource", "FerryCore", "FerryKit"]),
        .testTarget(name: "VMwareSourceTests", dependencies: ["FerryTestSupport", "VMwareSource", "FerryCore", "FerryKit", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "AWSTargetTests", dependencies: ["FerryTestSupport", "AWSTarget", "FerryCore", "FerryKit"]),
        .testTarget(name: "SandboxTargetTests", dependencies: ["FerryTestSupport", "SandboxTarget", "FerryCore", "FerryKit", .product(name: "GRDB", package: "GRDB.swift")]),
        // Runs the built `ferry` executable as a user would.
        .testTarget(name: "FerryCLITests", dependencies: ["FerryTestSupport", "ferry", "FerryCore", "FerryKit", "SandboxTarget", "VMwareSource"]),
    ]
)
