// swift-tools-version:6.0
import PackageDescription

// Ferry: a migration workbench. FerryKit is the core; each adapter is its own target under
// Plugins/ and depends on FerryKit only; the `ferry` executable wires the built-ins together.
let package = Package(
    name: "Ferry",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "ferry", targets: ["ferry"]),
        .library(name: "FerryKit", targets: ["FerryKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        // Property tests only: parsers fed sizes, offsets and counts at the integer limits.
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // The system zlib, for deflate-compressed VMDK grains.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "FerryKit",
            dependencies: [
                "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(name: "PhysicalSource", dependencies: ["FerryKit"], path: "Plugins/PhysicalSource"),
        .target(name: "VMwareSource", dependencies: ["FerryKit", "CZlib"], path: "Plugins/VMwareSource"),
        .target(
            name: "AWSTarget",
            dependencies: ["FerryKit", .product(name: "Crypto", package: "swift-crypto")],
            path: "Plugins/AWSTarget"
        ),
        .target(name: "SandboxTarget", dependencies: ["FerryKit", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto")], path: "Plugins/SandboxTarget", exclude: ["README.md"]),
        .executableTarget(
            name: "ferry",
            dependencies: [
                "FerryKit", "PhysicalSource", "VMwareSource", "AWSTarget", "SandboxTarget",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "FerryKitTests", dependencies: ["FerryKit", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "PhysicalSourceTests", dependencies: ["PhysicalSource", "FerryKit"]),
        .testTarget(name: "VMwareSourceTests", dependencies: ["VMwareSource", "FerryKit", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "AWSTargetTests", dependencies: ["AWSTarget", "FerryKit"]),
        .testTarget(name: "SandboxTargetTests", dependencies: ["SandboxTarget", "FerryKit"]),
        // Runs the built `ferry` executable as a user would.
        .testTarget(name: "FerryCLITests", dependencies: ["ferry", "FerryKit"]),
    ]
)
